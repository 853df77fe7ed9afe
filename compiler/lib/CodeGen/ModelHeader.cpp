//===- ModelHeader.cpp - The C header of a generated library --------------===//

#include "resnetc/CodeGen/ModelLibrary.h"
#include "resnetc/runtime/ModelApiList.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cctype>
#include <cstring>

using namespace resnetc::codegen;

namespace {

struct ApiEntry {
  const char *name, *result, *params, *doc;
  bool training;
};

const ApiEntry kApi[] = {
#define ENTRY(A, B, name, Field, Result, Params, Signature, Training, Doc)                         \
  {#name, #Result, #Params, Doc, Training},
    RESNETC_MODEL_API_LIST(ENTRY, _, _)
#undef ENTRY
};

/// `text` as a C comment, wrapped before column 80.
void writeComment(llvm::raw_ostream &os, llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> words;
  text.split(words, ' ', -1, /*KeepEmpty=*/false);
  std::string line = "/*";
  for (llvm::StringRef word : words) {
    if (line.size() + 1 + word.size() > 76) {
      os << line << "\n";
      line = " *";
    }
    line += " " + word.str();
  }
  os << line << " */\n";
}

/// The declarations of ModelApiList.h for model `m` (`M` upper case): the
/// context placeholders become the model's context type.
std::string declarations(const std::string &m, const std::string &M, bool training) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (const ApiEntry &entry : kApi) {
    if (entry.training != training)
      continue;
    // "INPUT_SIZE" and friends in the docs are the model's macros.
    std::string doc = entry.doc;
    for (const char *macro : {"INPUT_SIZE", "OUTPUT_SIZE", "BATCH", "CLASSES"})
      for (size_t at = doc.find(macro); at != std::string::npos;
           at = doc.find(macro, at + M.size() + 1 + std::strlen(macro)))
        doc.insert(at, M + "_");
    writeComment(os, doc);
    std::string params = entry.params;
    for (auto [placeholder, type] :
         {std::pair<std::string, std::string>{"CONST_CTX ", "const " + m + "_context *"},
          {"CTX ", m + "_context *"}})
      for (size_t at = params.find(placeholder); at != std::string::npos;
           at = params.find(placeholder, at + type.size()))
        params.replace(at, placeholder.size(), type);
    std::string result = entry.result;
    std::string declaration =
        result + (llvm::StringRef(result).ends_with("*") ? "" : " ") + m + "_" + entry.name;
    // Parameters wrap before column 100, aligned after the parenthesis.
    const size_t indent = declaration.size() + 1;
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(params).split(parts, ", ");
    std::string line = declaration;
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string part = parts[i].str() + (i + 1 < parts.size() ? "," : ";");
      if (i > 0 && line.size() + 1 + part.size() > 99) {
        os << line << "\n";
        line = std::string(indent, ' ') + part;
      } else {
        line += (i > 0 ? " " : "") + part;
      }
    }
    os << line << "\n";
  }
  return text;
}

/// The status codes' enum, guarded so that several model headers (and
/// ModelRuntime.h) can be included together.
std::string statusCodes() {
  std::string text = "#ifndef RESNETC_STATUS_CODES\n#define RESNETC_STATUS_CODES\nenum {\n";
#define ENUMERATOR(name, value, meaning)                                                           \
  text += llvm::formatv("  {0} = {1}, /* {2} */\n", #name, value, meaning).str();
  RESNETC_STATUS_LIST(ENUMERATOR)
#undef ENUMERATOR
  return text + "};\n#endif\n";
}

/// The output's macros: a classifier's logits, or a backbone's feature maps.
std::string outputMacros(const KernelPlan &plan, const std::string &M) {
  const auto &out = plan.outputShape;
  if (plan.outputs.empty())
    return llvm::formatv("/* Output: the logits (scores before softmax), {1} x {2} floats, "
                         "row-major. */\n#define {0}_CLASSES {2}\n#define {0}_OUTPUT_SIZE {3}\n",
                         M, out[0], out[1], out[0] * out[1])
        .str();
  std::string text =
      llvm::formatv("/* Outputs (no classifier): {1} feature maps, float32, NCHW, one after\n"
                    " * another in the output buffer; each has an offset (in floats) into it. */\n"
                    "#define {0}_OUTPUTS {1}\n#define {0}_OUTPUT_SIZE {2}\n",
                    M, plan.outputs.size(), out[0] * out[1]);
  for (const OutputSlot &output : plan.outputs) {
    std::string name = M + "_";
    for (char c : output.name)
      name.push_back(std::isalnum(static_cast<unsigned char>(c))
                         ? char(std::toupper(static_cast<unsigned char>(c)))
                         : '_');
    const auto &s = output.shape;
    text += llvm::formatv("/* {0}: {1} x {2} x {3} x {4} */\n#define {5}_OFFSET {6}\n"
                          "#define {5}_CHANNELS {2}\n#define {5}_HEIGHT {3}\n#define {5}_WIDTH "
                          "{4}\n#define {5}_SIZE {7}\n",
                          output.name, s[0], s[1], s[2], s[3], name,
                          output.offset / int64_t(sizeof(float)), s[0] * s[1] * s[2] * s[3])
                .str();
  }
  return text;
}

} // namespace

void resnetc::codegen::writeModelHeader(llvm::raw_ostream &os, const KernelPlan &plan,
                                        llvm::StringRef source) {
  std::string m = plan.model;
  std::string M;
  for (char c : m)
    M.push_back(char(std::toupper(static_cast<unsigned char>(c))));
  const auto &in = plan.inputShape;
  os << llvm::formatv(
      R"(/* {0}.h: the C API of lib{0}.a, generated by resnetc from {1}. Do not edit.
 *
 *   {0}_context *ctx = {0}_create();
 *   if (!ctx || {0}_load_weights_file(ctx, "{0}.rnw") != RESNETC_OK) ...
 *   {0}_set_threads(ctx, 2);
 *   {0}_run(ctx, images, {2}_INPUT_SIZE, logits, {2}_OUTPUT_SIZE);
 *   {0}_destroy(ctx);
 *
 * Every call returns a status (RESNETC_OK or an error code) and never aborts;
 * {0}_error_message(ctx) says what went wrong. A context may be used by one
 * thread at a time; kernels run on Halide's thread pool, whose size
 * {0}_set_threads sets for the whole process. Link with -lpthread -ldl, and
 * the C++ standard library when linking from C.
 */
#ifndef RESNETC_MODEL_{2}_H
#define RESNETC_MODEL_{2}_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

/* Input: {2}_BATCH images, float32, NCHW (image, channel, row, column),
 * row-major: {3} x {4} x {5} x {6} values. */
#define {2}_BATCH {3}
#define {2}_INPUT_CHANNELS {4}
#define {2}_INPUT_HEIGHT {5}
#define {2}_INPUT_WIDTH {6}
#define {2}_INPUT_SIZE {7}
{13}/* Memory held by a context: activations (planned by liveness) and weights. */
#define {2}_ARENA_BYTES {8}
#define {2}_WEIGHTS_BYTES {9}
#define {2}_ARCHITECTURE_HASH UINT64_C(0x{10})

{12}
typedef struct {0}_context {0}_context;

/* A context with its arena and weight storage; NULL when out of memory. */
{0}_context *{0}_create(void);
{11}
#ifdef __cplusplus
}
#endif

#endif /* RESNETC_MODEL_{2}_H */
)",
      m, source, M, in[0], in[1], in[2], in[3], in[0] * in[1] * in[2] * in[3], plan.arenaBytes,
      plan.weightsBytes, llvm::format_hex_no_prefix(plan.architectureHash, 16),
      declarations(m, M, /*training=*/false) +
          (plan.train.empty() ? std::string()
                              : "\n/* Training (compiled with --train). */\n#define " + M +
                                    "_TRAINABLE 1\n/* Defined in resnetc/runtime/Communicator.h. "
                                    "*/\nstruct resnetc_communicator;\n" +
                                    declarations(m, M, /*training=*/true)),
      statusCodes(), outputMacros(plan, M));
}

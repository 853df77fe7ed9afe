// Two generated libraries of different models in one program that also
// instantiates, itself, standard-library templates that resnetc's runtime
// uses. Built at -O0, so each instantiation is an out-of-line function in its
// own COMDAT group with the same signature as the runtime's copy: had the
// library kept those groups while hiding their symbols, the linker would keep
// this program's group and discard the library's, and the link would fail
// with relocations into a discarded section. Then it runs both models, and
// makes operator new fail inside the runtime to see an exception cross its
// hidden code.
//
// MODEL_A/MODEL_B name the networks (MODEL_*_UPPER their constants'
// prefixes, MODEL_*_HEADER the headers, MODEL_*_WEIGHTS their .rnw files).

#include MODEL_A_HEADER
#include MODEL_B_HEADER

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace {

bool failAllocations = false;

} // namespace

// Replaced for the whole program, the runtime's allocations included.
void *operator new(std::size_t size) {
  if (failAllocations)
    throw std::bad_alloc();
  if (void *p = std::malloc(size ? size : 1))
    return p;
  throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }

namespace {

int failures = 0;

void expect(bool ok, const std::string &what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

/// The templates resnetc's runtime instantiates (see `llvm-readelf -g` of
/// its object before resnetc compile dissolves the groups).
std::string useTheRuntimesTemplates() {
  std::string text = std::to_string(-42L) + "/" + std::to_string(7) + "/" + std::to_string(9u);
  text = "[" + text;
  std::vector<float> floats;
  floats.resize(3);
  std::vector<long> longs;
  longs.resize(2);
  std::vector<void *> pointers;
  void *const null = nullptr;
  pointers.push_back(null);
  std::vector<std::string> strings;
  const char *const name = "x";
  strings.emplace_back(name);
  std::vector<std::pair<std::string, double>> pairs;
  const double one = 1;
  pairs.emplace_back(name, one);
  return text + "] " + std::to_string(floats.size() + longs.size() + pointers.size()) + strings[0] +
         pairs[0].first;
}

/// One model through its C API; the function pointers come from MODEL() below.
struct Model {
  const char *name;
  const char *weights;
  size_t inputSize, outputSize, classes;
  void *(*create)();
  void (*destroy)(void *);
  int32_t (*loadWeightsFile)(void *, const char *);
  int32_t (*run)(void *, const float *, size_t, float *, size_t);
  int32_t (*setClassNames)(void *, const char *const *, size_t);
  const char *(*className)(const void *, int64_t);
  const char *(*errorMessage)(const void *);
};

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
// clang-format off
#define MODEL(m, M, weights)                                                                       \
  Model{STR(m), weights, CAT(M, _INPUT_SIZE), CAT(M, _OUTPUT_SIZE), CAT(M, _CLASSES),              \
        [] { return static_cast<void *>(CAT(m, _create)()); },                                     \
        [](void *c) { return CAT(m, _destroy)(static_cast<CAT(m, _context) *>(c)); },              \
        [](void *c, const char *path) {                                                            \
          return CAT(m, _load_weights_file)(static_cast<CAT(m, _context) *>(c), path);             \
        },                                                                                         \
        [](void *c, const float *in, size_t n, float *out, size_t k) {                             \
          return CAT(m, _run)(static_cast<CAT(m, _context) *>(c), in, n, out, k);                  \
        },                                                                                         \
        [](void *c, const char *const *names, size_t n) {                                          \
          return CAT(m, _set_class_names)(static_cast<CAT(m, _context) *>(c), names, n);           \
        },                                                                                         \
        [](const void *c, int64_t k) {                                                             \
          return CAT(m, _class_name)(static_cast<const CAT(m, _context) *>(c), k);                 \
        },                                                                                         \
        [](const void *c) {                                                                        \
          return CAT(m, _error_message)(static_cast<const CAT(m, _context) *>(c));                 \
        }}
// clang-format on

/// Runs the model twice on the same input: finite logits, the same both times.
void runModel(const Model &model, void *ctx) {
  std::string name = model.name;
  expect(model.loadWeightsFile(ctx, model.weights) == RESNETC_OK,
         name + ": load " + model.weights + ": " + model.errorMessage(ctx));
  std::vector<float> input(model.inputSize);
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = float(i % 17) / 17.0f - 0.5f;
  std::vector<float> first(model.outputSize), second(model.outputSize);
  expect(model.run(ctx, input.data(), input.size(), first.data(), first.size()) == RESNETC_OK,
         name + ": run: " + model.errorMessage(ctx));
  expect(model.run(ctx, input.data(), input.size(), second.data(), second.size()) == RESNETC_OK,
         name + ": second run: " + model.errorMessage(ctx));
  for (size_t i = 0; i < first.size(); ++i) {
    expect(std::isfinite(first[i]), name + ": logit " + std::to_string(i) + " is not finite");
    expect(first[i] == second[i], name + ": logit " + std::to_string(i) + " differs between runs");
  }
  std::printf("%s: %zu logits, first %g\n", model.name, first.size(), double(first[0]));
}

/// Class names with operator new failing: the runtime's own (hidden) vector
/// code throws std::bad_alloc, which must unwind to here or be caught and
/// reported by the runtime; then the names are set for real.
void classNames(const Model &model, void *ctx) {
  std::string name = model.name;
  std::vector<std::string> names;
  for (size_t k = 0; k < model.classes; ++k)
    names.push_back("class " + std::to_string(k));
  std::vector<const char *> pointers;
  for (const std::string &n : names)
    pointers.push_back(n.c_str());

  int32_t status = RESNETC_OK;
  bool caught = false;
  failAllocations = true;
  try {
    status = model.setClassNames(ctx, pointers.data(), pointers.size());
  } catch (const std::bad_alloc &) {
    caught = true;
  }
  failAllocations = false;
  expect(caught || status != RESNETC_OK,
         name + ": set_class_names succeeded although operator new failed");
  std::printf("%s: out of memory in set_class_names: %s\n", model.name,
              caught ? "std::bad_alloc caught by the program" : "reported by the runtime");

  expect(model.setClassNames(ctx, pointers.data(), pointers.size()) == RESNETC_OK,
         name + ": set_class_names: " + model.errorMessage(ctx));
  const char *last = model.className(ctx, int64_t(model.classes) - 1);
  expect(last && names.back() == last, name + ": class name " + names.back());
}

} // namespace

int main() {
  std::printf("templates: %s\n", useTheRuntimesTemplates().c_str());
  const Model models[] = {MODEL(MODEL_A, MODEL_A_UPPER, MODEL_A_WEIGHTS),
                          MODEL(MODEL_B, MODEL_B_UPPER, MODEL_B_WEIGHTS)};
  // Both contexts alive at once, each library's API on its own model.
  void *contexts[2] = {models[0].create(), models[1].create()};
  for (int i = 0; i < 2; ++i) {
    expect(contexts[i] != nullptr, std::string(models[i].name) + ": create failed");
    if (!contexts[i])
      return 1;
  }
  for (int i = 0; i < 2; ++i)
    runModel(models[i], contexts[i]);
  for (int i = 0; i < 2; ++i)
    classNames(models[i], contexts[i]);
  for (int i = 0; i < 2; ++i)
    models[i].destroy(contexts[i]);
  if (failures)
    return 1;
  std::printf("two libraries in one program: ok\n");
  return 0;
}

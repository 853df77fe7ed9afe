// Runs a compiled network once on one image: run-logits weights.rnw
// input.raw logits.raw, float32 files (the input in NCHW order). The
// interchange tests build it against a generated library:
//   c++ -DMODEL=resnet18 -DMODEL_UPPER=RESNET18 -I<dir> run-logits.cpp <dir>/libresnet18.a
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#include STRINGIFY(MODEL.h)

#include <cstdio>
#include <vector>

#define API(name) CAT(MODEL, _##name)
#define CONSTANT(name) CAT(MODEL_UPPER, _##name)

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s weights.rnw input.raw logits.raw\n", argv[0]);
    return 2;
  }
  static_assert(CONSTANT(BATCH) == 1, "compile the model with --batch 1");
  std::vector<float> input(CONSTANT(INPUT_SIZE)), logits(CONSTANT(OUTPUT_SIZE));
  std::FILE *in = std::fopen(argv[2], "rb");
  if (!in || std::fread(input.data(), sizeof(float), input.size(), in) != input.size()) {
    std::fprintf(stderr, "run-logits: cannot read %zu floats from %s\n", input.size(), argv[2]);
    return 1;
  }
  std::fclose(in);
  auto *ctx = API(create)();
  if (!ctx)
    return 1;
  if (API(load_weights_file)(ctx, argv[1]) != RESNETC_OK ||
      API(run)(ctx, input.data(), input.size(), logits.data(), logits.size()) != RESNETC_OK) {
    std::fprintf(stderr, "run-logits: %s\n", API(error_message)(ctx));
    API(destroy)(ctx);
    return 1;
  }
  API(destroy)(ctx);
  std::FILE *out = std::fopen(argv[3], "wb");
  if (!out || std::fwrite(logits.data(), sizeof(float), logits.size(), out) != logits.size() ||
      std::fclose(out) != 0) {
    std::fprintf(stderr, "run-logits: cannot write %s\n", argv[3]);
    return 1;
  }
  return 0;
}

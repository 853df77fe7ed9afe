// Runs a generated library on raw float32 NCHW images and writes the logits
// as raw float32: the C side of test/interchange/onnx_roundtrip.py.
// Built with -DMODEL=<name> -include <name>.h against lib<name>.a.
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(name) CAT(MODEL, _##name)

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s weights.rnw images.f32 count logits.f32\n", argv[0]);
    return 2;
  }
  int count = std::atoi(argv[3]);
  auto *ctx = API(create)();
  if (!ctx || API(load_weights_file)(ctx, argv[1]) != RESNETC_OK) {
    std::fprintf(stderr, "run_logits: %s\n", ctx ? API(error_message)(ctx) : "out of memory");
    return 1;
  }
  API(set_threads)(ctx, 2);
  size_t inputSize = INPUT_SIZE, outputSize = OUTPUT_SIZE;
  std::vector<float> images(inputSize * count), logits(outputSize * count);
  FILE *in = std::fopen(argv[2], "rb");
  if (!in || std::fread(images.data(), sizeof(float), images.size(), in) != images.size()) {
    std::fprintf(stderr, "run_logits: cannot read %zu floats from %s\n", images.size(), argv[2]);
    return 1;
  }
  std::fclose(in);
  for (int i = 0; i < count; ++i)
    if (API(run)(ctx, images.data() + i * inputSize, inputSize, logits.data() + i * outputSize,
                 outputSize) != RESNETC_OK) {
      std::fprintf(stderr, "run_logits: %s\n", API(error_message)(ctx));
      return 1;
    }
  FILE *out = std::fopen(argv[4], "wb");
  if (!out || std::fwrite(logits.data(), sizeof(float), logits.size(), out) != logits.size() ||
      std::fclose(out) != 0) {
    std::fprintf(stderr, "run_logits: cannot write %s\n", argv[4]);
    return 1;
  }
  API(destroy)(ctx);
  return 0;
}

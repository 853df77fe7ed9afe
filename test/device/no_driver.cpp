// Runs a library compiled for a CUDA target on a machine without an NVIDIA
// driver: every call must return a status and a message, never abort.
#include "resnet20.h"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s WEIGHTS.rnw\n", argv[0]);
    return 2;
  }
  resnet20_context *ctx = resnet20_create();
  if (!ctx)
    return 3;
  int32_t status = resnet20_load_weights_file(ctx, argv[1]);
  if (status == RESNETC_OK) {
    std::vector<float> input(RESNET20_INPUT_SIZE, 0.5f), logits(RESNET20_OUTPUT_SIZE);
    status = resnet20_run(ctx, input.data(), input.size(), logits.data(), logits.size());
  }
  std::printf("status %d: %s\n", int(status), resnet20_error_message(ctx));
  resnet20_destroy(ctx);
  return 0;
}

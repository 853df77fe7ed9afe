// model-tool: one call of a generated library per run, for the host's tests
// of a cross-compiled library (test/cross/RemoteModels.cpp runs it under
// qemu). The library's state lives in files between runs: a STATE is
// `weights:FILE.rnw` or `checkpoint:FILE`.
//
//   model-tool load-weights FILE                 check that FILE loads
//   model-tool load-checkpoint FILE              check that FILE loads as a checkpoint
//   model-tool run STATE INPUT.f32 LOGITS.f32
//   model-tool train STATE NEXT IMAGES.f32 LABELS.i32 LR    prints "LOSS CORRECT"
//   model-tool save STATE OUT.rnw
//   model-tool checkpoint STATE OUT KEY=VALUE...
//   model-tool value STATE KEY                   prints the value
//
// The exit status is the library's status code; its message goes to stderr.

#include RESNETC_MODEL_HEADER

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define API(name) CAT(RESNETC_MODEL, _##name)
#define CONSTANT(name) CAT(RESNETC_MODEL_UPPER, _##name)

namespace {

API(context) * ctx;

int check(int32_t status) {
  if (status != RESNETC_OK) {
    std::fprintf(stderr, "%s\n", API(error_message)(ctx));
    std::exit(status);
  }
  return status;
}

template <typename T> std::vector<T> readFile(const char *path, size_t count) {
  std::vector<T> values(count);
  FILE *file = std::fopen(path, "rb");
  if (!file || std::fread(values.data(), sizeof(T), count, file) != count) {
    std::fprintf(stderr, "model-tool: cannot read %zu values from %s\n", count, path);
    std::exit(100);
  }
  std::fclose(file);
  return values;
}

void writeFile(const char *path, const std::vector<float> &values) {
  FILE *file = std::fopen(path, "wb");
  if (!file || std::fwrite(values.data(), sizeof(float), values.size(), file) != values.size() ||
      std::fclose(file) != 0) {
    std::fprintf(stderr, "model-tool: cannot write %s\n", path);
    std::exit(100);
  }
}

void loadState(const char *state) {
  if (std::strncmp(state, "weights:", 8) == 0)
    check(API(load_weights_file)(ctx, state + 8));
  else if (std::strncmp(state, "checkpoint:", 11) == 0)
    check(API(load_checkpoint)(ctx, state + 11));
  else {
    std::fprintf(stderr, "model-tool: a state is weights:FILE or checkpoint:FILE\n");
    std::exit(100);
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s COMMAND ARGS... (see the source)\n", argv[0]);
    return 100;
  }
  std::string command = argv[1];
  ctx = API(create)();
  if (!ctx)
    return RESNETC_ERROR_MEMORY;
  if (command == "load-weights" && argc == 3) {
    check(API(load_weights_file)(ctx, argv[2]));
  } else if (command == "load-checkpoint" && argc == 3) {
    check(API(load_checkpoint)(ctx, argv[2]));
  } else if (command == "run" && argc == 5) {
    loadState(argv[2]);
    std::vector<float> input = readFile<float>(argv[3], CONSTANT(INPUT_SIZE));
    std::vector<float> logits(CONSTANT(OUTPUT_SIZE));
    check(API(run)(ctx, input.data(), input.size(), logits.data(), logits.size()));
    writeFile(argv[4], logits);
  } else if (command == "train" && argc == 7) {
    loadState(argv[2]);
    std::vector<float> images = readFile<float>(argv[4], CONSTANT(INPUT_SIZE));
    std::vector<int32_t> labels = readFile<int32_t>(argv[5], CONSTANT(BATCH));
    float loss = 0;
    int32_t correct = 0;
    check(API(train_step)(ctx, images.data(), images.size(), labels.data(), labels.size(),
                          float(std::atof(argv[6])), &loss, &correct));
    check(API(save_checkpoint)(ctx, argv[3], nullptr, nullptr, 0));
    std::printf("%.9g %d\n", double(loss), int(correct));
  } else if (command == "save" && argc == 4) {
    loadState(argv[2]);
    check(API(save_weights)(ctx, argv[3]));
  } else if (command == "checkpoint" && argc >= 4) {
    loadState(argv[2]);
    std::vector<std::string> keys;
    std::vector<const char *> keyPointers;
    std::vector<double> values;
    for (int i = 4; i < argc; ++i) {
      const char *equals = std::strchr(argv[i], '=');
      if (!equals)
        return 100;
      keys.emplace_back(argv[i], size_t(equals - argv[i]));
      values.push_back(std::atof(equals + 1));
    }
    for (const std::string &key : keys)
      keyPointers.push_back(key.c_str());
    check(API(save_checkpoint)(ctx, argv[3], keyPointers.data(), values.data(),
                               int64_t(values.size())));
  } else if (command == "value" && argc == 4) {
    loadState(argv[2]);
    double value = 0;
    check(API(checkpoint_value)(ctx, argv[3], &value));
    std::printf("%.17g\n", value);
  } else {
    std::fprintf(stderr, "model-tool: unknown command or wrong arguments: %s\n", argv[1]);
    return 100;
  }
  API(destroy)(ctx);
  return 0;
}

/*===- ModelApiList.h - The public API of every generated library -*- C -*-===*
 *
 * Defined once, read by everything that must agree on it:
 *   runtime/include/resnetc/runtime/ModelRuntime.h  the resnetc_rt_* declarations
 *   compiler/lib/CodeGen/Orchestration.cpp          the <model>_* forwarders
 *   compiler/lib/CodeGen/ModelHeader.cpp            the declarations in <model>.h
 *   runtime/include/resnetc/train/ModelApi.h        the trainer's table of functions
 *   compiler/lib/Driver/SharedModel.cpp             its lookups in a loaded library
 *
 *   RESNETC_MODEL_API_LIST(X, A, B) expands to, for each entry point,
 *   X(A, B, name, Field, Result, Params, Signature, Training, Doc)
 *
 * A and B are passed through for X's use (RESNETC_FILL_MODEL_API passes the
 * table and the model's name);
 * name       <model>_<name> forwards to resnetc_rt_<name> with the same arguments
 * Field      the member of resnetc::train::ModelApi
 * Result, Params  the C declaration; CTX and CONST_CTX stand for the context
 *            (void * in the runtime, <model>_context * in the header)
 * Signature  the result and the parameters for the orchestration's LLVM
 *            function types, a letter each: v void, i i32, l i64 (and size_t),
 *            f f32, p a pointer
 * Training   1: only libraries compiled with --train have it
 * Doc        the comment above the declaration in <model>.h
 *
 * RESNETC_STATUS_LIST below does the same for the status codes.
 *
 * <model>_create is not here: it passes the model's descriptor to
 * resnetc_rt_create. Adding an entry point is one entry here, its
 * implementation in runtime/lib/ModelRuntime.cpp, and its tests.
 *
 *===----------------------------------------------------------------------===*/

#ifndef RESNETC_RUNTIME_MODELAPILIST_H
#define RESNETC_RUNTIME_MODELAPILIST_H

/* The communicator of data-parallel training (Communicator.h), declared at
 * file scope so that every use below names this one type. */
struct resnetc_communicator;

// clang-format off
#define RESNETC_MODEL_API_LIST(X, A, B)                                                             \
  X(A, B, destroy, destroy, void, (CTX ctx), "vp", 0,                                               \
    "Frees a context; NULL is ignored.")                                                            \
  X(A, B, load_weights_file, loadWeightsFile, int32_t, (CTX ctx, const char *path), "ipp", 0,       \
    "Loads a .rnw file written by resnetc for this network (its name, its architecture and "        \
    "every tensor are checked; NaN or infinite values are refused), then prepares the "             \
    "weights.")                                                                                     \
  X(A, B, load_weights, loadWeights, int32_t,                                                       \
    (CTX ctx, const void *data, size_t size), "ippl", 0,                                            \
    "The same from a .rnw image in memory.")                                                        \
  X(A, B, set_threads, setThreads, int32_t, (CTX ctx, int32_t threads), "ipi", 0,                   \
    "Threads for the kernels, process-wide; 0 means one per core. Call it while no inference"       \
    " runs in the process: it restarts the thread pool.")                                           \
  X(A, B, run, run, int32_t,                                                                        \
    (CTX ctx, const float *input, size_t input_count, float *logits, size_t logits_count),          \
      "ipplpl", 0,                                                                                  \
    "One inference: input_count must be INPUT_SIZE, logits_count OUTPUT_SIZE.")             \
  X(A, B, error_message, errorMessage, const char *, (CONST_CTX ctx), "pp", 0,                      \
    "What the last failing call of this context reported (\"\" after a success).")                  \
  X(A, B, save_weights, saveWeights, int32_t, (CTX ctx, const char *path), "ipp", 0,                \
    "Writes the current weights, batch-norm statistics, input normalisation and class names "       \
    "as a .rnw file, atomically.")                                                                  \
  X(A, B, normalize, normalize, int32_t, (CONST_CTX ctx, float *images, size_t count), "ippl", 0,   \
    "Turns whole NCHW images of pixels in [0, 1] into the network's inputs, in place: x = (x"       \
    " - mean[c]) / stddev[c], by the statistics `resnetc train` recorded in the weights "           \
    "loaded. RESNETC_ERROR_WEIGHTS when the weights record none (files of `resnetc init` or "       \
    "of format version 1).")                                                                        \
  X(A, B, input_normalization, inputNormalization, int32_t,                                         \
    (CONST_CTX ctx, float *mean, float *stddev, size_t channels), "ipppl", 0,                       \
    "The per-channel mean and standard deviation of those statistics.")                             \
  X(A, B, set_input_normalization, setInputNormalization, int32_t,                                  \
    (CTX ctx, const float *mean, const float *stddev, size_t channels), "ipppl", 0,                 \
    "Records the statistics a program trained with: every later save writes them.")                 \
  X(A, B, class_name, className, const char *, (CONST_CTX ctx, int64_t k), "ppl", 0,                \
    "Class k's name, or NULL when the weights name no classes.")                                    \
  X(A, B, set_class_names, setClassNames, int32_t,                                                  \
    (CTX ctx, const char *const *names, size_t count), "ippl", 0,                                   \
    "Records the class names (one per class): every later save writes them.")                       \
  X(A, B, train_step, trainStep, int32_t,                                                           \
    (CTX ctx, const float *images, size_t image_count, const int32_t *labels,                       \
      size_t label_count, float learning_rate, float *loss, int32_t *correct), "ipplplfpp", 1,      \
    "Classifiers: one step of SGD on a batch: forward with batch statistics, mean softmax cross-entropy, "       \
    "backward, momentum and weight decay (compiled in), running statistics. labels: BATCH "         \
    "class indices in [0, CLASSES). loss and correct (how many argmax == label) may be NULL.")      \
  X(A, B, train_forward, trainForward, int32_t,                                                   \
    (CTX ctx, const float *images, size_t image_count, float *outputs, size_t output_count),        \
      "ipplpl", 1,                                                                                  \
    "Networks with named outputs (a backbone): the forward half of a training step, with batch "     \
    "statistics and dropout; writes the outputs as run does (OUTPUT_SIZE values). The caller "       \
    "computes its loss's gradient with respect to them, then calls train_backward. Classifiers"     \
    " train with train_step instead.")                                                             \
  X(A, B, train_backward, trainBackward, int32_t,                                                 \
    (CTX ctx, const float *output_gradients, size_t gradient_count, float learning_rate),          \
      "ipplf", 1,                                                                                   \
    "The second half: backward from the gradients of the outputs (OUTPUT_SIZE values, laid out "     \
    "as the outputs), then the SGD update and the running statistics, as train_step. Only "          \
    "right after train_forward on the same context.")                                              \
  X(A, B, save_checkpoint, saveCheckpoint, int32_t,                                                 \
    (CTX ctx, const char *path, const char *const *keys, const double *values, int64_t count),      \
      "ippppl", 1,                                                                                  \
    "Checkpoints: weights, batch-norm statistics, momentum buffers and `count` named numbers"       \
    " (step, epoch, ...), written atomically: a crash while saving leaves the previous file "       \
    "intact.")                                                                                      \
  X(A, B, load_checkpoint, loadCheckpoint, int32_t, (CTX ctx, const char *path), "ipp", 1,          \
    "Restores the training state of a checkpoint exactly.")                                         \
  X(A, B, set_communicator, setCommunicator, int32_t,                                               \
    (CTX ctx, const struct resnetc_communicator *communicator), "ipp", 1,                           \
    "Data-parallel training: every later train_step averages its gradients and running "            \
    "statistics over the ranks of `communicator` (resnetc/runtime/Communicator.h), in buckets "      \
    "that overlap the backward pass. Each rank passes its share of the global batch. The "          \
    "table must outlive its use; NULL trains alone again. CPU targets only.")                       \
  X(A, B, set_random_seed, setRandomSeed, int32_t, (CTX ctx, int32_t seed), "ipi", 1,              \
    "Seeds dropout's masks, which are a function of (seed, steps taken, layer, element); "          \
    "checkpoints keep the steps taken. Give each run, and each rank, its own seed. 0 by default.")  \
  X(A, B, checkpoint_value, checkpointValue, int32_t,                                               \
    (CONST_CTX ctx, const char *key, double *value), "ippp", 1,                                     \
    "A named number of the checkpoint loaded last.")

/* The status codes every entry point returns:
 *   X(name, value, meaning) */
#define RESNETC_STATUS_LIST(X)                                                                      \
  X(RESNETC_OK, 0, "success")                                                                       \
  X(RESNETC_ERROR_ARGUMENT, 1, "a null pointer or a value out of range")                            \
  X(RESNETC_ERROR_SIZE, 2, "a buffer of the wrong size")                                            \
  X(RESNETC_ERROR_WEIGHTS, 3, "not a valid weights file for this model")                            \
  X(RESNETC_ERROR_NO_WEIGHTS, 4, "run before any weights were loaded")                              \
  X(RESNETC_ERROR_KERNEL, 5, "a kernel reported an error")                                          \
  X(RESNETC_ERROR_MEMORY, 6, "out of memory")                                                       \
  X(RESNETC_ERROR_IO, 7, "a file could not be read or written (disk full, ...)")                    \
  X(RESNETC_ERROR_NUMERIC, 8, "a training step's loss or weights became NaN or infinite")
// clang-format on

#endif /* RESNETC_RUNTIME_MODELAPILIST_H */

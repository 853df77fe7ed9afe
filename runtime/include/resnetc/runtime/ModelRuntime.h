/*===- ModelRuntime.h - The runtime every generated model library holds -===*
 *
 * A generated library is kernels (Halide), orchestration code (from MLIR's
 * LLVM dialect) and this runtime. The generated code describes its model with
 * resnetc_rt_model and calls resnetc_rt_invoke for each kernel; the model's
 * public API (<model>_create, ...) forwards to the resnetc_rt_* functions.
 * The layouts below are an ABI shared with compiler/lib/CodeGen: every field
 * is 64 bits wide so that the generated constants are plain i64 arrays.
 *
 *===----------------------------------------------------------------------===*/

#ifndef RESNETC_RUNTIME_MODELRUNTIME_H
#define RESNETC_RUNTIME_MODELRUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a buffer lives: an index into the spaces array. */
enum {
  RESNETC_RT_INPUT = 0,
  RESNETC_RT_OUTPUT = 1,
  RESNETC_RT_ARENA = 2,
  RESNETC_RT_WEIGHTS = 3,
  RESNETC_RT_LABELS = 4,  /* training: the batch's labels (int32) */
  RESNETC_RT_SCALARS = 5, /* training: learning rate in; loss and number correct out */
  RESNETC_RT_SPACES = 6
};

/* The scalars space holds the learning rate, the loss and the number
 * correct, each in a slot this many bytes long (an aligned buffer on every
 * device API; compiler/.../KernelPlan.h kScalarSlotBytes). */
enum { RESNETC_RT_SCALAR_SLOT_BYTES = 512 };

/* Element types of buffers. */
enum { RESNETC_RT_F32 = 0, RESNETC_RT_I32 = 1 };

/* Status codes of the public API (the generated header repeats them). */
enum {
  RESNETC_OK = 0,
  RESNETC_ERROR_ARGUMENT = 1,   /* a null pointer or a value out of range */
  RESNETC_ERROR_SIZE = 2,       /* a buffer of the wrong size */
  RESNETC_ERROR_WEIGHTS = 3,    /* not a valid weights file for this model */
  RESNETC_ERROR_NO_WEIGHTS = 4, /* run before any weights were loaded */
  RESNETC_ERROR_KERNEL = 5,     /* a kernel reported an error */
  RESNETC_ERROR_MEMORY = 6,     /* out of memory */
  RESNETC_ERROR_IO = 7,         /* a file could not be read or written (disk full, ...) */
  RESNETC_ERROR_NUMERIC = 8     /* a training step's loss or weights became NaN or infinite */
};

/* One kernel argument: a dense float tensor, Halide's dimension order. */
typedef struct resnetc_rt_buffer {
  int64_t space;
  int64_t rank;
  int64_t offset; /* bytes from the start of the space */
  int64_t extent[4];
  int64_t stride[4]; /* in elements */
  int64_t type;      /* RESNETC_RT_F32 or RESNETC_RT_I32 */
} resnetc_rt_buffer;

/* A tensor of the weights file and where it is placed in the weights space. */
typedef struct resnetc_rt_weight {
  const char *name;
  int64_t rank;
  int64_t shape[4];
  int64_t offset;
} resnetc_rt_weight;

struct halide_device_interface_t;

/* spaces: base addresses of the input, output, arena and weights. */
typedef int32_t (*resnetc_rt_entry)(void *context, uint8_t *const *spaces);

typedef struct resnetc_rt_model {
  const char *name;
  uint64_t architecture_hash;
  int64_t input_shape[4];  /* N, C, H, W */
  int64_t output_shape[2]; /* N, classes */
  int64_t arena_bytes;
  int64_t weights_bytes;
  int64_t num_weights;
  const resnetc_rt_weight *weights;
  resnetc_rt_entry prepare; /* derives prepared weights from loaded ones */
  resnetc_rt_entry forward; /* one inference */
  /* Training libraries only (NULL otherwise): */
  resnetc_rt_entry train;        /* one SGD step on a batch */
  resnetc_rt_entry export_state; /* weights and momentum into the file-layout slots */
  int64_t num_momentum;
  const resnetc_rt_weight *momentum; /* file-layout slots of the momentum buffers */
  resnetc_rt_entry import_state;     /* momentum slots into the kernels' buffers */
  /* GPU targets: Halide's device interface of the kernels (for instance
   * halide_cuda_device_interface); NULL on CPU targets. The runtime keeps
   * the arena and the weights on that device between calls. */
  const struct halide_device_interface_t *(*device_interface)(void);
} resnetc_rt_model;

/* Called by generated code: runs `kernel` (a Halide _argv entry point
 * compiled with user_context) on `count` buffers. Returns 0 or a Halide
 * error code, whose message is kept in the context. */
int32_t resnetc_rt_invoke(void *context, int (*kernel)(void **), int64_t count,
                          const resnetc_rt_buffer *buffers, uint8_t *const *spaces);

/* The public API, wrapped by <model>_create and friends. */
void *resnetc_rt_create(const resnetc_rt_model *model);
void resnetc_rt_destroy(void *context);
int32_t resnetc_rt_load_weights_file(void *context, const char *path);
int32_t resnetc_rt_load_weights(void *context, const void *data, size_t size);
int32_t resnetc_rt_set_threads(void *context, int32_t threads);
int32_t resnetc_rt_run(void *context, const float *input, size_t input_count, float *output,
                       size_t output_count);
const char *resnetc_rt_error_message(const void *context);

/* GPU targets: how many whole memory spaces the runtime has copied to and
 * from the device since the context was created (the input, the logits,
 * the loss, the weights when loaded or saved; kernels copy nothing). Both
 * stay 0 on CPU targets. For tests and profiles. */
int32_t resnetc_rt_device_transfers(const void *context, uint64_t *to_device,
                                    uint64_t *to_host);

/* Training libraries: one step of SGD (forward with batch statistics, mean
 * softmax cross-entropy, backward, momentum and weight decay, running
 * statistics) on a batch; the loss and the number of correct predictions are
 * returned through `loss` and `correct` (either may be NULL). */
int32_t resnetc_rt_train_step(void *context, const float *images, size_t image_count,
                              const int32_t *labels, size_t label_count, float learning_rate,
                              float *loss, int32_t *correct);
/* Writes the current weights (and BN statistics) as a .rnw file, atomically. */
int32_t resnetc_rt_save_weights(void *context, const char *path);
/* Checkpoints: the weights, BN statistics, momentum buffers ("momentum/<name>")
 * and `count` named numbers (step, epoch, ...), written atomically. Loading one
 * restores the state exactly; its numbers are then read with checkpoint_value. */
int32_t resnetc_rt_save_checkpoint(void *context, const char *path, const char *const *keys,
                                   const double *values, int64_t count);
int32_t resnetc_rt_load_checkpoint(void *context, const char *path);
int32_t resnetc_rt_checkpoint_value(const void *context, const char *key, double *value);

/* How inputs are fed: the per-channel mean and standard deviation the
 * network was trained with (kept from the weights loaded, or set here, and
 * written by every save), the in-place normalisation of whole NCHW images by
 * them, and the class names. */
int32_t resnetc_rt_set_input_normalization(void *context, const float *mean, const float *stddev,
                                           size_t channels);
int32_t resnetc_rt_input_normalization(const void *context, float *mean, float *stddev,
                                       size_t channels);
int32_t resnetc_rt_normalize(const void *context, float *images, size_t count);
int32_t resnetc_rt_set_class_names(void *context, const char *const *names, size_t count);
const char *resnetc_rt_class_name(const void *context, int64_t k);

#ifdef __cplusplus
}
#endif

#endif /* RESNETC_RUNTIME_MODELRUNTIME_H */

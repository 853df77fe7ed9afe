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

#include "resnetc/runtime/ModelApiList.h"

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

/* Status codes of the public API (the generated header spells the same
 * list out). */
#ifndef RESNETC_STATUS_CODES
#define RESNETC_STATUS_CODES
#define RESNETC_STATUS_ENUMERATOR_(name, value, meaning) name = value,
enum { RESNETC_STATUS_LIST(RESNETC_STATUS_ENUMERATOR_) };
#undef RESNETC_STATUS_ENUMERATOR_
#endif

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
  int64_t output_shape[2]; /* N, classes; a backbone's: N, its outputs' values an image */
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
  /* Backbones (networks with named outputs), training libraries only: `train`
   * is the forward pass, which writes the outputs; this goes on from the
   * caller's gradients of them, in the output space (NULL for classifiers). */
  resnetc_rt_entry train_backward;
} resnetc_rt_model;

/* Called by generated code: runs `kernel` (a Halide _argv entry point
 * compiled with user_context) on `count` buffers. Returns 0 or a Halide
 * error code, whose message is kept in the context. */
int32_t resnetc_rt_invoke(void *context, int (*kernel)(void **), int64_t count,
                          const resnetc_rt_buffer *buffers, uint8_t *const *spaces);

/* Averaging steps of a training step (resnetc_rt_collective's operation). */
enum { RESNETC_RT_START_MEAN_OVER_RANKS = 0, RESNETC_RT_FINISH_MEAN_OVER_RANKS = 1 };

/* Called by generated code for a data-parallel training step: starts (or
 * finishes) averaging the `count` buffers of `bucket` over the ranks of the
 * context's communicator (<model>_set_communicator). Does nothing without
 * one. Returns 0, or -1 with the communicator's message in the context. */
int32_t resnetc_rt_collective(void *context, int64_t operation, int64_t bucket, int64_t count,
                              const resnetc_rt_buffer *buffers, uint8_t *const *spaces);

/* The public API: <model>_create passes the model's descriptor; every other
 * <model>_<name> forwards to resnetc_rt_<name> (ModelApiList.h). */
void *resnetc_rt_create(const resnetc_rt_model *model);
#define CTX void *
#define CONST_CTX const void *
#define RESNETC_RT_DECLARE_(A, B, name, Field, Result, Params, Signature, Training, Doc)           \
  Result resnetc_rt_##name Params;
RESNETC_MODEL_API_LIST(RESNETC_RT_DECLARE_, _, _)
#undef RESNETC_RT_DECLARE_
#undef CONST_CTX
#undef CTX

/* GPU targets: how many whole memory spaces the runtime has copied to and
 * from the device since the context was created (the input, the logits,
 * the loss, the weights when loaded or saved; kernels copy nothing). Both
 * stay 0 on CPU targets. For tests and profiles. */
int32_t resnetc_rt_device_transfers(const void *context, uint64_t *to_device, uint64_t *to_host);

/* The bytes of Halide scratch memory held for reuse (ScratchCache.h); they go
 * back to the system with the last context. For tests, which cannot call the
 * library's resnetc:: functions: those are local to it. */
size_t resnetc_rt_scratch_cached_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* RESNETC_RUNTIME_MODELRUNTIME_H */

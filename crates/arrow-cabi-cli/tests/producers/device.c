/* Device producers for `arrow-cabi check --device`, linked with stream.c and array.c:
 *
 *   int device_stream_NAME(struct ArrowDeviceArrayStream* out)       one symbol per device rule
 *   int device_stream_named(const char* fault, struct ArrowDeviceArrayStream* out)
 *   int device_array_named(const char* fault, struct ArrowDeviceArray* out, struct ArrowSchema* schema)
 *
 * A device stream wraps one of stream.c's plain streams: each get_next lets the plain stream fill
 * the embedded array, then writes the device fields (clean: CPU, device_id -1, sync_event NULL,
 * reserved zeroed). A device fault changes those fields; any other name given to the `_named`
 * entry points is one of stream.c's (array.c's) faults, behind clean device fields, so that every
 * protocol fault of the plain stream is also a fault of a device stream.
 *
 * The CUDA faults declare CUDA and replace every buffer pointer with an address no process can
 * read (0x10, 0x18, ...): a checker that read a buffer would crash. */
#include "nodes.h"

struct ArrowDeviceArray {
  struct ArrowArray array;
  int64_t device_id;
  int32_t device_type;
  void* sync_event;
  int64_t reserved[3];
};

struct ArrowDeviceArrayStream {
  int32_t device_type;
  int (*get_schema)(struct ArrowDeviceArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowDeviceArrayStream*, struct ArrowDeviceArray* out);
  const char* (*get_last_error)(struct ArrowDeviceArrayStream*);
  void (*release)(struct ArrowDeviceArrayStream*);
  void* private_data;
};

#define DEVICE_CPU 1
#define DEVICE_CUDA 2

int stream_named(const char* fault, struct ArrowArrayStream* out);
int array_named(const char* fault, struct ArrowArray* array, struct ArrowSchema* schema);

enum device_fault {
  D_CLEAN,
  D_TYPE,         /* the stream and its arrays say device type 5, which abi.h does not define */
  D_STREAM_TYPE,  /* a CPU stream whose second array says CUDA */
  D_ID,           /* device_id -2 */
  D_SYNC_EVENT,   /* a sync_event on CPU, which has no event type */
  D_RESERVED,     /* reserved left as the consumer's struct held it */
  D_CUDA,         /* clean, on CUDA (with a sync_event, as CUDA producers send) */
  D_CUDA_BUFFERS, /* on CUDA, column "name" has 2 buffers, utf8 needs 3 */
  N_DEVICE_FAULTS
};

static const char* const DEVICE_FAULT_NAMES[N_DEVICE_FAULTS] = {
    "clean", "type", "stream_type", "id", "sync_event", "reserved", "cuda", "cuda_buffers"};

static int event; /* what a sync_event points at */

/* The device type of array `index` under `fault`. */
static int32_t device_of(enum device_fault fault, int index) {
  if (fault == D_TYPE) return 5;
  if (fault == D_CUDA || fault == D_CUDA_BUFFERS || (fault == D_STREAM_TYPE && index == 1)) return DEVICE_CUDA;
  return DEVICE_CPU;
}

/* Every buffer pointer below `array` replaced by an unreadable address. */
static void unreadable_buffers(struct ArrowArray* array, uintptr_t* next) {
  for (int64_t i = 0; i < array->n_buffers; i++) {
    array->buffers[i] = (const void*)*next;
    *next += 8;
  }
  for (int64_t i = 0; i < array->n_children; i++) unreadable_buffers(array->children[i], next);
  if (array->dictionary != NULL) unreadable_buffers(array->dictionary, next);
}

/* Writes the device fields of `out`, whose embedded array is filled, as `fault` has them. */
static void device_fields(enum device_fault fault, int index, struct ArrowDeviceArray* out) {
  out->device_type = device_of(fault, index);
  out->device_id = fault == D_ID ? -2 : (out->device_type == DEVICE_CPU ? -1 : 0);
  out->sync_event = fault == D_SYNC_EVENT || fault == D_CUDA ? &event : NULL;
  if (fault != D_RESERVED) memset(out->reserved, 0, sizeof out->reserved);
  if (out->device_type != DEVICE_CPU) {
    uintptr_t next = 0x10;
    unreadable_buffers(&out->array, &next);
  }
  if (fault == D_CUDA_BUFFERS) out->array.children[0]->n_buffers = 2;
}

/* ---- streams ---- */

struct device_stream {
  enum device_fault fault;
  int next;
  struct ArrowArrayStream plain;
};

static int device_get_schema(struct ArrowDeviceArrayStream* stream, struct ArrowSchema* out) {
  struct device_stream* d = (struct device_stream*)stream->private_data;
  return d->plain.get_schema(&d->plain, out);
}

static int device_get_next(struct ArrowDeviceArrayStream* stream, struct ArrowDeviceArray* out) {
  struct device_stream* d = (struct device_stream*)stream->private_data;
  int code = d->plain.get_next(&d->plain, &out->array);
  if (code != 0 || out->array.release == NULL) return code;
  device_fields(d->fault, d->next++, out);
  return 0;
}

static const char* device_get_last_error(struct ArrowDeviceArrayStream* stream) {
  struct device_stream* d = (struct device_stream*)stream->private_data;
  return d->plain.get_last_error(&d->plain);
}

static void device_release(struct ArrowDeviceArrayStream* stream) {
  struct device_stream* d = (struct device_stream*)stream->private_data;
  d->plain.release(&d->plain);
  int plain_released = d->plain.release == NULL;
  free(d);
  stream->private_data = NULL;
  if (plain_released) stream->release = NULL; /* else the plain stream's fault, passed on */
}

static int make_device_stream(enum device_fault fault, const char* plain_fault, struct ArrowDeviceArrayStream* out) {
  struct device_stream* d = (struct device_stream*)calloc(1, sizeof(struct device_stream));
  d->fault = fault;
  int code = stream_named(plain_fault, &d->plain);
  if (code != 0) {
    free(d);
    return code;
  }
  out->device_type = device_of(fault, 0);
  out->get_schema = device_get_schema;
  out->get_next = device_get_next;
  out->get_last_error = device_get_last_error;
  out->release = device_release;
  out->private_data = d;
  return 0;
}

#define DEVICE_STREAM(name, fault) \
  int device_stream_##name(struct ArrowDeviceArrayStream* out) { return make_device_stream(fault, "clean", out); }

DEVICE_STREAM(clean, D_CLEAN)
DEVICE_STREAM(type, D_TYPE)
DEVICE_STREAM(stream_type, D_STREAM_TYPE)
DEVICE_STREAM(id, D_ID)
DEVICE_STREAM(sync_event, D_SYNC_EVENT)
DEVICE_STREAM(reserved, D_RESERVED)
DEVICE_STREAM(cuda, D_CUDA)
DEVICE_STREAM(cuda_buffers, D_CUDA_BUFFERS)

static enum device_fault device_fault_named(const char* fault) {
  for (int i = 0; i < N_DEVICE_FAULTS; i++) {
    if (strcmp(fault, DEVICE_FAULT_NAMES[i]) == 0) return (enum device_fault)i;
  }
  return N_DEVICE_FAULTS;
}

/* A device fault on a clean stream, or stream.c's fault `fault` behind clean device fields. */
int device_stream_named(const char* fault, struct ArrowDeviceArrayStream* out) {
  enum device_fault device = device_fault_named(fault);
  if (device != N_DEVICE_FAULTS) return make_device_stream(device, "clean", out);
  return make_device_stream(D_CLEAN, fault, out);
}

/* ---- arrays ---- */

/* A device fault on array.c's clean array, or array.c's fault `fault` on CPU. The array is
 * allocated by the producer here, so a fault that leaves `reserved` alone writes garbage there. */
int device_array_named(const char* fault, struct ArrowDeviceArray* out, struct ArrowSchema* schema) {
  enum device_fault device = device_fault_named(fault);
  int code = array_named(device == N_DEVICE_FAULTS ? fault : "clean", &out->array, schema);
  if (code != 0) return code;
  if (device == D_RESERVED) out->reserved[1] = 0x1234;
  device_fields(device == N_DEVICE_FAULTS ? D_CLEAN : device, 0, out);
  return 0;
}

/* Stream producers for `arrow-cabi check --lib ... --symbol stream_NAME`: one symbol per rule,
 * each the clean producer (`stream_clean`) with one fault. The stream has two columns, "name"
 * (utf8, nullable: "a", null, "cd") and "id" (int32, non-nullable: 1, 2, 3), two batches of three
 * rows, then the end. `stream_named(fault, out)` takes the fault's name (for --arg). */
#include "nodes.h"

enum fault {
  CLEAN,
  FORMAT,          /* schema.children[1].format is "q" */
  FLAGS,           /* schema.children[1].flags has an unknown bit */
  METADATA,        /* schema.children[1].metadata is truncated */
  NAME,            /* schema.children[1].name is not UTF-8 */
  UTF8,            /* column "name" holds a byte that is not UTF-8 */
  OFFSETS,         /* column "name" has decreasing offsets */
  NULL_COUNT,      /* column "name" says 2 nulls, its bitmap has 1 */
  BUFFERS,         /* column "name" has 2 buffers, utf8 needs 3 */
  RELEASE_NOT_NULL,/* a batch's release leaves release set */
  CHILDREN_LEAK,   /* a batch's release does not release its children */
  MOVED_CHILD,     /* a batch's release scribbles over its children's buffers, moved out or not */
  SCHEMA_RELEASE,  /* the schema's release leaves release set */
  STREAM_RELEASE,  /* the stream's release leaves release set */
  END,             /* after the end, get_next hands out a batch again */
  ERROR,           /* the second get_next fails with EIO and a message */
  ERRNO,           /* the second get_next fails with -1 */
  LAST_ERROR_UTF8, /* the second get_next fails, get_last_error is not UTF-8 */
  SCHEMA_MISMATCH, /* batches have one child, the schema two */
  SCHEMA_REPEAT,   /* the second get_schema fails */
  LIFETIME,        /* the stream's release scribbles over the first batch's buffers */
  CRASH,           /* get_next dereferences NULL */
  ENDLESS,         /* not a fault: the stream never ends (for --max-batches) */
  N_FAULTS
};

static const char* const FAULT_NAMES[N_FAULTS] = {
    "clean", "format", "flags", "metadata", "name", "utf8", "offsets", "null_count", "buffers",
    "release_not_null", "children_leak", "moved_child", "schema_release", "stream_release", "end", "error",
    "errno", "last_error_utf8", "schema_mismatch", "schema_repeat", "lifetime", "crash", "endless"};

struct stream {
  enum fault fault;
  int schemas;
  int next;
  const char* error;
  struct node* first_batch_columns[2];
};

/* ---- schema ---- */

static void schema_release_leaky(struct ArrowSchema* schema) {
  schema_release(schema);
  schema->release = schema_release_leaky; /* the fault: still set */
}

/* int32 count 1, key length 100, then only 3 bytes. */
static const char TRUNCATED_METADATA[] = {1, 0, 0, 0, 100, 0, 0, 0, 'k', 'e', 'y'};

static int get_schema(struct ArrowArrayStream* stream, struct ArrowSchema* out) {
  struct stream* s = (struct stream*)stream->private_data;
  if (s->fault == SCHEMA_REPEAT && s->schemas > 0) {
    s->error = "get_schema can be called once only";
    return EINVAL;
  }
  s->schemas++;
  struct schema_node* root = schema_init(out, "+s", "", 0, 2);
  if (s->fault == SCHEMA_RELEASE) out->release = schema_release_leaky;
  schema_init(root->children[0], "u", "name", ARROW_FLAG_NULLABLE, 0);
  const char* id_format = s->fault == FORMAT ? "q" : "i";
  const char* id_name = s->fault == NAME ? "\xff\xfe" : "id";
  schema_init(root->children[1], id_format, id_name, s->fault == FLAGS ? 16 : 0, 0);
  if (s->fault == METADATA) root->children[1]->metadata = TRUNCATED_METADATA;
  return 0;
}

/* ---- batches ---- */

static void batch_release_not_null(struct ArrowArray* array) {
  node_release(array);
  array->release = batch_release_not_null; /* the fault: still set */
}

static void batch_release_without_children(struct ArrowArray* array) {
  free(array->private_data); /* the fault: the children are never released */
  array->release = NULL;
}

static void batch_release_scribbling(struct ArrowArray* array) {
  /* The fault: the children's buffers are treated as the parent's, moved out or not. */
  for (int64_t i = 0; i < array->n_children; i++) {
    struct node* child = (struct node*)array->children[i]->private_data;
    if (child != NULL) memset(child->storage, 0xff, sizeof child->storage);
  }
  node_release(array);
}

static void fill_batch(struct stream* s, struct ArrowArray* out, int index) {
  int64_t columns = s->fault == SCHEMA_MISMATCH ? 1 : 2;
  struct node* root = node_init(out, 3, 0, 1, columns);
  if (s->fault == RELEASE_NOT_NULL) out->release = batch_release_not_null;
  if (s->fault == CHILDREN_LEAK) out->release = batch_release_without_children;
  if (s->fault == MOVED_CHILD) out->release = batch_release_scribbling;

  struct ArrowArray* name = root->children[0];
  node_init(name, 3, s->fault == NULL_COUNT ? 2 : 1, s->fault == BUFFERS ? 2 : 3, 0);
  const uint8_t validity = 0x05; /* 1 0 1 */
  const int32_t offsets[4] = {0, 1, 1, 3};
  const int32_t bad_offsets[4] = {0, 2, 1, 3};
  node_buffer(name, 0, &validity, 1);
  node_buffer(name, 1, s->fault == OFFSETS ? bad_offsets : offsets, sizeof offsets);
  if (s->fault != BUFFERS) node_buffer(name, 2, s->fault == UTF8 ? "a\xff" "d" : "acd", 3);
  if (index == 0) s->first_batch_columns[0] = (struct node*)name->private_data;

  if (columns > 1) {
    struct ArrowArray* id = root->children[1];
    node_init(id, 3, 0, 2, 0);
    const int32_t ids[3] = {1, 2, 3};
    node_buffer(id, 1, ids, sizeof ids);
    if (index == 0) s->first_batch_columns[1] = (struct node*)id->private_data;
  }
}

static int get_next(struct ArrowArrayStream* stream, struct ArrowArray* out) {
  struct stream* s = (struct stream*)stream->private_data;
  if (s->fault == CRASH) {
    volatile int* nowhere = NULL;
    *nowhere = 1;
  }
  int index = s->next++;
  if (index == 1 && (s->fault == ERROR || s->fault == ERRNO || s->fault == LAST_ERROR_UTF8)) {
    s->error = s->fault == LAST_ERROR_UTF8 ? "disk \xff on fire" : "disk on fire";
    return s->fault == ERRNO ? -1 : EIO;
  }
  if (index < 2 || (s->fault == END && index == 3) || s->fault == ENDLESS) {
    fill_batch(s, out, index);
    return 0;
  }
  out->release = NULL; /* the end */
  return 0;
}

static const char* get_last_error(struct ArrowArrayStream* stream) {
  return ((struct stream*)stream->private_data)->error;
}

static void stream_release(struct ArrowArrayStream* stream) {
  struct stream* s = (struct stream*)stream->private_data;
  if (s->fault == LIFETIME) {
    /* The fault: the first batch's buffers are treated as the stream's. */
    for (int i = 0; i < 2; i++) {
      if (s->first_batch_columns[i] != NULL) memset(s->first_batch_columns[i]->storage, 0xff, 64);
    }
  }
  enum fault fault = s->fault;
  free(s);
  stream->private_data = NULL;
  if (fault != STREAM_RELEASE) stream->release = NULL;
}

static int make_stream(enum fault fault, struct ArrowArrayStream* out) {
  struct stream* s = (struct stream*)calloc(1, sizeof(struct stream));
  s->fault = fault;
  out->get_schema = get_schema;
  out->get_next = get_next;
  out->get_last_error = get_last_error;
  out->release = stream_release;
  out->private_data = s;
  return 0;
}

#define STREAM(fault_name, fault) \
  int stream_##fault_name(struct ArrowArrayStream* out) { return make_stream(fault, out); }

STREAM(clean, CLEAN)
STREAM(format, FORMAT)
STREAM(flags, FLAGS)
STREAM(metadata, METADATA)
STREAM(name, NAME)
STREAM(utf8, UTF8)
STREAM(offsets, OFFSETS)
STREAM(null_count, NULL_COUNT)
STREAM(buffers, BUFFERS)
STREAM(release_not_null, RELEASE_NOT_NULL)
STREAM(children_leak, CHILDREN_LEAK)
STREAM(moved_child, MOVED_CHILD)
STREAM(schema_release, SCHEMA_RELEASE)
STREAM(stream_release, STREAM_RELEASE)
STREAM(end, END)
STREAM(error, ERROR)
STREAM(errno, ERRNO)
STREAM(last_error_utf8, LAST_ERROR_UTF8)
STREAM(schema_mismatch, SCHEMA_MISMATCH)
STREAM(schema_repeat, SCHEMA_REPEAT)
STREAM(lifetime, LIFETIME)
STREAM(crash, CRASH)
STREAM(endless, ENDLESS)

/* The stream with the fault named `fault` ("clean", "utf8", ...); EINVAL for an unknown name. */
int stream_named(const char* fault, struct ArrowArrayStream* out) {
  for (int i = 0; i < N_FAULTS; i++) {
    if (strcmp(fault, FAULT_NAMES[i]) == 0) return make_stream((enum fault)i, out);
  }
  return EINVAL;
}

/* An entry point that fails: the checker reports it could not call the producer. */
int stream_unavailable(struct ArrowArrayStream* out) {
  (void)out;
  return ENOSYS;
}

/* The Arrow C Data and C Stream structs (as Arrow's abi.h declares them) and a few helpers that
 * build array and schema nodes, for the deliberately broken producers the checker's tests load.
 *
 * Every node owns a block (its private_data) holding its buffer pointers, its children's structs
 * and pointers, and room for its buffers' bytes. A node's release releases its children and
 * dictionary that are still in place, then frees its own block, so a child moved out stays valid
 * until its own release: the behaviour the interface asks for, which each fault then breaks. The
 * helpers are `static inline`, so a file that uses only the structs (device.c) compiles cleanly. */
#ifndef PRODUCERS_NODES_H
#define PRODUCERS_NODES_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

#define ARROW_FLAG_NULLABLE 2
#define MAX_CHILDREN 4

/* ---- arrays ---- */

struct node {
  const void* buffers[4];
  struct ArrowArray* children[MAX_CHILDREN];
  struct ArrowArray child_structs[MAX_CHILDREN];
  struct ArrowArray dictionary;
  unsigned char storage[256]; /* the node's buffers' bytes */
  size_t used;
};

static inline void node_release(struct ArrowArray* array) {
  struct node* node = (struct node*)array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    if (array->children[i]->release != NULL) array->children[i]->release(array->children[i]);
  }
  if (array->dictionary != NULL && array->dictionary->release != NULL) array->dictionary->release(array->dictionary);
  free(node);
  array->release = NULL;
  array->private_data = NULL;
}

/* Fills `out` as a node of `length` elements with `n_buffers` (NULL) buffers and `n_children`
 * children, each of them to be filled by the caller through out->children[i]. */
static inline struct node* node_init(struct ArrowArray* out, int64_t length, int64_t null_count, int64_t n_buffers,
                              int64_t n_children) {
  struct node* node = (struct node*)calloc(1, sizeof(struct node));
  for (int64_t i = 0; i < n_children; i++) node->children[i] = &node->child_structs[i];
  out->length = length;
  out->null_count = null_count;
  out->offset = 0;
  out->n_buffers = n_buffers;
  out->n_children = n_children;
  out->buffers = node->buffers;
  out->children = n_children > 0 ? node->children : NULL;
  out->dictionary = NULL;
  out->release = node_release;
  out->private_data = node;
  return node;
}

/* Copies `size` bytes into the node's storage (8-byte aligned) and makes them buffer `index`. */
static inline void* node_buffer(struct ArrowArray* array, int index, const void* bytes, size_t size) {
  struct node* node = (struct node*)array->private_data;
  unsigned char* at = node->storage + node->used;
  memcpy(at, bytes, size);
  node->used += (size + 7) & ~(size_t)7;
  node->buffers[index] = at;
  return at;
}

/* ---- schemas ---- */

struct schema_node {
  struct ArrowSchema* children[MAX_CHILDREN];
  struct ArrowSchema child_structs[MAX_CHILDREN];
  struct ArrowSchema dictionary;
};

static inline void schema_release(struct ArrowSchema* schema) {
  for (int64_t i = 0; i < schema->n_children; i++) {
    if (schema->children[i]->release != NULL) schema->children[i]->release(schema->children[i]);
  }
  if (schema->dictionary != NULL && schema->dictionary->release != NULL) schema->dictionary->release(schema->dictionary);
  free(schema->private_data);
  schema->release = NULL;
  schema->private_data = NULL;
}

/* Fills `out` as a schema node; format, name and metadata must be static. */
static inline struct schema_node* schema_init(struct ArrowSchema* out, const char* format, const char* name, int64_t flags,
                                       int64_t n_children) {
  struct schema_node* node = (struct schema_node*)calloc(1, sizeof(struct schema_node));
  for (int64_t i = 0; i < n_children; i++) node->children[i] = &node->child_structs[i];
  out->format = format;
  out->name = name;
  out->metadata = NULL;
  out->flags = flags;
  out->n_children = n_children;
  out->children = n_children > 0 ? node->children : NULL;
  out->dictionary = NULL;
  out->release = schema_release;
  out->private_data = node;
  return node;
}

#endif

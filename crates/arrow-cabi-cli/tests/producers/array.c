/* Array producers for `arrow-cabi check --array --lib ... --symbol array_NAME`:
 * `int NAME(struct ArrowArray* out, struct ArrowSchema* out)`, one symbol per rule whose data the
 * stream producers (stream.c) do not cover: union type ids, run ends, dictionary keys, a missing
 * dictionary and a dictionary's index type. `array_clean` is a struct of "s" (utf8) and "n" (int32), clean. */
#include "nodes.h"

static void int32_leaf(struct ArrowArray* out, const int32_t* values, int64_t length) {
  node_init(out, length, 0, 2, 0);
  node_buffer(out, 1, values, (size_t)length * sizeof(int32_t));
}

static void utf8_leaf(struct ArrowArray* out, const int32_t* offsets, const char* data, int64_t length) {
  node_init(out, length, 0, 3, 0);
  node_buffer(out, 1, offsets, (size_t)(length + 1) * sizeof(int32_t));
  node_buffer(out, 2, data, (size_t)offsets[length]);
}

int array_clean(struct ArrowArray* array, struct ArrowSchema* schema) {
  struct schema_node* s = schema_init(schema, "+s", "", 0, 2);
  schema_init(s->children[0], "u", "s", ARROW_FLAG_NULLABLE, 0);
  schema_init(s->children[1], "i", "n", 0, 0);
  struct node* root = node_init(array, 2, 0, 1, 2);
  static const int32_t offsets[3] = {0, 1, 3};
  static const int32_t values[2] = {7, 8};
  utf8_leaf(root->children[0], offsets, "xyz", 2);
  int32_leaf(root->children[1], values, 2);
  return 0;
}

/* A sparse union of int32 and utf8 whose third type id, 5, the type does not declare. */
int array_union_ids(struct ArrowArray* array, struct ArrowSchema* schema) {
  struct schema_node* s = schema_init(schema, "+us:0,1", "u", 0, 2);
  schema_init(s->children[0], "i", "i", ARROW_FLAG_NULLABLE, 0);
  schema_init(s->children[1], "u", "s", ARROW_FLAG_NULLABLE, 0);
  struct node* root = node_init(array, 3, 0, 1, 2);
  static const int8_t type_ids[3] = {0, 1, 5};
  node_buffer(array, 0, type_ids, sizeof type_ids);
  static const int32_t values[3] = {1, 2, 3};
  static const int32_t offsets[4] = {0, 1, 2, 3};
  int32_leaf(root->children[0], values, 3);
  utf8_leaf(root->children[1], offsets, "abc", 3);
  return 0;
}

/* A run-end encoded int32 array of 3 whose run ends, 2 then 1, decrease. */
int array_run_ends(struct ArrowArray* array, struct ArrowSchema* schema) {
  struct schema_node* s = schema_init(schema, "+r", "r", ARROW_FLAG_NULLABLE, 2);
  schema_init(s->children[0], "i", "run_ends", 0, 0);
  schema_init(s->children[1], "i", "values", ARROW_FLAG_NULLABLE, 0);
  struct node* root = node_init(array, 3, 0, 0, 2);
  static const int32_t ends[2] = {2, 1};
  static const int32_t values[2] = {10, 20};
  int32_leaf(root->children[0], ends, 2);
  int32_leaf(root->children[1], values, 2);
  return 0;
}

static struct ArrowSchema* dictionary_schema(struct ArrowSchema* schema) {
  struct schema_node* s = schema_init(schema, "c", "d", ARROW_FLAG_NULLABLE, 0);
  schema->dictionary = &s->dictionary;
  schema_init(schema->dictionary, "u", NULL, ARROW_FLAG_NULLABLE, 0);
  return schema;
}

/* A dictionary of two strings whose second key, 5, is past them. */
int array_dict_keys(struct ArrowArray* array, struct ArrowSchema* schema) {
  dictionary_schema(schema);
  struct node* root = node_init(array, 2, 0, 2, 0);
  static const int8_t keys[2] = {0, 5};
  node_buffer(array, 1, keys, sizeof keys);
  array->dictionary = &root->dictionary;
  static const int32_t offsets[3] = {0, 1, 2};
  utf8_leaf(array->dictionary, offsets, "ab", 2);
  return 0;
}

/* A dictionary-encoded array without its dictionary. */
int array_dict_missing(struct ArrowArray* array, struct ArrowSchema* schema) {
  dictionary_schema(schema);
  node_init(array, 2, 0, 2, 0);
  static const int8_t keys[2] = {0, 1};
  node_buffer(array, 1, keys, sizeof keys);
  return 0;
}

/* Returns 0 but leaves the array released. */
int array_released(struct ArrowArray* array, struct ArrowSchema* schema) {
  schema_init(schema, "i", "n", 0, 0);
  array->release = NULL;
  return 0;
}

/* `array_clean` or one of the faults above by name (for --arg). */
int array_named(const char* fault, struct ArrowArray* array, struct ArrowSchema* schema) {
  if (strcmp(fault, "clean") == 0) return array_clean(array, schema);
  if (strcmp(fault, "union_ids") == 0) return array_union_ids(array, schema);
  if (strcmp(fault, "run_ends") == 0) return array_run_ends(array, schema);
  if (strcmp(fault, "dict_keys") == 0) return array_dict_keys(array, schema);
  return EINVAL;
}

/* A dictionary whose index type is utf8: indices must be integers. */
int array_dict_index_type(struct ArrowArray* array, struct ArrowSchema* schema) {
  dictionary_schema(schema);
  schema->format = "u";
  static const int32_t offsets[3] = {0, 1, 2};
  utf8_leaf(array, offsets, "ab", 2);
  return 0;
}

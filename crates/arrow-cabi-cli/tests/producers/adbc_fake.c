/* A fake ADBC driver for `arrow-cabi check --adbc-driver`, linked with stream.c: it prints the
 * name of every call it receives to stderr, one a line, so that a test sees which handles the
 * checker released, and in which order. The uri `fail:NAME` makes the call NAME fail
 * (ADBC_STATUS_INVALID_STATE, with a message); the query "fail" makes the query fail; any other
 * query's result is stream.c's clean stream. Only what the checker calls is declared, as adbc.h
 * has it. */
#include <stdio.h>

#include "nodes.h"

struct AdbcError {
  char* message;
  int32_t vendor_code;
  char sqlstate[5];
  void (*release)(struct AdbcError*);
  void* private_data;
  void* private_driver;
};

struct AdbcHandle {
  void* private_data;
  void* private_driver;
};

#define ADBC_STATUS_OK 0
#define ADBC_STATUS_INVALID_STATE 6

int stream_named(const char* fault, struct ArrowArrayStream* out);

static char failing[64]; /* the call the uri makes fail */
static int made;         /* a handle's private_data points here once made */

static void release_error(struct AdbcError* error) {
  free(error->message);
  error->message = NULL;
  error->release = NULL;
}

/* Prints the call and returns its status: failing if the uri named it. */
static uint8_t answer(const char* call, struct AdbcError* error) {
  fprintf(stderr, "%s\n", call);
  if (strcmp(call, failing) != 0) return ADBC_STATUS_OK;
  const char* text = "failing as the uri asks";
  error->message = (char*)malloc(strlen(text) + 1);
  strcpy(error->message, text);
  error->release = release_error;
  return ADBC_STATUS_INVALID_STATE;
}

static uint8_t make(struct AdbcHandle* handle, const char* call, struct AdbcError* error) {
  uint8_t status = answer(call, error);
  if (status == ADBC_STATUS_OK) handle->private_data = &made;
  return status;
}

static uint8_t release(struct AdbcHandle* handle, const char* call, struct AdbcError* error) {
  if (handle->private_data != &made) fprintf(stderr, "%s of a handle never made\n", call);
  handle->private_data = NULL;
  return answer(call, error);
}

uint8_t AdbcDatabaseNew(struct AdbcHandle* database, struct AdbcError* error) {
  return make(database, "AdbcDatabaseNew", error);
}

uint8_t AdbcDatabaseSetOption(struct AdbcHandle* database, const char* key, const char* value, struct AdbcError* error) {
  (void)database;
  if (strcmp(key, "uri") == 0 && strncmp(value, "fail:", 5) == 0) {
    strncpy(failing, value + 5, sizeof failing - 1);
  }
  return answer("AdbcDatabaseSetOption", error);
}

uint8_t AdbcDatabaseInit(struct AdbcHandle* database, struct AdbcError* error) {
  (void)database;
  return answer("AdbcDatabaseInit", error);
}

uint8_t AdbcConnectionNew(struct AdbcHandle* connection, struct AdbcError* error) {
  return make(connection, "AdbcConnectionNew", error);
}

uint8_t AdbcConnectionInit(struct AdbcHandle* connection, struct AdbcHandle* database, struct AdbcError* error) {
  (void)connection;
  (void)database;
  return answer("AdbcConnectionInit", error);
}

uint8_t AdbcStatementNew(struct AdbcHandle* connection, struct AdbcHandle* statement, struct AdbcError* error) {
  (void)connection;
  return make(statement, "AdbcStatementNew", error);
}

static int query_fails;

uint8_t AdbcStatementSetSqlQuery(struct AdbcHandle* statement, const char* query, struct AdbcError* error) {
  (void)statement;
  query_fails = strcmp(query, "fail") == 0;
  return answer("AdbcStatementSetSqlQuery", error);
}

uint8_t AdbcStatementExecuteQuery(struct AdbcHandle* statement, struct ArrowArrayStream* out, int64_t* rows,
                                  struct AdbcError* error) {
  (void)statement;
  *rows = -1;
  if (query_fails) strcpy(failing, "AdbcStatementExecuteQuery");
  uint8_t status = answer("AdbcStatementExecuteQuery", error);
  if (status != ADBC_STATUS_OK) return status;
  return stream_named("clean", out) == 0 ? ADBC_STATUS_OK : ADBC_STATUS_INVALID_STATE;
}

uint8_t AdbcStatementRelease(struct AdbcHandle* statement, struct AdbcError* error) {
  return release(statement, "AdbcStatementRelease", error);
}

uint8_t AdbcConnectionRelease(struct AdbcHandle* connection, struct AdbcError* error) {
  return release(connection, "AdbcConnectionRelease", error);
}

uint8_t AdbcDatabaseRelease(struct AdbcHandle* database, struct AdbcError* error) {
  return release(database, "AdbcDatabaseRelease", error);
}

// Arrow C++ as the peer of arrow_cabi's device streams (test_device_cpp.py compiles this with g++
// against the headers and libarrow that pyarrow's wheel ships).
//
// Each function takes one C stream, has Arrow C++ import it, read every batch into a table and
// validate it fully, then export the table as the other kind of stream. It returns NULL on
// success or an error message that lives until the next call.

#include <memory>
#include <string>

#include <arrow/api.h>
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>

namespace {

std::string last_error;

const char* report(const arrow::Status& status) {
  if (status.ok()) return nullptr;
  last_error = status.ToString();
  return last_error.c_str();
}

// Reads every batch of `reader` into a table, validated at Arrow C++'s full level.
arrow::Result<std::shared_ptr<arrow::Table>> read_validated(
    const std::shared_ptr<arrow::RecordBatchReader>& reader) {
  ARROW_ASSIGN_OR_RAISE(auto table, reader->ToTable());
  ARROW_RETURN_NOT_OK(table->ValidateFull());
  return table;
}

}  // namespace

extern "C" {

// Arrow C++ consumes our device stream (ImportDeviceRecordBatchReader) and hands the data back as
// a plain stream (ExportRecordBatchReader). `in` is moved from (left released).
const char* arrow_cabi_shim_device_to_plain(struct ArrowDeviceArrayStream* in,
                                            struct ArrowArrayStream* out) {
  auto reader = arrow::ImportDeviceRecordBatchReader(in);
  if (!reader.ok()) return report(reader.status());
  auto table = read_validated(*reader);
  if (!table.ok()) return report(table.status());
  auto batches = std::make_shared<arrow::TableBatchReader>(*table);
  return report(arrow::ExportRecordBatchReader(batches, out));
}

// Arrow C++ takes a plain stream (ImportRecordBatchReader) and produces a device stream from it
// (ExportDeviceRecordBatchReader), for arrow_cabi to consume. `in` is moved from.
const char* arrow_cabi_shim_plain_to_device(struct ArrowArrayStream* in,
                                            struct ArrowDeviceArrayStream* out) {
  auto reader = arrow::ImportRecordBatchReader(in);
  if (!reader.ok()) return report(reader.status());
  auto table = read_validated(*reader);
  if (!table.ok()) return report(table.status());
  auto batches = std::make_shared<arrow::TableBatchReader>(*table);
  return report(arrow::ExportDeviceRecordBatchReader(batches, out));
}

// The device type Arrow C++ declared on a device stream it exported (for the test to check).
int arrow_cabi_shim_device_type(const struct ArrowDeviceArrayStream* stream) {
  return stream->device_type;
}

}  // extern "C"

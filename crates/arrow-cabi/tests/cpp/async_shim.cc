// Arrow C++ as the peer of arrow_cabi's async device streams (tests/async_cpp.rs compiles this with
// g++ against the headers and libarrow that pyarrow's wheel ships, and loads it with libloading).
//
// Two roles, each a small C API:
// - consumer: Arrow C++'s CreateAsyncDeviceStreamHandler fills a caller-allocated handler; a
//   blocking call waits for the schema and every batch, validates each fully and hands them back
//   as a plain ArrowArrayStream (ExportRecordBatchReader), for an independent reader to compare.
// - producer: Arrow C++ reads an IPC file (RecordBatchFileReader) and drives a caller's handler
//   with ExportAsyncRecordBatchReader from a thread of its own; a blocking call joins it and gives
//   the final status.
// Error strings live as long as the object they came from.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arrow/api.h>
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/util/async_generator.h>
#include <arrow/util/thread_pool.h>

namespace {

// Reads every batch the consumer's generator yields, each validated at Arrow C++'s full level.
arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> collect_validated(
    arrow::Future<arrow::AsyncRecordBatchGenerator> schema_future, int32_t* device_type) {
  ARROW_ASSIGN_OR_RAISE(auto stream, schema_future.result());
  *device_type = static_cast<int32_t>(stream.device_type);
  // Each batch awaited here, in the caller's thread: a continuation (CollectAsyncGenerator) would
  // run on the generator's worker thread and free the generator there, which Arrow C++'s
  // background generator cannot do without deadlocking on itself. A batch that fails validation
  // does not stop the reading: Arrow C++'s consumer has no way to cancel its producer, which would
  // wait for requests for ever, so the rest is read and dropped and the first failure reported.
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  arrow::Status invalid;
  while (true) {
    auto next = stream.generator();
    ARROW_ASSIGN_OR_RAISE(auto item, next.result());
    if (arrow::IsIterationEnd(item)) break;
    if (invalid.ok()) invalid = item.batch->ValidateFull();
    batches.push_back(std::move(item.batch));
  }
  ARROW_RETURN_NOT_OK(invalid);
  return arrow::RecordBatchReader::Make(std::move(batches), stream.schema);
}

// The gold file's batches, read one by one as the export asks, with an error injected after
// `fail_after` batches when it is not negative.
arrow::AsyncGenerator<std::shared_ptr<arrow::RecordBatch>> file_batches(
    std::shared_ptr<arrow::ipc::RecordBatchFileReader> reader, int64_t fail_after) {
  auto next = std::make_shared<int>(0);
  return [reader, next, fail_after]() -> arrow::Future<std::shared_ptr<arrow::RecordBatch>> {
    if (fail_after >= 0 && *next == fail_after) {
      return arrow::Status::IOError("async_shim: error injected after ", fail_after, " batches");
    }
    if (*next == reader->num_record_batches()) {
      return arrow::IterationEnd<std::shared_ptr<arrow::RecordBatch>>();
    }
    return reader->ReadRecordBatch((*next)++);
  };
}

}  // namespace

// Arrow C++ consuming a stream: the handler's state, the thread that waits on it, the result.
struct arrow_cabi_async_consumer {
  // One thread of its own: Arrow C++'s consumer blocks a thread of its executor in a wait for
  // each batch, which on the shared CPU pool would starve tests that run side by side.
  std::shared_ptr<arrow::internal::ThreadPool> pool;
  arrow::Future<arrow::AsyncRecordBatchGenerator> schema_future;
  std::string error;
};

// Arrow C++ producing a stream: the thread that drives the handler and its outcome.
struct arrow_cabi_async_producer {
  std::thread thread;
  arrow::Status status;
  std::string error;
};

extern "C" {

// Fills `handler` (caller-allocated, zeroed) with Arrow C++'s consumer callbacks, asking for
// `queue_size` batches ahead. NULL if Arrow C++ could not make its executor (then `handler` is
// untouched).
arrow_cabi_async_consumer* arrow_cabi_async_consumer_new(struct ArrowAsyncDeviceStreamHandler* handler,
                                                         uint64_t queue_size) {
  auto pool = arrow::internal::ThreadPool::Make(1);
  if (!pool.ok()) return nullptr;
  auto* consumer = new arrow_cabi_async_consumer{*pool, {}, {}};
  consumer->schema_future =
      arrow::CreateAsyncDeviceStreamHandler(handler, consumer->pool.get(), queue_size);
  return consumer;
}

// Blocks until the stream ended or failed. On success fills `out` with a plain stream of the
// validated batches and `device_type` with the producer's declared device type, and returns NULL;
// otherwise returns Arrow C++'s error text.
const char* arrow_cabi_async_consumer_wait(arrow_cabi_async_consumer* consumer,
                                           struct ArrowArrayStream* out, int32_t* device_type) {
  auto reader = collect_validated(consumer->schema_future, device_type);
  arrow::Status status = reader.ok() ? arrow::ExportRecordBatchReader(*reader, out) : reader.status();
  if (status.ok()) return nullptr;
  consumer->error = status.ToString();
  return consumer->error.c_str();
}

// Frees the consumer (after the producer has released the handler).
void arrow_cabi_async_consumer_free(arrow_cabi_async_consumer* consumer) { delete consumer; }

// Starts Arrow C++ producing the IPC file at `path` into `handler`, on a thread of its own, with an
// error after `fail_after` batches when it is not negative. NULL with `*error` set if the file
// cannot be read (then `handler` is untouched and its release is the caller's).
arrow_cabi_async_producer* arrow_cabi_async_producer_start(const char* path,
                                                           struct ArrowAsyncDeviceStreamHandler* handler,
                                                           int64_t fail_after, const char** error) {
  static thread_local std::string open_error;
  auto file = arrow::io::ReadableFile::Open(path);
  auto reader = file.ok() ? arrow::ipc::RecordBatchFileReader::Open(*file)
                          : arrow::Result<std::shared_ptr<arrow::ipc::RecordBatchFileReader>>(file.status());
  if (!reader.ok()) {
    open_error = reader.status().ToString();
    *error = open_error.c_str();
    return nullptr;
  }
  auto* producer = new arrow_cabi_async_producer{};
  producer->thread = std::thread([producer, handler, reader = *reader, fail_after] {
    producer->status = arrow::ExportAsyncRecordBatchReader(reader->schema(), file_batches(reader, fail_after),
                                                           arrow::DeviceAllocationType::kCPU, handler)
                           .status();
  });
  return producer;
}

// Blocks until the producer has finished (it released the handler), then returns NULL if the
// export succeeded or Arrow C++'s error text.
const char* arrow_cabi_async_producer_wait(arrow_cabi_async_producer* producer) {
  if (producer->thread.joinable()) producer->thread.join();
  if (producer->status.ok()) return nullptr;
  producer->error = producer->status.ToString();
  return producer->error.c_str();
}

// Frees the producer (after its wait).
void arrow_cabi_async_producer_free(arrow_cabi_async_producer* producer) {
  if (producer->thread.joinable()) producer->thread.join();
  delete producer;
}

}  // extern "C"

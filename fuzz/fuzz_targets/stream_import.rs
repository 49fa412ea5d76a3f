//! Reads a scripted foreign `ArrowArrayStream` (`stream.rs`: fuzz-chosen codes, messages, schemas,
//! batches and self-releases) through `RecordBatchStreamReader` or `ArrayStreamReader` at
//! `Validation::Full`, calling `next` a few times past the script's end. A finding: a panic, a
//! sanitizer report, a callback called after the stream was released, `get_last_error` called
//! without a failed call before it, a stream released other than exactly once, a leaked or twice
//! released schema or array, or an accepted batch failing the checks of `check.rs`.
#![no_main]

use arrow_cabi::ffi_stream::{ArrayStreamReader, FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_cabi::Validation;
use arrow_cabi_fuzz::check;
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::stream::{Player, Script};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Reader::new(data);
    let arrays = input.u8() % 2 == 1;
    let mut script = Script::read(&mut input);
    if !script.fit_buffers(!arrays) {
        return; // a buffer would have to be larger than the producer hands out
    }
    let calls = script.batches.len() + 3;
    let player = Player::new(script);
    // SAFETY: the player's stream follows the C Stream Interface in everything a consumer cannot
    // check, and the player outlives the reader (dropped below, before the player).
    let stream = unsafe { FFI_ArrowArrayStream::from_sys(player.stream()) };
    if arrays {
        if let Ok(mut reader) = ArrayStreamReader::with_validation(stream, Validation::Full) {
            // `next` past the end (and past errors) too: a reader must keep answering.
            for _ in 0..calls {
                match reader.next() {
                    Some(Ok(array)) => check::accepted_array("array stream", array.as_ref()),
                    Some(Err(error)) => drop(error.to_string()),
                    None => {}
                }
            }
        }
    } else if let Ok(mut reader) = RecordBatchStreamReader::with_validation(stream, Validation::Full) {
        for _ in 0..calls {
            match reader.next() {
                Some(Ok(batch)) => check::accepted_batch("batch stream", &batch),
                Some(Err(error)) => drop(error.to_string()),
                None => {}
            }
        }
    }
    assert_eq!(player.releases(), 1, "the stream was released {} times", player.releases());
    assert!(player.after_release.borrow().is_empty(), "callbacks called after the stream was released: {:?}", player.after_release.borrow());
    assert_eq!(player.error_without_failure.get(), 0, "get_last_error called without a failed call before it");
    player.producer.check_releases();
});

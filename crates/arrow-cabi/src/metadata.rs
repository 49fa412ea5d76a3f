//! The key/value metadata codec of `ArrowSchema.metadata`: an `int32` pair count, then for each pair an
//! `int32` key length, the key bytes, an `int32` value length and the value bytes, all in native byte order.
//!
//! The encoding carries no total length, so decoding pulls bytes from a source one piece at a time; the
//! importer supplies a source that reads the producer's memory, tests supply a slice.
#![forbid(unsafe_code)]

use std::fmt;

/// Why metadata could not be decoded; the message names the pair and part, e.g. `pair 1 value: not UTF-8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError(pub String);

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MetadataError {}

/// Encodes key/value pairs; `None` when there are none, since the interface wants NULL, not an empty blob.
/// Cost: two passes over the pairs ([`encoded_len`], [`encode_into`]) and one allocation of the size.
///
/// Fails only if a count or length does not fit in an `int32`.
pub fn encode<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<Option<Vec<u8>>, MetadataError> {
    let Some(len) = encoded_len(pairs.clone())? else { return Ok(None) };
    let mut out = vec![0; len];
    encode_into(pairs, &mut out);
    Ok(Some(out))
}

/// The size in bytes of the encoding of `pairs`, or `None` when there are none (the interface wants
/// NULL then). Cost: one pass over the pairs, no allocation.
///
/// Fails if a count or length does not fit in an `int32`, so that [`encode_into`] cannot.
pub fn encoded_len<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Option<usize>, MetadataError> {
    let mut count = 0usize;
    let mut len = 4usize; // the pair count
    for (key, value) in pairs {
        for part in [key, value] {
            int32(part.len())?;
            len += 4 + part.len();
        }
        count += 1;
    }
    int32(count)?;
    Ok((count > 0).then_some(len))
}

/// Writes the encoding of `pairs` at the start of `out`, which is at least [`encoded_len`] bytes long
/// (for the same pairs, in the same order, which that call checked). Cost: one pass, no allocation.
///
/// # Panics
/// If `out` is shorter than [`encoded_len`] says.
pub fn encode_into<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, out: &mut [u8]) {
    /// Writes `bytes` at the front of `out`; returns the rest.
    fn put<'b>(out: &'b mut [u8], bytes: &[u8]) -> &'b mut [u8] {
        let (head, tail) = out.split_at_mut(bytes.len());
        head.copy_from_slice(bytes);
        tail
    }
    let (head, mut rest) = out.split_at_mut(4);
    let mut count = 0i32;
    for (key, value) in pairs {
        for part in [key, value] {
            // `encoded_len` checked that every length fits.
            rest = put(rest, &(part.len() as i32).to_ne_bytes());
            rest = put(rest, part.as_bytes());
        }
        count += 1;
    }
    head.copy_from_slice(&count.to_ne_bytes());
}

/// `len` as an `int32`, or the error that it does not fit.
fn int32(len: usize) -> Result<i32, MetadataError> {
    i32::try_from(len).map_err(|_| MetadataError(format!("length {len} does not fit in an int32")))
}

/// A source of metadata bytes: `take(n)` returns the next `n` bytes.
///
/// The importer's source reads the producer's memory; the slice source refuses to read past its end.
pub trait Source<'a> {
    /// The next `n` bytes, or an error if the source knows it has fewer.
    fn take(&mut self, n: usize) -> Result<&'a [u8], MetadataError>;
}

impl<'a> Source<'a> for &'a [u8] {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MetadataError> {
        if n > self.len() {
            return Err(MetadataError(format!("truncated: {n} bytes wanted, {} left", self.len())));
        }
        let (head, tail) = self.split_at(n);
        *self = tail;
        Ok(head)
    }
}

/// Decodes key/value pairs in order. Cost: one pass, one `String` per key and value.
///
/// Fails on a negative count or length and on keys or values that are not UTF-8.
pub fn decode<'a>(source: impl Source<'a>) -> Result<Vec<(String, String)>, MetadataError> {
    decode_into(source)
}

/// Decodes key/value pairs in order straight into a collection (a `Vec`, a map, arrow-rs's
/// `Metadata`), without building a list of pairs first. Cost: one pass, one `String` per key and value.
///
/// Fails as [`decode`].
pub fn decode_into<'a, C: Default + Extend<(String, String)>>(mut source: impl Source<'a>) -> Result<C, MetadataError> {
    let count = take_len(&mut source, "pair count")?;
    // The count is foreign: nothing is reserved for it, the collection grows as pairs really arrive.
    let mut pairs = C::default();
    for pair in 0..count {
        let mut text = |part: &str| -> Result<String, MetadataError> {
            let len = take_len(&mut source, part).map_err(|e| MetadataError(format!("pair {pair} {e}")))?;
            let bytes = source.take(len)?;
            String::from_utf8(bytes.to_vec())
                .map_err(|_| MetadataError(format!("pair {pair} {part}: not UTF-8")))
        };
        let key = text("key")?;
        let value = text("value")?;
        pairs.extend(Some((key, value)));
    }
    Ok(pairs)
}

fn take_len<'a>(source: &mut impl Source<'a>, what: &str) -> Result<usize, MetadataError> {
    let bytes: [u8; 4] = source
        .take(4)?
        .try_into()
        .map_err(|_| MetadataError(format!("{what}: short read")))?;
    let len = i32::from_ne_bytes(bytes);
    usize::try_from(len).map_err(|_| MetadataError(format!("{what}: negative length {len}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_spec_example() {
        // The C Data Interface's own little-endian example for [('key1', 'value1')].
        let spec: &[u8] = b"\x01\0\0\0\x04\0\0\0key1\x06\0\0\0value1";
        let encoded = encode([("key1", "value1")]).unwrap().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(encoded, spec);
        }
        assert_eq!(decode(encoded.as_slice()).unwrap(), [("key1".into(), "value1".into())]);
    }

    #[test]
    fn no_pairs_encode_as_null() {
        assert_eq!(encode(std::iter::empty()).unwrap(), None);
    }

    #[test]
    fn round_trips_empty_and_unicode_strings() {
        let pairs = [("", ""), ("ключ", "値"), ("ARROW:extension:name", "arrow.uuid")];
        let encoded = encode(pairs).unwrap().unwrap();
        let decoded = decode(encoded.as_slice()).unwrap();
        let expected: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn rejects_malformed_input() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x01\0\0", "truncated"),
            (b"\xff\xff\xff\xff", "pair count: negative length -1"),
            (b"\x01\0\0\0\x04\0\0\0ke", "truncated"),
            (b"\x01\0\0\0\x01\0\0\0k\xfe\xff\xff\xff", "pair 0 value: negative length -2"),
            (b"\x01\0\0\0\x01\0\0\0\xff\x00\0\0\0", "pair 0 key: not UTF-8"),
        ];
        for (bytes, message) in cases {
            let error = decode(*bytes).unwrap_err();
            assert!(error.0.contains(message), "{bytes:?}: {error} should say {message}");
        }
    }
}

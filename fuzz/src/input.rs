//! The byte format every target decodes, and its mirror writer (for the seed corpus).
//!
//! A [`Reader`] never fails: past the end of the input it reads zeros, so every byte string is some
//! input and libFuzzer's mutations are never wasted on a parse error. A [`Writer`] writes what a
//! reader reads back as the same values, so that the seeds can be made from real exports.
//!
//! The encodings: `u8` one byte; an integer ([`Reader::int`]) one tag byte, below `0xF0` the value
//! itself, `0xF0` then a little-endian `u16`, `0xF1` a `u32`, anything else an `i64`; a blob a
//! `u16` little-endian length then that many bytes (fewer when the input ends).

/// Reads values from fuzz bytes; zeros past the end.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `n` bytes, or fewer when the input ends.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let taken = self.bytes(N);
        out[..taken.len()].copy_from_slice(taken);
        out
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// An integer in the compact encoding (small values in one byte).
    pub fn int(&mut self) -> i64 {
        match self.u8() {
            tag @ 0..0xF0 => i64::from(tag),
            0xF0 => i64::from(self.u16()),
            0xF1 => i64::from(u32::from_le_bytes(self.array())),
            _ => i64::from_le_bytes(self.array()),
        }
    }

    /// A length-prefixed byte string.
    pub fn blob(&mut self) -> &'a [u8] {
        let len = self.u16();
        self.bytes(usize::from(len))
    }

    /// A blob behind a presence byte (0: `None`).
    pub fn opt_blob(&mut self) -> Option<&'a [u8]> {
        (self.u8() != 0).then(|| self.blob())
    }
}

/// Writes values so that a [`Reader`] reads them back.
#[derive(Default)]
pub struct Writer {
    /// The bytes written so far.
    pub out: Vec<u8>,
}

impl Writer {
    /// One byte.
    pub fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    /// An integer in the compact encoding.
    pub fn int(&mut self, value: i64) {
        match value {
            0..0xF0 => self.out.push(value as u8),
            0xF0..=0xFFFF => {
                self.out.push(0xF0);
                self.out.extend_from_slice(&(value as u16).to_le_bytes());
            }
            0x1_0000..=0xFFFF_FFFF => {
                self.out.push(0xF1);
                self.out.extend_from_slice(&(value as u32).to_le_bytes());
            }
            _ => {
                self.out.push(0xF2);
                self.out.extend_from_slice(&value.to_le_bytes());
            }
        }
    }

    /// A length-prefixed byte string (at most `u16::MAX` bytes are kept).
    pub fn blob(&mut self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(usize::from(u16::MAX))];
        self.out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        self.out.extend_from_slice(bytes);
    }

    /// A blob behind a presence byte.
    pub fn opt_blob(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            None => self.u8(0),
            Some(bytes) => {
                self.u8(1);
                self.blob(bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let mut w = Writer::default();
        let ints = [0, 1, 0xEF, 0xF0, 0xFFFF, 0x1_0000, 0xFFFF_FFFF, 1 << 40, -1, i64::MIN, i64::MAX];
        for i in ints {
            w.int(i);
        }
        w.blob(b"abc");
        w.opt_blob(None);
        w.opt_blob(Some(b""));
        let mut r = Reader::new(&w.out);
        for i in ints {
            assert_eq!(r.int(), i);
        }
        assert_eq!(r.blob(), b"abc");
        assert_eq!(r.opt_blob(), None);
        assert_eq!(r.opt_blob(), Some(&b""[..]));
        assert!(r.is_empty());
        assert_eq!(r.int(), 0, "zeros past the end");
    }
}

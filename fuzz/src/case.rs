//! The input of the array targets (`array_import`, `device_import`, `differential`), which share
//! it and so share their seeds and corpus: a data type from the table (one byte), a call byte (which
//! public import a target uses; `differential` ignores it), then an array tree ([`ArrayDesc`]).
//! A target's own bytes, if any, follow.

use arrow_schema::DataType;

use crate::desc::ArrayDesc;
use crate::input::Reader;
use crate::sizes::fit_buffers;
use crate::types;

/// One array target's input, decoded.
#[derive(Debug)]
pub struct ArrayCase {
    /// The type the array is imported against.
    pub data_type: &'static DataType,
    /// The call byte, as read (a target takes it modulo its number of calls).
    pub call: u8,
    /// The array tree the producer builds.
    pub desc: ArrayDesc,
}

impl ArrayCase {
    /// The case as the input encodes it, buffers as given.
    pub fn read(input: &mut Reader) -> ArrayCase {
        let data_type = types::pick(input.u8());
        let call = input.u8();
        ArrayCase { data_type, call, desc: ArrayDesc::read(input) }
    }

    /// The case with its buffers fitted to the sizes its type implies ([`fit_buffers`]), or
    /// `None` when a buffer would have to be larger than the producer hands out (the input is not
    /// used).
    pub fn read_fitted(input: &mut Reader) -> Option<ArrayCase> {
        let mut case = ArrayCase::read(input);
        fit_buffers(&mut case.desc, case.data_type).then_some(case)
    }
}

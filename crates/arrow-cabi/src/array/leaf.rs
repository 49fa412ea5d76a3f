//! The leaf layouts most columns have (fixed-width primitives, booleans, and variable-size binary and
//! utf8), decided once per data type: what the buffers after the validity bitmap hold, and which typed
//! array to build from them. Import reads a leaf node with this instead of the general loop over the
//! layout table and the dispatch on the data type for each node.

use std::mem::{align_of, size_of};
use std::sync::Arc;

use arrow_array::types::{ByteArrayType, GenericBinaryType, GenericStringType};
use arrow_array::{
    downcast_primitive, ArrayRef, ArrowPrimitiveType, BooleanArray, GenericByteArray, OffsetSizeTrait,
    PrimitiveArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_schema::DataType;

use super::build::{checked_offsets, scalars};

/// How to import a leaf node of one data type: what its buffers after the validity bitmap hold, and
/// the constructor of its typed array from them (the node's offset, length and nulls, then those
/// buffers, checked and sized by the importer).
#[derive(Clone, Copy)]
pub(crate) enum Leaf {
    /// One buffer of `width` bytes per element, read as values aligned to `align`.
    Fixed { width: usize, align: usize, build: fn(&DataType, &mut Extent, Buffer) -> ArrayRef },
    /// One buffer of a bit per element.
    Bits,
    /// A buffer of `width`-byte offsets (one more than the elements; first and last checked), then
    /// the bytes they index (covering the last offset).
    Bytes { width: usize, build: fn(&mut Extent, Buffer, Buffer) -> ArrayRef },
}

/// The elements of a node a typed array is built over, and its nulls, which the constructor takes.
/// Constructors get it by reference: passed by value, the copy of its nulls stalled every leaf node
/// on store forwarding (measured: 3% of S2's round-trip time).
pub(crate) struct Extent {
    pub offset: usize,
    pub length: usize,
    pub nulls: Option<NullBuffer>,
}

impl Leaf {
    /// The leaf import of `data_type`, or `None` for a type of another layout.
    #[inline]
    pub(crate) fn of(data_type: &DataType) -> Option<Leaf> {
        macro_rules! fixed {
            ($t:ty) => {
                Leaf::fixed::<$t>()
            };
        }
        Some(match data_type {
            DataType::Boolean => Leaf::Bits,
            DataType::Utf8 => Leaf::bytes::<GenericStringType<i32>>(),
            DataType::LargeUtf8 => Leaf::bytes::<GenericStringType<i64>>(),
            DataType::Binary => Leaf::bytes::<GenericBinaryType<i32>>(),
            DataType::LargeBinary => Leaf::bytes::<GenericBinaryType<i64>>(),
            _ => downcast_primitive! {
                data_type => (fixed),
                _ => return None,
            },
        })
    }

    /// How many buffers the node lists, the validity bitmap included.
    pub(crate) fn n_buffers(&self) -> usize {
        match self {
            Leaf::Bytes { .. } => 3,
            _ => 2,
        }
    }

    fn fixed<T: ArrowPrimitiveType>() -> Leaf {
        Leaf::Fixed { width: size_of::<T::Native>(), align: align_of::<T::Native>(), build: primitive::<T> }
    }

    fn bytes<T: ByteArrayType>() -> Leaf
    where
        T::Offset: OffsetSizeTrait,
    {
        Leaf::Bytes { width: size_of::<T::Offset>(), build: bytes::<T> }
    }
}

fn primitive<T: ArrowPrimitiveType>(data_type: &DataType, extent: &mut Extent, values: Buffer) -> ArrayRef {
    // SAFETY: the importer built `nulls` (if any) over the node's `length` elements, as many as the values.
    let array = unsafe { PrimitiveArray::<T>::new_unchecked(scalars(values, extent.offset, extent.length), extent.nulls.take()) };
    // Only a time zone or a decimal's precision and scale can differ from the native type's default.
    let parameterized = matches!(
        data_type,
        DataType::Timestamp(_, Some(_))
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    );
    Arc::new(if parameterized { array.with_data_type(data_type.clone()) } else { array })
}

/// The boolean array of a [`Leaf::Bits`] node.
pub(crate) fn boolean(extent: &mut Extent, bits: Buffer) -> ArrayRef {
    Arc::new(BooleanArray::new(BooleanBuffer::new(bits, extent.offset, extent.length), extent.nulls.take()))
}

fn bytes<T: ByteArrayType>(extent: &mut Extent, offsets: Buffer, values: Buffer) -> ArrayRef
where
    T::Offset: OffsetSizeTrait,
{
    let offsets = checked_offsets(offsets, extent.offset, extent.length);
    // SAFETY: the offsets are checked as `checked_offsets` says, and the importer sized the values
    // buffer to the last offset; UTF-8 and the middle offsets are the producer's promise, which `Full`
    // checks.
    Arc::new(unsafe { GenericByteArray::<T>::new_unchecked(offsets, values, extent.nulls.take()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{IntervalUnit, TimeUnit};

    use crate::layout;

    /// The leaf table agrees with the layout table on every leaf type: the buffers, their element
    /// widths and alignments.
    #[test]
    fn leaves_agree_with_the_layout_table() {
        let cases = [
            DataType::Boolean,
            DataType::Int8,
            DataType::UInt64,
            DataType::Float16,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            DataType::Interval(IntervalUnit::DayTime),
            DataType::Interval(IntervalUnit::MonthDayNano),
            DataType::Decimal128(10, 2),
            DataType::Decimal256(40, 2),
            DataType::Utf8,
            DataType::LargeBinary,
        ];
        for data_type in cases {
            let leaf = Leaf::of(&data_type).expect("a leaf type");
            let slots = layout::layout(&data_type).buffers;
            assert_eq!(leaf.n_buffers(), slots.len(), "{data_type}");
            match (leaf, &slots[1..]) {
                (Leaf::Bits, [layout::Buffer::Bits]) => {}
                (Leaf::Bytes { width, .. }, [layout::Buffer::Offsets(w), layout::Buffer::Values]) => {
                    assert_eq!(width, *w, "{data_type}")
                }
                (Leaf::Fixed { width, align, .. }, [layout::Buffer::Data]) => {
                    assert_eq!(Some(width), layout::fixed_width(&data_type), "{data_type}");
                    assert_eq!(align, layout::data_alignment(&data_type), "{data_type}");
                }
                _ => panic!("{data_type}: the leaf's values disagree with the layout table"),
            }
        }
        for other in [DataType::Null, DataType::Utf8View, DataType::FixedSizeBinary(4), DataType::Struct(Default::default())] {
            assert!(Leaf::of(&other).is_none(), "{other}");
        }
    }
}

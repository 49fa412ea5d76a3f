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

/// How to import a leaf node of one data type.
#[derive(Clone, Copy)]
pub(crate) struct Leaf {
    /// What the buffers after the validity bitmap hold.
    pub values: Values,
    build: fn(&DataType, LeafParts) -> ArrayRef,
}

/// What a leaf's buffers after the validity bitmap hold.
#[derive(Clone, Copy)]
pub(crate) enum Values {
    /// One buffer of `width` bytes per element, read as values aligned to `align`.
    Fixed { width: usize, align: usize },
    /// One buffer of a bit per element.
    Bits,
    /// A buffer of `width`-byte offsets (one more than the elements), then the bytes they index.
    Bytes { width: usize },
}

/// The checked buffers of one leaf node.
pub(crate) struct LeafParts {
    pub offset: usize,
    pub length: usize,
    pub nulls: Option<NullBuffer>,
    /// The values, bits or offsets, covering the node's extent.
    pub first: Buffer,
    /// For bytes: the values buffer, covering the last offset (which the importer checked).
    pub bytes: Option<Buffer>,
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
            DataType::Boolean => Leaf { values: Values::Bits, build: boolean },
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
        match self.values {
            Values::Bytes { .. } => 3,
            _ => 2,
        }
    }

    /// The typed array of `parts`, a node of `data_type` (the type this leaf was made for).
    pub(crate) fn build(&self, data_type: &DataType, parts: LeafParts) -> ArrayRef {
        (self.build)(data_type, parts)
    }

    fn fixed<T: ArrowPrimitiveType>() -> Leaf {
        let (width, align) = (size_of::<T::Native>(), align_of::<T::Native>());
        Leaf { values: Values::Fixed { width, align }, build: primitive::<T> }
    }

    fn bytes<T: ByteArrayType>() -> Leaf
    where
        T::Offset: OffsetSizeTrait,
    {
        Leaf { values: Values::Bytes { width: size_of::<T::Offset>() }, build: bytes::<T> }
    }
}

fn primitive<T: ArrowPrimitiveType>(data_type: &DataType, parts: LeafParts) -> ArrayRef {
    let array = PrimitiveArray::<T>::new(scalars(parts.first, parts.offset, parts.length), parts.nulls);
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

fn boolean(_: &DataType, parts: LeafParts) -> ArrayRef {
    Arc::new(BooleanArray::new(BooleanBuffer::new(parts.first, parts.offset, parts.length), parts.nulls))
}

fn bytes<T: ByteArrayType>(_: &DataType, parts: LeafParts) -> ArrayRef
where
    T::Offset: OffsetSizeTrait,
{
    let offsets = checked_offsets(parts.first, parts.offset, parts.length);
    let values = parts.bytes.expect("the importer reads a values buffer for every bytes leaf");
    // SAFETY: the offsets are checked as `checked_offsets` says, and the importer sized the values
    // buffer to the last offset; UTF-8 and the middle offsets are the producer's promise, which `Full`
    // checks.
    Arc::new(unsafe { GenericByteArray::<T>::new_unchecked(offsets, values, parts.nulls) })
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
            match (leaf.values, &slots[1..]) {
                (Values::Bits, [layout::Buffer::Bits]) => {}
                (Values::Bytes { width }, [layout::Buffer::Offsets(w), layout::Buffer::Values]) => {
                    assert_eq!(width, *w, "{data_type}")
                }
                (Values::Fixed { width, align }, [layout::Buffer::Data]) => {
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

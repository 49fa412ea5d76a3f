//! Generated round trips of every Arrow type: our export into arrow-rs's `ffi` import, arrow-rs's
//! export into our import, and ours into ours (zero-copy: the same buffer addresses), at every
//! validation level; fields keep their name, nullability, metadata and dictionary ordering.
//!
//! The number of cases follows `PROPTEST_CASES` (256 by default); set it low under Miri.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use arrow_array::{make_array, Array, ArrayRef, StringArray, StructArray};
use arrow_buffer::Buffer;
use arrow_cabi::array::{import_array_as, import_array_data};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::Validation;
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field};
use common::arrays::{
    any_array, array_exact, as_every_child, field_for, field_for_array, one_type_of_every_family, with_empty_child_under,
    zero_width_types, EMPTY_CHILD_PARENTS,
};
use proptest::prelude::*;

const LEVELS: [Validation; 3] = [Validation::Minimal, Validation::Default, Validation::Full];

/// An array from `any_array` and a field for it: `field_for` (nullable, sometimes with metadata and
/// extension metadata) made non-nullable where the data allows, and sometimes dictionary-ordered.
fn field_and_array() -> impl Strategy<Value = (Field, ArrayRef)> {
    any_array().prop_flat_map(|array| {
        let field = prop_oneof![field_for(array.data_type()), field_for_array(&array)];
        (field, any::<bool>(), Just(array))
            .prop_map(|(field, ordered, array)| (field.with_dict_is_ordered(ordered), array))
    })
}

/// Moves our exported structs into arrow-rs's (layout-identical) ones.
fn into_arrow_rs(array: FFI_ArrowArray, schema: FFI_ArrowSchema) -> (arrow::ffi::FFI_ArrowArray, arrow::ffi::FFI_ArrowSchema) {
    let mut array = std::mem::ManuallyDrop::new(array);
    let mut schema = std::mem::ManuallyDrop::new(schema);
    // SAFETY: both crates' structs are `repr(C)` copies of abi.h's; `from_raw` moves the struct out
    // and leaves ours released, and ours is never dropped.
    unsafe {
        (
            arrow::ffi::FFI_ArrowArray::from_raw(array.as_mut_ptr().cast()),
            arrow::ffi::FFI_ArrowSchema::from_raw(schema.as_mut_ptr().cast()),
        )
    }
}

/// Moves arrow-rs's exported array into ours.
fn array_from_arrow_rs(mut array: arrow::ffi::FFI_ArrowArray) -> FFI_ArrowArray {
    // SAFETY: layout-identical structs; `from_raw` leaves arrow-rs's released, so its Drop is a no-op.
    unsafe { FFI_ArrowArray::from_raw((&mut array as *mut arrow::ffi::FFI_ArrowArray).cast()) }
}

fn schema_from_arrow_rs(mut schema: arrow::ffi::FFI_ArrowSchema) -> FFI_ArrowSchema {
    // SAFETY: as `array_from_arrow_rs`.
    unsafe { FFI_ArrowSchema::from_raw((&mut schema as *mut arrow::ffi::FFI_ArrowSchema).cast()) }
}

/// The dictionary-ordered flag of every field below `data_type`, in a fixed order (Field's
/// `PartialEq` does not compare it).
fn ordered_flags(data_type: &DataType, out: &mut Vec<bool>) {
    let field = |field: &Field, out: &mut Vec<bool>| {
        out.push(field.dict_is_ordered().unwrap_or(false));
        ordered_flags(field.data_type(), out);
    };
    match data_type {
        DataType::List(child)
        | DataType::LargeList(child)
        | DataType::ListView(child)
        | DataType::LargeListView(child)
        | DataType::FixedSizeList(child, _)
        | DataType::Map(child, _) => field(child, out),
        DataType::Struct(fields) => fields.iter().for_each(|child| field(child, out)),
        DataType::Union(fields, _) => fields.iter().for_each(|(_, child)| field(child, out)),
        DataType::RunEndEncoded(run_ends, values) => {
            field(run_ends, out);
            field(values, out);
        }
        DataType::Dictionary(_, values) => ordered_flags(values, out),
        _ => {}
    }
}

fn assert_same_field(imported: &Field, expected: &Field) {
    assert_eq!(imported, expected);
    assert_eq!(imported.dict_is_ordered(), expected.dict_is_ordered());
    let (mut got, mut want) = (Vec::new(), Vec::new());
    ordered_flags(imported.data_type(), &mut got);
    ordered_flags(expected.data_type(), &mut want);
    assert_eq!(got, want, "dictionary ordering of nested fields");
}

/// Where each buffer of `data` (and of its children and dictionary) starts and how long it is, with a
/// name for messages. Validity bitmaps are listed as the address of the byte holding the array's first
/// bit, and only when the bitmap has nulls: the exporter sends a NULL bitmap for none.
fn addresses(data: &ArrayData, path: String, out: &mut Vec<(String, *const u8, usize)>) {
    if let Some(nulls) = data.nulls().filter(|nulls| nulls.null_count() > 0) {
        // SAFETY: the byte holding the first bit of the array is inside the bitmap.
        let first = unsafe { nulls.buffer().as_ptr().add(nulls.offset() / 8) };
        out.push((format!("{path}.validity (bit {})", nulls.offset() % 8), first, nulls.buffer().len()));
    }
    for (index, buffer) in data.buffers().iter().enumerate() {
        out.push((format!("{path}.buffers[{index}]"), buffer.as_ptr(), buffer.len()));
    }
    for (index, child) in data.child_data().iter().enumerate() {
        addresses(child, format!("{path}.children[{index}]"), out);
    }
}

/// Our export and our import share every data buffer, and every bitmap whose bit offset lines up on a
/// byte with the data offset (the exporter copies the others to line them up). Buffers the import
/// found empty are skipped: nothing is read from them, so their (dangling) address means nothing.
fn assert_zero_copy(imported: &ArrayData, source: &ArrayData) {
    let (mut got, mut want) = (Vec::new(), Vec::new());
    addresses(imported, "array".into(), &mut got);
    addresses(source, "array".into(), &mut want);
    let names = |list: &[(String, *const u8, usize)]| -> Vec<String> {
        list.iter().map(|(name, ..)| name.split(" (bit").next().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&got), names(&want), "the same buffers, in the same places");
    for ((name, got, len), (want_name, want, _)) in got.iter().zip(&want) {
        if *len == 0 {
            continue;
        }
        if name.contains(".validity") {
            // Copied only when the source bitmap did not start on the data's bit within a byte.
            if want_name == name {
                assert_eq!(got, want, "{name} was copied although its bits lined up");
            }
        } else {
            assert_eq!(got, want, "{name} was copied");
        }
    }
}

/// Whether arrow-rs's `ffi` imports its own export of `array` as valid data.
fn arrow_rs_round_trips(array: &ArrayRef) -> bool {
    let (theirs_array, theirs_schema) = arrow::ffi::to_ffi(&array.to_data()).unwrap();
    // SAFETY: a valid export of arrow-rs.
    unsafe { arrow::ffi::from_ffi(theirs_array, &theirs_schema) }.is_ok_and(|data| data.validate_full().is_ok())
}

/// (i) our export of `array` as `field`, imported by arrow-rs: the same field and an equal array.
fn our_export_into_arrow_rs(field: &Field, array: &ArrayRef) {
    let (ffi_array, ffi_schema) = arrow_cabi::export_array(array, field).unwrap();
    let (theirs_array, theirs_schema) = into_arrow_rs(ffi_array, ffi_schema);
    let their_field = Field::try_from(&theirs_schema).unwrap();
    assert_eq!(their_field.data_type(), field.data_type());
    assert_eq!(their_field.name(), field.name());
    assert_eq!(their_field.is_nullable(), field.is_nullable());
    assert_eq!(their_field.metadata(), field.metadata());
    // SAFETY: a valid export of this crate.
    let imported = unsafe { arrow::ffi::from_ffi(theirs_array, &theirs_schema) }.unwrap();
    imported.validate_full().unwrap();
    let imported = make_array(imported);
    assert_eq!(imported.as_ref(), array.as_ref());
}

/// (ii) arrow-rs's export of `array` as `field`, imported by us at every level (and through the
/// arrow-rs-compatible one-call import): the same field and an equal array.
fn arrow_rs_export_into_ours(field: &Field, array: &ArrayRef) {
    let data = array.to_data();
    let theirs_schema = arrow::ffi::FFI_ArrowSchema::try_from(field).unwrap();
    let schema = schema_from_arrow_rs(theirs_schema);
    let imported_field = Field::try_from(&schema).unwrap();
    assert_same_field(&imported_field, field);
    for validation in LEVELS {
        let theirs = arrow::ffi::FFI_ArrowArray::new(&data);
        let imported = import_array_data(array_from_arrow_rs(theirs), imported_field.data_type(), validation)
            .unwrap_or_else(|e| panic!("{validation:?} refused a valid {}: {e}", field.data_type()));
        let imported = make_array(imported);
        assert_eq!(imported.as_ref(), array.as_ref());
        // The typed output, which the crate's own API and the streams use, agrees.
        let theirs = arrow::ffi::FFI_ArrowArray::new(&data);
        let typed = import_array_as(array_from_arrow_rs(theirs), imported_field.data_type(), validation)
            .unwrap_or_else(|e| panic!("{validation:?} refused a valid {} as a typed array: {e}", field.data_type()));
        assert_eq!(typed.as_ref(), array.as_ref());
    }
    let theirs = arrow::ffi::FFI_ArrowArray::new(&data);
    // SAFETY: a valid export of arrow-rs.
    let imported = unsafe { arrow_cabi::ffi::from_ffi(array_from_arrow_rs(theirs), &schema) }.unwrap();
    let imported = make_array(imported);
    assert_eq!(imported.as_ref(), array.as_ref());
}

/// Every zero-width type (`w:0`, `+w:0`, the struct without fields) of 5 elements, alone and as the
/// child of every nested layout, crossed both ways with arrow-rs, deterministically.
#[test]
fn zero_width_types_cross_both_ways() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    // Under Miri, a few of the zero-width types, each under another layout.
    let cases: Vec<DataType> = zero_width_types().iter().flat_map(as_every_child).collect();
    for data_type in cases.into_iter().step_by(if cfg!(miri) { 11 } else { 1 }) {
        let array = array_exact(&data_type, 5, true).new_tree(&mut runner).unwrap().current();
        let field = Field::new("f", data_type.clone(), true);
        assert!(arrow_rs_round_trips(&array), "arrow-rs crosses {data_type}");
        our_export_into_arrow_rs(&field, &array);
        arrow_rs_export_into_ours(&field, &array);
    }
}

/// Every type family as the length-0 child of every parent `with_empty_child_under` makes (and the
/// zero-width types alone), crossed both ways with arrow-rs, deterministically; under Miri, every
/// other parent over one child type.
#[test]
fn every_type_as_a_length_0_child_crosses_both_ways() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    // Under Miri (which interprets every instruction) every other parent, over one child type each.
    let types = if cfg!(miri) {
        vec![DataType::Utf8, DataType::Int32, DataType::FixedSizeBinary(0), DataType::Utf8View, DataType::Boolean]
    } else {
        one_type_of_every_family()
    };
    let pairs: Vec<(&str, &DataType)> = if cfg!(miri) {
        EMPTY_CHILD_PARENTS.iter().zip(types.iter().cycle()).map(|(parent, child)| (*parent, child)).step_by(2).collect()
    } else {
        types.iter().flat_map(|child| EMPTY_CHILD_PARENTS.iter().map(move |parent| (*parent, child))).collect()
    };
    let mut arrow_rs_mishandles = Vec::new();
    for (parent, child) in pairs {
        let array = with_empty_child_under(parent, child.clone()).new_tree(&mut runner).unwrap().current();
        let field = Field::new("f", array.data_type().clone(), true);
        if arrow_rs_round_trips(&array) {
            our_export_into_arrow_rs(&field, &array);
        } else {
            let (theirs_array, theirs_schema) = arrow::ffi::to_ffi(&array.to_data()).unwrap();
            // SAFETY: a valid export of arrow-rs.
            let why = match unsafe { arrow::ffi::from_ffi(theirs_array, &theirs_schema) } {
                Err(e) => format!("import: {e}"),
                Ok(data) => format!("validate_full: {}", data.validate_full().unwrap_err()),
            };
            arrow_rs_mishandles.push(format!("{parent} of {child}: {why}"));
        }
        arrow_rs_export_into_ours(&field, &array);
        for validation in LEVELS {
            let (ffi_array, ffi_schema) = arrow_cabi::export_array(&array, &field).unwrap();
            let (_, imported) = arrow_cabi::import_array(ffi_array, &ffi_schema, validation).unwrap();
            assert_eq!(imported.as_ref(), array.as_ref(), "{parent} of {child} at {validation:?}");
        }
    }
    // The one case arrow-rs's import gets wrong (as in `our_export_into_arrow_rs_import`): an empty
    // byte array, here below the empty child, whose one offset is not 0; every other must cross.
    let known = |case: &String| case.contains("validate_full: Invalid argument error: First offset") && case.ends_with("is larger than values length 0");
    let unknown: Vec<_> = arrow_rs_mishandles.iter().filter(|case| !known(case)).collect();
    assert!(unknown.is_empty(), "arrow-rs does not import its own export of {unknown:?}");
}

proptest! {
    // Under Miri's isolation proptest cannot look up the directory to persist failures in.
    #![proptest_config(ProptestConfig {
        failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
        ..ProptestConfig::default()
    })]

    /// (i) our export, arrow-rs's import.
    #[test]
    fn our_export_into_arrow_rs_import((field, array) in field_and_array()) {
        // Only where arrow-rs imports its own export correctly: for an empty utf8 array whose one
        // offset is not 0 it takes the values buffer as empty, and builds data that `validate_full`
        // refuses (the offset is past the end of the values).
        prop_assume!(arrow_rs_round_trips(&array));
        our_export_into_arrow_rs(&field, &array);
    }

    /// (ii) arrow-rs's export, our import, at every validation level.
    #[test]
    fn arrow_rs_export_into_our_import((field, array) in field_and_array()) {
        arrow_rs_export_into_ours(&field, &array);
    }

    /// (iii) our export, our import: equal, and zero-copy, at every validation level.
    #[test]
    fn our_export_into_our_import((field, array) in field_and_array()) {
        let data = array.to_data();
        for validation in LEVELS {
            let (ffi_array, ffi_schema) = arrow_cabi::export_array(&array, &field).unwrap();
            let (imported_field, imported) = arrow_cabi::import_array(ffi_array, &ffi_schema, validation)
                .unwrap_or_else(|e| panic!("{validation:?} refused a valid {}: {e}", field.data_type()));
            assert_same_field(&imported_field, &field);
            prop_assert_eq!(imported.as_ref(), array.as_ref());
            assert_zero_copy(&imported.to_data(), &data);
        }
    }

    /// A field alone: name, nullability, metadata (extension keys included) and dictionary ordering.
    #[test]
    fn field_round_trip((field, _array) in field_and_array()) {
        let schema = FFI_ArrowSchema::try_from(&field).unwrap();
        assert_same_field(&Field::try_from(&schema).unwrap(), &field);
        prop_assert_eq!(&DataType::try_from(&schema).unwrap(), field.data_type());
    }
}

// ---------------------------------------------------------------------------------------------------
// Full validation catches what the O(1) levels cannot.

/// arrow-rs data of a utf8 array with the given (possibly invalid) offsets and bytes, unchecked.
fn corrupt_utf8_data(offsets: &[i32], values: &[u8]) -> ArrayData {
    let data = ArrayData::builder(DataType::Utf8)
        .len(offsets.len() - 1)
        .add_buffer(Buffer::from_slice_ref(offsets))
        .add_buffer(Buffer::from_slice_ref(values));
    // SAFETY: nothing reads the values through arrow-rs: the data is only exported or validated.
    unsafe { data.build_unchecked() }
}

/// An arrow-rs export of a utf8 array with the given (possibly invalid) offsets and bytes.
fn corrupt_utf8_export(offsets: &[i32], values: &[u8]) -> FFI_ArrowArray {
    array_from_arrow_rs(arrow::ffi::FFI_ArrowArray::new(&corrupt_utf8_data(offsets, values)))
}

/// Default accepts; Full refuses with a message naming `path` and `fault`.
fn only_full_refuses(export: impl Fn() -> FFI_ArrowArray, data_type: &DataType, path: &str, fault: &str) {
    for validation in [Validation::Minimal, Validation::Default] {
        import_array_data(export(), data_type, validation)
            .unwrap_or_else(|e| panic!("{validation:?} should not look at every offset or byte: {e}"));
    }
    let message = import_array_data(export(), data_type, Validation::Full).unwrap_err().to_string();
    assert!(message.starts_with(&format!("{path}:")), "{message:?} should name {path}");
    assert!(message.to_lowercase().contains(&fault.to_lowercase()), "{message:?} should say {fault}");
}

#[test]
fn full_validation_rejects_invalid_utf8() {
    let export = || corrupt_utf8_export(&[0, 2, 4], b"ab\xff\xfe");
    only_full_refuses(export, &DataType::Utf8, "array", "invalid utf8");
}

#[test]
fn full_validation_rejects_a_non_monotonic_middle_offset() {
    let export = || corrupt_utf8_export(&[0, 3, 1, 4], b"abcd");
    only_full_refuses(export, &DataType::Utf8, "array", "non-monotonic");
}

#[test]
fn full_validation_names_the_child_that_is_corrupt() {
    let fields = vec![Field::new("ok", DataType::Utf8, true), Field::new("bad", DataType::Utf8, true)];
    let data_type = DataType::Struct(fields.clone().into());
    let export = || {
        let good = StringArray::from(vec!["x", "y"]).into_data();
        let offsets = Buffer::from_slice_ref([0i32, 1, 3]);
        let values = Buffer::from_slice_ref(b"a\xc3(");
        let builder = ArrayData::builder(DataType::Utf8).len(2).add_buffer(offsets).add_buffer(values);
        // SAFETY: nothing reads the values through arrow-rs: the data is only exported.
        let bad = unsafe { builder.build_unchecked() };
        let strukt = ArrayData::builder(DataType::Struct(fields.clone().into())).len(2).child_data(vec![good, bad]);
        // SAFETY: as above.
        let strukt = unsafe { strukt.build_unchecked() };
        array_from_arrow_rs(arrow::ffi::FFI_ArrowArray::new(&strukt))
    };
    only_full_refuses(export, &data_type, "array.children[1]", "utf8");
}

#[test]
fn a_struct_round_trips_with_its_schema() {
    let a: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
    let batch = StructArray::from(vec![(Arc::new(Field::new("a", DataType::Utf8, true)), a)]);
    let schema = arrow_schema::Schema::new(vec![Field::new("a", DataType::Utf8, true)])
        .with_metadata(std::collections::HashMap::from([("k".to_string(), "v".to_string())]));
    let exported = FFI_ArrowSchema::try_from(&schema).unwrap();
    assert_eq!(arrow_schema::Schema::try_from(&exported).unwrap(), schema);
    let (array, _) = arrow_cabi::ffi::to_ffi(&batch.to_data()).unwrap();
    let imported = import_array_data(array, &DataType::Struct(schema.fields().clone()), Validation::Full).unwrap();
    assert_eq!(StructArray::from(imported), batch);
}

#[test]
fn full_validation_rejects_an_offset_inside_a_character() {
    // "é" is two bytes; an offset between them leaves each value invalid although the whole buffer is UTF-8.
    let export = || corrupt_utf8_export(&[0, 2, 4], "aéb".as_bytes());
    only_full_refuses(export, &DataType::Utf8, "array", "utf8");
}

#[test]
fn full_validation_says_where_utf8_breaks_where_arrow_rs_refuses_too() {
    // (offsets, values, what the message names); every offset is within the values.
    let cases: [(&[i32], &[u8], &str); 5] = [
        // "é" (c3 a9) split between values 0 and 1: the whole text is UTF-8, the values are not.
        (&[0, 2, 4], "aéb".as_bytes(), "offset 1 (2) splits a character"),
        // "€" (e2 82 ac) begun in value 0 and not finished in value 1.
        (&[0, 2, 4], b"a\xe2\x82z", "value 0 has an invalid 2-byte sequence at byte 1"),
        (&[0, 2, 3, 5], b"abc\x80d", "value 2 has an invalid 1-byte sequence at byte 3"),
        (&[0, 2, 4], b"ab\xe2\x82", "value 1 has an incomplete sequence at its end at byte 2"),
        // A sliced array: the bytes before the first offset are not read, the byte named is the buffer's.
        (&[1, 3, 5], b"\xffab\xc3(", "value 1 has an invalid 1-byte sequence at byte 3"),
    ];
    for (offsets, values, names) in cases {
        assert!(corrupt_utf8_data(offsets, values).validate_full().is_err(), "arrow-rs accepts {values:?}");
        let export = || corrupt_utf8_export(offsets, values);
        only_full_refuses(export, &DataType::Utf8, "array", names);
    }
    // Past the first 64 bytes, the block the SIMD check works in.
    let long = ["é".repeat(40).as_bytes(), b"\xff"].concat();
    assert!(corrupt_utf8_data(&[0, 80, 81], &long).validate_full().is_err());
    let export = || corrupt_utf8_export(&[0, 80, 81], &long);
    only_full_refuses(export, &DataType::Utf8, "array", "value 1 has an invalid 1-byte sequence at byte 80");
}

/// Offsets in range of the values (so that reading them is sound) but otherwise arbitrary, over bytes
/// that mix ASCII, multi-byte characters and invalid sequences.
fn arbitrary_utf8_parts() -> impl Strategy<Value = (Vec<i32>, Vec<u8>)> {
    let pieces = prop::collection::vec(
        prop_oneof![Just(&b"a"[..]), Just("é".as_bytes()), Just("€".as_bytes()), Just(&b"\xff"[..]), Just(&b"\xc3"[..])],
        0..12,
    );
    pieces.prop_flat_map(|pieces| {
        let values: Vec<u8> = pieces.concat();
        let len = values.len() as i32;
        let sorted = prop::collection::vec(0..=len, 1..8).prop_map(|mut offsets| {
            offsets.sort();
            offsets
        });
        let any_order = prop::collection::vec(0..=len, 1..8);
        (prop_oneof![sorted, any_order], Just(values))
    })
}

proptest! {
    /// Full validation agrees with arrow-rs's `validate_full` on utf8 arrays whose offsets and bytes may
    /// be wrong: the independent truth for the checks of our own in `array/full.rs`.
    #[test]
    fn full_validation_agrees_with_arrow_rs((offsets, values) in arbitrary_utf8_parts()) {
        let data = ArrayData::builder(DataType::Utf8)
            .len(offsets.len() - 1)
            .add_buffer(Buffer::from_slice_ref(&offsets))
            .add_buffer(Buffer::from_slice_ref(&values));
        // SAFETY: only validated and exported; every offset is within the values.
        let data = unsafe { data.build_unchecked() };
        let theirs = data.validate_full();
        let export = corrupt_utf8_export(&offsets, &values);
        let ours = import_array_data(export, &DataType::Utf8, Validation::Full);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "ours: {:?}, arrow-rs: {:?}", ours.err(), theirs.err());
    }
}

#[test]
fn full_validation_accepts_offsets_at_the_end_of_the_text_before_more_bytes() {
    // The values buffer goes on past the last offset into the middle of a character; nothing reads it.
    let export = || corrupt_utf8_export(&[0, 1, 1], "aé".as_bytes().split_at(2).0);
    let imported = import_array_data(export(), &DataType::Utf8, Validation::Full);
    assert!(imported.is_ok(), "{imported:?}");
}

//! Schema export and import against arrow-rs 60.1's `ffi`, the independent truth: (a) what our export
//! writes, node by node, is what arrow-rs's writes, for a bare `DataType` (NULL name, flags 0) as for a
//! field; (b) schemas of every type the generators cover cross both ways; (c) every node of one export
//! is released exactly once, whatever children are moved out and in whatever order, on any thread.
#![allow(missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use arrow_cabi::ffi::FFI_ArrowSchema;
use arrow_cabi_sys::ArrowSchema;
use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit, UnionFields, UnionMode};
use common::arrays::{data_type, field_for, record_batch, DEPTH};
use proptest::prelude::*;

/// arrow-rs's export, moved into our owned type so that both are read through the same accessors
/// (and released by arrow-rs's own release when dropped).
fn theirs<T>(value: &T) -> FFI_ArrowSchema
where
    for<'a> arrow::ffi::FFI_ArrowSchema: TryFrom<&'a T, Error = arrow_schema::ArrowError>,
{
    let mut exported = arrow::ffi::FFI_ArrowSchema::try_from(value).unwrap();
    // SAFETY: both crates' structs are `repr(C)` copies of abi.h's; `from_raw` moves the struct out and
    // leaves arrow-rs's released, so its drop does nothing.
    unsafe { FFI_ArrowSchema::from_raw((&mut exported as *mut arrow::ffi::FFI_ArrowSchema).cast()) }
}

/// Our schema moved into arrow-rs's type, for arrow-rs's import.
fn into_theirs(mut ours: FFI_ArrowSchema) -> arrow::ffi::FFI_ArrowSchema {
    // SAFETY: as in `theirs`, the other way.
    unsafe { arrow::ffi::FFI_ArrowSchema::from_raw(ours.as_mut_ptr().cast()) }
}

/// Everything a node of an exported tree says, with its children and dictionary.
#[derive(Debug, PartialEq)]
struct Node {
    format: String,
    name: Option<String>,
    flags: i64,
    metadata: Vec<(String, String)>,
    /// NULL or not.
    metadata_is_null: bool,
    children: Vec<Node>,
    dictionary: Option<Box<Node>>,
}

fn describe(schema: &FFI_ArrowSchema) -> Node {
    let mut metadata: Vec<_> = schema.metadata().unwrap().into_iter().collect();
    metadata.sort();
    assert_eq!(schema.n_children(), schema.children().count(), "no NULL child pointer");
    Node {
        format: schema.format().to_owned(),
        name: schema.name().map(str::to_owned),
        flags: schema.as_sys().flags,
        metadata,
        metadata_is_null: schema.as_sys().metadata.is_null(),
        children: schema.children().map(describe).collect(),
        dictionary: schema.dictionary().map(|values| Box::new(describe(values))),
    }
}

fn field(name: &str, data_type: DataType, nullable: bool) -> Arc<Field> {
    Arc::new(Field::new(name, data_type, nullable))
}

/// Types with every kind of node: children, dictionaries (ordered or not, nested), sorted maps,
/// parametrised formats, metadata below the root.
fn types() -> Vec<DataType> {
    let dictionary = |values| DataType::Dictionary(Box::new(DataType::Int16), Box::new(values));
    let entries = |value: DataType| {
        field("entries", DataType::Struct(Fields::from(vec![field("key", DataType::Utf8, false), field("value", value, true)])), false)
    };
    let tagged = Field::new("tagged", DataType::Int8, true)
        .with_metadata(HashMap::from([("ARROW:extension:name".to_owned(), "x.tag".to_owned())]));
    let ordered = Field::new("ordered", dictionary(DataType::Utf8), true).with_dict_is_ordered(true);
    let union = UnionFields::try_new([3, 0], [field("a", DataType::Int32, true), field("b", DataType::Utf8, false)]).unwrap();
    vec![
        DataType::Int32,
        DataType::Null,
        DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into())),
        DataType::Timestamp(TimeUnit::Second, None),
        DataType::Decimal128(10, 2),
        DataType::Decimal256(40, -3),
        DataType::Decimal32(9, 1),
        DataType::FixedSizeBinary(16),
        DataType::List(field("item", DataType::Utf8, true)),
        DataType::FixedSizeList(field("item", DataType::Float64, false), 3),
        DataType::LargeListView(Arc::new(tagged.clone())),
        DataType::Struct(Fields::from(vec![tagged, ordered])),
        DataType::Map(entries(DataType::Int64), true),
        DataType::Map(entries(dictionary(DataType::Binary)), false),
        DataType::Union(union, UnionMode::Dense),
        DataType::RunEndEncoded(field("run_ends", DataType::Int32, false), field("values", DataType::Utf8, true)),
        dictionary(DataType::Utf8),
        dictionary(DataType::Map(entries(DataType::Int64), true)),
        dictionary(dictionary(DataType::Utf8)),
    ]
}

#[test]
fn a_bare_data_type_exports_as_arrow_rs_exports_it() {
    for data_type in types() {
        let ours = FFI_ArrowSchema::try_from(&data_type).unwrap();
        assert_eq!(describe(&ours), describe(&theirs(&data_type)), "{data_type}");
        assert_eq!((ours.name(), ours.as_sys().flags & !arrow_cabi_sys::ARROW_FLAG_MAP_KEYS_SORTED), (None, 0), "{data_type}");
    }
}

#[test]
fn a_field_exports_as_arrow_rs_exports_it() {
    for data_type in types() {
        for nullable in [false, true] {
            let field = Field::new("f", data_type.clone(), nullable)
                .with_metadata(HashMap::from([("k".to_owned(), "v".to_owned()), ("".to_owned(), "".to_owned())]));
            assert_eq!(describe(&FFI_ArrowSchema::try_from(&field).unwrap()), describe(&theirs(&field)), "{field}");
        }
    }
}

#[test]
fn a_null_name_imports_as_empty() {
    for data_type in types() {
        for exported in [FFI_ArrowSchema::try_from(&data_type).unwrap(), theirs(&data_type)] {
            assert_eq!(exported.name(), None);
            let imported = Field::try_from(&exported).unwrap();
            assert_eq!((imported.name().as_str(), imported.data_type()), ("", &data_type));
            assert!(!imported.is_nullable());
        }
    }
}

#[test]
fn a_schema_exports_as_arrow_rs_exports_it_but_for_the_root_name() {
    let schema = Schema::new(vec![Field::new("a", DataType::Utf8, true), Field::new("b", types()[11].clone(), false)])
        .with_metadata(HashMap::from([("k".to_owned(), "v".to_owned())]));
    let mut ours = describe(&FFI_ArrowSchema::try_from(&schema).unwrap());
    let theirs = describe(&theirs(&schema));
    // Ours names the root "", arrow-rs leaves it NULL; both import as "".
    assert_eq!(ours.name.take().as_deref(), Some(""));
    assert_eq!(ours, theirs);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    /// What our export writes is what arrow-rs's writes, node by node.
    #[test]
    fn generated_fields_export_as_arrow_rs_exports_them(field in data_type(DEPTH).prop_flat_map(|dt| field_for(&dt))) {
        prop_assert_eq!(describe(&FFI_ArrowSchema::try_from(&field).unwrap()), describe(&theirs(&field)));
        let bare = field.data_type();
        prop_assert_eq!(describe(&FFI_ArrowSchema::try_from(bare).unwrap()), describe(&theirs(bare)));
    }

    /// Our export into arrow-rs's import, and arrow-rs's export into ours, give the field back.
    #[test]
    fn generated_fields_cross_both_ways(field in data_type(DEPTH).prop_flat_map(|dt| field_for(&dt))) {
        let ours = FFI_ArrowSchema::try_from(&field).unwrap();
        let through_arrow_rs = Field::try_from(&into_theirs(ours)).unwrap();
        prop_assert_eq!(&through_arrow_rs, &field);
        prop_assert_eq!(through_arrow_rs.dict_is_ordered(), field.dict_is_ordered());
        let through_ours = Field::try_from(&theirs(&field)).unwrap();
        prop_assert_eq!(&through_ours, &field);
        prop_assert_eq!(through_ours.dict_is_ordered(), field.dict_is_ordered());
        prop_assert_eq!(DataType::try_from(&theirs(field.data_type())).unwrap(), field.data_type().clone());
    }

    /// The same for whole schemas (the generators' record batches), metadata included.
    #[test]
    fn generated_schemas_cross_both_ways(batch in record_batch()) {
        let schema = batch.schema().as_ref().clone()
            .with_metadata(HashMap::from([("origin".to_owned(), "test".to_owned())]));
        let ours = FFI_ArrowSchema::try_from(&schema).unwrap();
        prop_assert_eq!(Schema::try_from(&into_theirs(ours)).unwrap(), schema.clone());
        prop_assert_eq!(Schema::try_from(&theirs(&schema)).unwrap(), schema);
    }
}

// ---------------------------------------------------------------------------------------------------
// Release: one block per export, freed with its last node (Miri reports any leak or double free).

/// Moves child `index` out of `parent`, leaving the slot released, as a consumer may.
fn move_child(parent: &FFI_ArrowSchema, index: usize) -> FFI_ArrowSchema {
    assert!(index < parent.n_children());
    // SAFETY: an unreleased export's `children` holds `n_children` valid pointers; `from_raw` moves the
    // struct out and marks the slot released, which the parent's release then skips.
    unsafe { FFI_ArrowSchema::from_raw((*parent.as_sys().children.add(index)).cast()) }
}

/// Moves the dictionary out of `parent`.
fn move_dictionary(parent: &FFI_ArrowSchema) -> FFI_ArrowSchema {
    let dictionary = parent.as_sys().dictionary;
    assert!(!dictionary.is_null());
    // SAFETY: as in `move_child`.
    unsafe { FFI_ArrowSchema::from_raw(dictionary.cast()) }
}

/// A struct of a list (whose item is moved out in turn), a dictionary, and a plain column.
fn nested() -> Field {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let fields = vec![
        Field::new("list", DataType::List(field("item", DataType::Int64, true)), true),
        Field::new("dictionary", dictionary, false),
        Field::new("plain", DataType::Float32, true)
            .with_metadata(HashMap::from([("k".to_owned(), "v".to_owned())])),
    ];
    Field::new("root", DataType::Struct(Fields::from(fields)), true)
}

/// Checks that `schema` still imports (through arrow-rs, and through ours) as `want`.
fn still_valid(schema: &FFI_ArrowSchema, want: &Field) {
    assert_eq!(&Field::try_from(schema).unwrap(), want);
    // SAFETY: the struct is one of our valid exports; arrow-rs reads it through a layout-identical
    // type and never releases it (the `ManuallyDrop`).
    let theirs = std::mem::ManuallyDrop::new(unsafe { std::ptr::read((schema.as_sys() as *const ArrowSchema).cast::<arrow::ffi::FFI_ArrowSchema>()) });
    assert_eq!(&Field::try_from(&*theirs).unwrap(), want);
}

/// Every order of `0..n`.
fn orders(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for order in orders(n - 1) {
        for at in 0..=order.len() {
            let mut order = order.clone();
            order.insert(at, n - 1);
            all.push(order);
        }
    }
    all
}

#[test]
fn moved_out_children_are_released_in_every_order() {
    let root_field = nested();
    let DataType::Struct(fields) = root_field.data_type() else { unreachable!() };
    let DataType::List(item) = fields[0].data_type() else { unreachable!() };
    for order in orders(5) {
        let root = FFI_ArrowSchema::try_from(&root_field).unwrap();
        let list = move_child(&root, 0);
        let item_schema = move_child(&list, 0);
        let dictionary = move_child(&root, 1);
        let values = move_dictionary(&dictionary);
        // The plain column stays in place: the root's release releases it.
        let mut held = [Some(root), Some(list), Some(item_schema), Some(dictionary), Some(values)];
        for &index in &order {
            let schema = held[index].take().unwrap();
            drop(schema);
            // Whatever is left still reads as it did.
            if let Some(list) = &held[1] {
                assert_eq!(list.format(), "+l");
                assert!(list.child_opt(0).unwrap().is_released());
            }
            if let Some(item_schema) = &held[2] {
                still_valid(item_schema, item);
            }
            if let Some(values) = &held[4] {
                assert_eq!(DataType::try_from(values).unwrap(), DataType::Utf8);
            }
            if let Some(dictionary) = &held[3] {
                assert_eq!(dictionary.format(), "i");
                assert!(dictionary.dictionary().unwrap().is_released());
            }
        }
    }
}

#[test]
fn releasing_the_root_releases_the_children_in_place() {
    let root_field = nested();
    let DataType::Struct(fields) = root_field.data_type() else { unreachable!() };
    let root = FFI_ArrowSchema::try_from(&root_field).unwrap();
    let plain = move_child(&root, 2);
    drop(root);
    still_valid(&plain, &fields[2]);
    let raw = plain.into_sys();
    let mut raw = raw;
    let release = raw.release.unwrap();
    // SAFETY: our own unreleased export's release, called once; it marks the struct released.
    unsafe { release(&mut raw) };
    assert!(raw.release.is_none() && raw.private_data.is_null());
}

#[test]
fn children_are_released_on_other_threads() {
    let root_field = nested();
    let DataType::Struct(fields) = root_field.data_type() else { unreachable!() };
    for _ in 0..if cfg!(miri) { 2 } else { 50 } {
        let root = FFI_ArrowSchema::try_from(&root_field).unwrap();
        let moved: Vec<FFI_ArrowSchema> = (0..3).map(|index| move_child(&root, index)).collect();
        let threads: Vec<_> = moved
            .into_iter()
            .zip(fields.iter().cloned())
            .map(|(schema, want)| {
                std::thread::spawn(move || {
                    assert_eq!(Field::try_from(&schema).unwrap(), *want);
                    drop(schema);
                })
            })
            .collect();
        drop(root);
        threads.into_iter().for_each(|thread| thread.join().unwrap());
    }
}

#[test]
fn export_errors_keep_their_messages() {
    let cases = [
        (Field::new("a\0b", DataType::Int32, true), "field name \"a\\0b\" contains a NUL byte"),
        (
            Field::new("ts", DataType::Timestamp(TimeUnit::Second, Some("a\0".into())), true),
            "format \"tss:a\\0\" contains a NUL byte",
        ),
        (
            Field::new("s", DataType::Struct(Fields::from(vec![Field::new("w", DataType::FixedSizeBinary(-1), true)])), true),
            "cannot encode FixedSizeBinary(-1): width -1 is negative",
        ),
    ];
    for (field, message) in cases {
        let error = FFI_ArrowSchema::try_from(&field).unwrap_err();
        assert!(error.to_string().contains(message), "{error} should say {message}");
    }
}

//! Checks of the array generators in `tests/common/arrays.rs` themselves: every generated array
//! is valid for arrow-rs, and the generators reach every type family and edge case (empty arrays
//! made every way arrow-rs makes them included).

mod common;

use std::collections::BTreeMap;

use arrow_array::{make_array, Array, ArrayRef};
use arrow_data::ArrayData;
use arrow_schema::DataType;
use common::arrays::{
    all_type_families, any_array, any_data, any_field_and_array, array_of, data_type, empty_data,
    field_for, one_type_of_every_family, record_batch, type_family, visit_types,
    with_empty_child_under, EMPTY_CHILD_PARENTS, EMPTY_WAYS, EXTENSION_METADATA_KEY,
    EXTENSION_NAME_KEY, MAX_LEN,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Calls `f` on `data` and all its descendants.
fn walk(data: &ArrayData, f: &mut dyn FnMut(&ArrayData)) {
    f(data);
    for child in data.child_data() {
        walk(child, f);
    }
}

fn check_valid(array: &ArrayRef) {
    let data = array.to_data();
    if let Err(e) = data.validate_full() {
        panic!(
            "generated array of type {} is invalid: {e}\n{array:?}",
            array.data_type()
        );
    }
    // A round trip through ArrayData gives back an equal array.
    let again = make_array(data.clone());
    assert_eq!(again.to_data(), data);
}

fn deterministic_runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    #[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
    fn any_array_is_valid(array in any_array()) {
        check_valid(&array);
        prop_assert!(array.len() <= MAX_LEN);
    }

    #[test]
    #[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
    fn any_data_is_valid(data in any_data()) {
        if let Err(e) = data.validate_full() {
            panic!("generated data of type {} is invalid: {e}\n{data:?}", data.data_type());
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
    fn array_of_respects_type_and_length(
        (dt, array) in data_type(3).prop_flat_map(|dt| (Just(dt.clone()), array_of(dt, 5)))
    ) {
        check_valid(&array);
        prop_assert_eq!(array.data_type(), &dt);
        prop_assert!(array.len() <= 5);
    }

    #[test]
    #[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
    fn fields_match_their_arrays((field, array) in any_field_and_array()) {
        check_valid(&array);
        prop_assert_eq!(field.data_type(), array.data_type());
        if !field.is_nullable() {
            prop_assert_eq!(array.logical_null_count(), 0);
            prop_assert_eq!(array.null_count(), 0);
        }
        if let Some(meta) = field.metadata().get(EXTENSION_METADATA_KEY) {
            let _ = meta;
            prop_assert!(field.metadata().contains_key(EXTENSION_NAME_KEY));
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
    fn record_batches_are_valid(batch in record_batch()) {
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            check_valid(column);
            prop_assert_eq!(field.data_type(), column.data_type());
            prop_assert_eq!(column.len(), batch.num_rows());
            if !field.is_nullable() {
                prop_assert_eq!(column.null_count(), 0);
            }
        }
    }
}

/// Over 512 arrays (fixed seed, so the test cannot flake) every type family and every edge case
/// the generators promise shows up.
#[test]
#[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
fn every_type_family_and_edge_case_appears() {
    let mut runner = deterministic_runner();
    let strategy = any_array();
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    let mut edges: BTreeMap<&'static str, usize> = BTreeMap::new();
    let hit = |edges: &mut BTreeMap<&'static str, usize>, name: &'static str, cond: bool| {
        if cond {
            *edges.entry(name).or_default() += 1;
        }
    };
    let mut top_level: BTreeMap<String, usize> = BTreeMap::new();
    // The families seen as a child of length 0 under a parent of length > 0.
    let mut empty_children: BTreeMap<String, usize> = BTreeMap::new();

    for _ in 0..512 {
        let array = strategy.new_tree(&mut runner).expect("new tree").current();
        check_valid(&array);
        *top_level.entry(type_family(array.data_type())).or_default() += 1;
        visit_types(array.data_type(), &mut |dt| {
            *families.entry(type_family(dt)).or_default() += 1;
            match dt {
                DataType::Timestamp(_, tz) => {
                    hit(&mut edges, "timestamp with tz", tz.is_some());
                    hit(&mut edges, "timestamp without tz", tz.is_none());
                }
                DataType::Struct(f) => hit(&mut edges, "struct with zero fields", f.is_empty()),
                DataType::Union(f, _) => {
                    let ids: Vec<i8> = f.iter().map(|(id, _)| id).collect();
                    let contiguous = ids.iter().enumerate().all(|(i, &id)| id as usize == i);
                    hit(
                        &mut edges,
                        "union with non-contiguous type ids",
                        !contiguous,
                    );
                    hit(&mut edges, "union with 3 children", ids.len() == 3);
                }
                DataType::Map(_, sorted) => {
                    hit(&mut edges, "map sorted", *sorted);
                    hit(&mut edges, "map unsorted", !*sorted);
                }
                DataType::Dictionary(k, _) => {
                    hit(
                        &mut edges,
                        "dictionary with unsigned keys",
                        k.is_unsigned_integer(),
                    );
                    hit(
                        &mut edges,
                        "dictionary with signed keys",
                        k.is_signed_integer(),
                    );
                }
                DataType::RunEndEncoded(r, _) => {
                    hit(
                        &mut edges,
                        "run ends Int16",
                        r.data_type() == &DataType::Int16,
                    );
                    hit(
                        &mut edges,
                        "run ends Int32",
                        r.data_type() == &DataType::Int32,
                    );
                    hit(
                        &mut edges,
                        "run ends Int64",
                        r.data_type() == &DataType::Int64,
                    );
                }
                DataType::List(c) | DataType::LargeList(c) => {
                    hit(
                        &mut edges,
                        "dictionary in list",
                        matches!(c.data_type(), DataType::Dictionary(..)),
                    );
                }
                DataType::Decimal32(_, s)
                | DataType::Decimal64(_, s)
                | DataType::Decimal128(_, s)
                | DataType::Decimal256(_, s) => hit(&mut edges, "decimal negative scale", *s < 0),
                _ => {}
            }
            if let DataType::Struct(f) = dt {
                hit(
                    &mut edges,
                    "dictionary in struct",
                    f.iter()
                        .any(|c| matches!(c.data_type(), DataType::Dictionary(..))),
                );
                hit(
                    &mut edges,
                    "non-nullable struct field",
                    f.iter().any(|c| !c.is_nullable()),
                );
            }
        });

        let data = array.to_data();
        hit(&mut edges, "empty array", array.is_empty());
        hit(
            &mut edges,
            "top-level offset > 0",
            array.offset() > 0 || data.offset() > 0,
        );
        hit(&mut edges, "top-level nulls", array.null_count() > 0);
        hit(
            &mut edges,
            "top-level all null",
            !array.is_empty() && array.null_count() == array.len(),
        );
        walk(&data, &mut |d| {
            for child in d.child_data().iter().filter(|child| child.is_empty() && !d.is_empty()) {
                *empty_children.entry(type_family(child.data_type())).or_default() += 1;
            }
            hit(&mut edges, "struct with zero fields and length > 0", matches!(d.data_type(), DataType::Struct(f) if f.is_empty()) && !d.is_empty());
            hit(&mut edges, "w:0 with length > 0", d.data_type() == &DataType::FixedSizeBinary(0) && !d.is_empty());
            hit(&mut edges, "+w:0 with length > 0", matches!(d.data_type(), DataType::FixedSizeList(_, 0)) && !d.is_empty());
            hit(&mut edges, "child offset > 0", d.offset() > 0);
            hit(&mut edges, "validity buffer present", d.nulls().is_some());
            match d.data_type() {
                DataType::Utf8View | DataType::BinaryView => {
                    hit(
                        &mut edges,
                        "view with 0 variadic buffers",
                        d.buffers().len() == 1 && !d.is_empty(),
                    );
                    hit(
                        &mut edges,
                        "view with >= 2 variadic buffers",
                        d.buffers().len() >= 3,
                    );
                    let long = d.buffer::<u128>(0)[d.offset()..d.offset() + d.len()]
                        .iter()
                        .any(|v| (*v as u32) > 12);
                    hit(&mut edges, "view with out-of-line value", long);
                }
                DataType::ListView(_) | DataType::LargeListView(_) if d.len() >= 2 => {
                    let (o, s) = if matches!(d.data_type(), DataType::ListView(_)) {
                        let o = &d.buffer::<i32>(0)[d.offset()..d.offset() + d.len()];
                        let s = &d.buffer::<i32>(1)[d.offset()..d.offset() + d.len()];
                        (
                            o.iter().map(|&x| x as i64).collect::<Vec<_>>(),
                            s.iter().map(|&x| x as i64).collect::<Vec<_>>(),
                        )
                    } else {
                        let o = &d.buffer::<i64>(0)[d.offset()..d.offset() + d.len()];
                        let s = &d.buffer::<i64>(1)[d.offset()..d.offset() + d.len()];
                        (o.to_vec(), s.to_vec())
                    };
                    let out_of_order = o.windows(2).any(|w| w[1] < w[0]);
                    let overlap = (0..o.len()).any(|i| {
                        (0..o.len()).any(|j| {
                            i != j
                                && s[i] > 0
                                && s[j] > 0
                                && o[i] < o[j] + s[j]
                                && o[j] < o[i] + s[i]
                        })
                    });
                    hit(&mut edges, "list view out of order", out_of_order);
                    hit(&mut edges, "list view overlapping", overlap);
                }
                DataType::Utf8 | DataType::Binary | DataType::List(_) | DataType::Map(..) => {
                    hit(
                        &mut edges,
                        "first offset non-zero",
                        !d.is_empty() && d.buffer::<i32>(0)[d.offset()] != 0,
                    );
                }
                _ => {}
            }
            // arrow-rs folds most slices into the buffers' start pointers (ArrayData offset 0).
            let sliced = d.offset() > 0 || d.buffers().iter().any(|b| b.ptr_offset() > 0);
            match d.data_type() {
                DataType::Dictionary(..) => hit(&mut edges, "sliced dictionary", sliced),
                DataType::List(_) | DataType::LargeList(_) => {
                    hit(&mut edges, "sliced list", sliced)
                }
                DataType::Struct(_) => hit(
                    &mut edges,
                    "sliced struct",
                    d.offset() > 0 || d.nulls().is_some_and(|n| n.offset() > 0),
                ),
                DataType::Utf8View => hit(&mut edges, "sliced string view", sliced),
                _ => {}
            }
        });
    }

    // Extension metadata from field_for.
    let mut with_extension = 0;
    let field_strategy = data_type(1).prop_flat_map(|dt| field_for(&dt));
    for _ in 0..512 {
        let field = field_strategy
            .new_tree(&mut runner)
            .expect("new tree")
            .current();
        if field.metadata().contains_key(EXTENSION_NAME_KEY) {
            with_extension += 1;
        }
    }

    let missing: Vec<_> = all_type_families()
        .into_iter()
        .filter(|f| !families.contains_key(f))
        .collect();
    println!("type families (count of type nodes): {families:#?}");
    println!("top-level families: {top_level:#?}");
    println!("edge cases: {edges:#?}");
    println!("length-0 children of non-empty parents: {empty_children:#?}");
    println!("fields with extension metadata: {with_extension}/512");
    assert!(
        missing.is_empty(),
        "type families never generated: {missing:?}"
    );
    assert!(
        empty_children.len() >= 10,
        "any_array makes length-0 children under non-empty parents of many families: {empty_children:?}"
    );
    let expected_edges = [
        "timestamp with tz",
        "timestamp without tz",
        "struct with zero fields",
        "struct with zero fields and length > 0",
        "w:0 with length > 0",
        "+w:0 with length > 0",
        "union with non-contiguous type ids",
        "union with 3 children",
        "map sorted",
        "map unsorted",
        "dictionary with unsigned keys",
        "dictionary with signed keys",
        "run ends Int16",
        "run ends Int32",
        "run ends Int64",
        "dictionary in list",
        "dictionary in struct",
        "non-nullable struct field",
        "decimal negative scale",
        "empty array",
        "top-level offset > 0",
        "top-level nulls",
        "top-level all null",
        "child offset > 0",
        "validity buffer present",
        "view with 0 variadic buffers",
        "view with >= 2 variadic buffers",
        "view with out-of-line value",
        "list view out of order",
        "list view overlapping",
        "first offset non-zero",
        "sliced dictionary",
        "sliced list",
        "sliced string view",
    ];
    let missing_edges: Vec<_> = expected_edges
        .iter()
        .filter(|e| !edges.contains_key(*e))
        .collect();
    assert!(
        missing_edges.is_empty(),
        "edge cases never generated: {missing_edges:?}"
    );
    assert!(
        with_extension > 0,
        "field_for never added extension metadata"
    );
}

/// Over 512 empty arrays (fixed seed) every way of making one and every type family (at some depth)
/// shows up; each
/// is empty and valid, but the misaligned ones, whose every empty buffer is at address 1 (which
/// arrow-rs's validation refuses as misaligned for any type wider than a byte).
#[test]
#[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and minutes per test under Miri")]
fn empty_data_is_empty_and_made_every_way_of_every_type() {
    let mut runner = deterministic_runner();
    let strategy = empty_data();
    let mut ways: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    let mut misaligned_refused = 0;
    for _ in 0..512 {
        let (how, data) = strategy.new_tree(&mut runner).expect("new tree").current();
        assert_eq!(data.len(), 0, "{how} of {}", data.data_type());
        *ways.entry(how).or_default() += 1;
        visit_types(data.data_type(), &mut |dt| *families.entry(type_family(dt)).or_default() += 1);
        if how == "misaligned dangling buffers" {
            walk(&data, &mut |node| {
                for buffer in node.buffers().iter().filter(|buffer| buffer.is_empty()) {
                    assert_eq!(buffer.as_ptr() as usize, 1, "an empty buffer of {}", node.data_type());
                }
            });
            misaligned_refused += usize::from(data.validate_full().is_err());
        } else if let Err(e) = data.validate_full() {
            panic!("{how} of {} is invalid: {e}", data.data_type());
        }
    }
    println!("ways: {ways:#?}\nfamilies: {families:#?}");
    let missing: Vec<_> = EMPTY_WAYS.iter().filter(|way| !ways.contains_key(*way)).collect();
    assert!(missing.is_empty(), "never made: {missing:?}");
    let missing: Vec<_> = all_type_families().into_iter().filter(|f| !families.contains_key(f)).collect();
    assert!(missing.is_empty(), "type families never made empty: {missing:?}");
    assert!(misaligned_refused > 0, "arrow-rs refuses some misaligned empty data");
}

/// Every type family, as the length-0 child of each parent [`with_empty_child_under`] makes (of
/// 1..=MAX_LEN slots): valid for arrow-rs, and the child really is empty under a non-empty parent.
#[test]
#[cfg_attr(miri, ignore = "checks the test generators themselves: arrow-rs and proptest code, no arrow-cabi code, and ten minutes under Miri")]
fn every_type_family_is_made_a_length_0_child_of_every_parent() {
    let mut runner = deterministic_runner();
    let types = one_type_of_every_family();
    assert_eq!(types.len(), all_type_families().len());
    for child in &types {
        for parent in EMPTY_CHILD_PARENTS {
            let strategy = with_empty_child_under(parent, child.clone());
            let array = strategy.new_tree(&mut runner).expect("new tree").current();
            check_valid(&array);
            let data = array.to_data();
            assert!(!data.is_empty(), "{parent} of {child}");
            // The union's first variant is the one its slots select; a map's values are in its entries.
            let empty = &data.child_data()[usize::from(parent == "Union(Dense)")];
            assert!(empty.is_empty(), "{parent} of {child}: child of length {}", empty.len());
            let of_child = if parent == "Map" { &empty.child_data()[1] } else { empty };
            assert_eq!(of_child.data_type(), child, "{parent}");
        }
    }
}

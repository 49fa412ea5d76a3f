//! The rules a producer is checked against, each tied to its line of the conformance checklist
//! (`shared/spec/C-INTERFACES.md`, which cites the Arrow documents), and the mapping from the
//! importer's errors to them.
#![forbid(unsafe_code)]

use std::fmt;

/// One rule of the Arrow C interfaces that a producer can break.
///
/// [`id`](Rule::id) is the stable name a report shows and a CI script can match;
/// [`section`](Rule::section) names the checklist line the rule comes from.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A format string the interface does not define, or one that does not fit its children.
    SchemaFormat,
    /// Unknown flag bits, or a flag on a type it does not apply to.
    SchemaFlags,
    /// Metadata that does not follow the encoding (int32 count, then length-prefixed pairs).
    SchemaMetadata,
    /// A name that is not UTF-8.
    SchemaName,
    /// `n_children` and `children` that disagree with each other or with the format.
    SchemaChildren,
    /// A dictionary whose value schema is missing or malformed.
    SchemaDictionary,
    /// A map whose entries or keys break the map layout.
    SchemaMap,
    /// A struct handed over already released, or one that was expected filled but left released.
    Released,
    /// A negative length or offset, or offset + length overflowing.
    ArrayLength,
    /// A buffer count that differs from the layout's, or a NULL or too short buffer.
    ArrayBuffers,
    /// A child count that differs from the type's, a NULL child, or a child shorter than its parent needs.
    ArrayChildren,
    /// A null count that disagrees with the validity bitmap, or nulls where none may be.
    ArrayNullCount,
    /// Offsets that decrease, are negative, or point past their data.
    ArrayOffsets,
    /// Bytes of a string array that are not UTF-8.
    ArrayUtf8,
    /// Union type ids not declared by the type, or union offsets past their child.
    ArrayUnion,
    /// Run ends that do not increase or do not cover the array.
    ArrayRunEnds,
    /// Dictionary keys past the dictionary's values, or a dictionary missing.
    ArrayDictionary,
    /// Any other value the type's full validation refuses.
    ArrayValues,
    /// A release callback that leaves `release` non-NULL.
    ReleaseSetsNull,
    /// A parent's release that does not release its children and dictionary.
    ReleaseChildren,
    /// A child moved out of its parent that is no longer valid once the parent is released.
    MovedChild,
    /// A stream with a NULL callback.
    StreamCallbacks,
    /// `get_schema` or `get_next` returned an error.
    StreamError,
    /// A return code that is not an errno-like positive number.
    StreamErrno,
    /// `get_last_error` after a failed call that returns text that is not UTF-8.
    StreamLastError,
    /// End of stream not signalled again by every later `get_next`.
    StreamEnd,
    /// A batch whose type differs from the stream's schema.
    StreamSchemaMatch,
    /// A second `get_schema` that fails or returns another schema.
    StreamSchemaRepeat,
    /// A schema or batch that stops being valid when the stream is released.
    StreamLifetime,
    /// A device type that is none of abi.h's `ARROW_DEVICE_*` constants.
    DeviceType,
    /// An array of a device stream on another device type than the stream declares.
    DeviceStreamType,
    /// A device id below -1 (-1 is the convention for "no device numbering"; devices count from 0).
    DeviceId,
    /// A `sync_event` set on a device type that has no event type (CPU, VPI, WEBGPU, HEXAGON).
    DeviceSyncEvent,
    /// `reserved` not zeroed by the producer.
    DeviceReserved,
    /// A type arrow-cabi cannot import, so its data could not be checked (a limit of the checker).
    Unchecked,
}

/// Each rule's id, checklist section and one-line statement, in the order reports list them.
const RULES: &[(Rule, &str, &str, &str)] = &[
    (Rule::SchemaFormat, "schema.format", "§1 Format strings", "format strings as the table defines them"),
    (Rule::SchemaFlags, "schema.flags", "§1 Flags; §2.16", "only the three flags, each on its own type"),
    (Rule::SchemaMetadata, "schema.metadata", "§1 Metadata", "metadata encoded as int32 count and length-prefixed pairs"),
    (Rule::SchemaName, "schema.name", "§1 name", "names NULL or UTF-8"),
    (Rule::SchemaChildren, "schema.children", "§1 n_children", "n_children and children as the format needs"),
    (Rule::SchemaDictionary, "schema.dictionary", "§1 Dictionary", "a dictionary's value schema present and valid"),
    (Rule::SchemaMap, "schema.map", "§1 +m; §2.16", "a map's entries a non-nullable struct of a non-nullable key and a value"),
    (Rule::Released, "released", "§2.2 Released == release is NULL", "structs handed over unreleased"),
    (Rule::ArrayLength, "array.length", "§2.9 offset >= 0", "length and offset non-negative, offset + length in range"),
    (Rule::ArrayBuffers, "array.buffers", "§1 Buffers; §2.10", "n_buffers as the layout lists, buffers non-NULL and long enough"),
    (Rule::ArrayChildren, "array.children", "§1 n_children", "children as the type needs, covering what the parent indexes"),
    (Rule::ArrayNullCount, "array.null-count", "§2.8 null_count", "null_count -1 or the bitmap's count; no nulls where none may be"),
    (Rule::ArrayOffsets, "array.offsets", "§1 Buffers (offsets)", "offsets non-decreasing and within the data"),
    (Rule::ArrayUtf8, "array.utf8", "§1 u/U/vu", "string values UTF-8"),
    (Rule::ArrayUnion, "array.union", "§1 +ud/+us; §2.14", "union type ids declared, offsets within their child"),
    (Rule::ArrayRunEnds, "array.run-ends", "§1 +r", "run ends increasing and covering the array"),
    (Rule::ArrayDictionary, "array.dictionary", "§1 Dictionary", "dictionary present, keys within its values"),
    (Rule::ArrayValues, "array.values", "§1 (full validation)", "values the type's full validation accepts"),
    (Rule::ReleaseSetsNull, "release.sets-null", "§2.4 release sets release=NULL", "a release callback sets release to NULL"),
    (Rule::ReleaseChildren, "release.children", "§2.4 release MUST release children + dictionary", "a parent's release releases its children and dictionary"),
    (Rule::MovedChild, "release.moved-child", "§2.6 Child move", "a moved child stays valid after its parent's release"),
    (Rule::StreamCallbacks, "stream.callbacks", "§2 Stream (abi.h)", "get_schema, get_next, get_last_error and release all set"),
    (Rule::StreamError, "stream.error", "§2 Stream: get_schema/get_next", "get_schema and get_next succeed on a readable stream"),
    (Rule::StreamErrno, "stream.errno", "§2 Stream: 0 or errno-like code", "error codes positive errno values"),
    (Rule::StreamLastError, "stream.last-error", "§2 Stream: get_last_error", "get_last_error after a failure: NULL or a UTF-8 string"),
    (Rule::StreamEnd, "stream.end", "§2 Stream: End of stream", "end of stream signalled again by every later get_next"),
    (Rule::StreamSchemaMatch, "stream.schema-match", "§2 Stream; §2.13 record batch", "every batch a struct array of the stream's schema"),
    (Rule::StreamSchemaRepeat, "stream.schema-repeat", "§2 Stream: get_schema callable repeatedly (observed)", "get_schema repeatable, returning the same schema"),
    (Rule::StreamLifetime, "stream.lifetime", "§2 Stream: independent of the stream's lifetime", "schemas and batches outlive the stream's release"),
    (Rule::DeviceType, "device.type", "§3 ArrowDeviceType (abi.h macros)", "device_type one of abi.h's ARROW_DEVICE_* constants"),
    (Rule::DeviceStreamType, "device.stream-type", "§3 Stream: all chunks on stream.device_type", "every array of a device stream on the stream's device_type"),
    (Rule::DeviceId, "device.id", "§3 ArrowDeviceArray.device_id", "device_id -1 (no device numbering, the CPU convention) or a device number >= 0"),
    (Rule::DeviceSyncEvent, "device.sync-event", "§3 sync_event: event type N/A => NULL", "sync_event NULL on device types with no event type (CPU, VPI, WEBGPU, HEXAGON)"),
    (Rule::DeviceReserved, "device.reserved", "§3 reserved MUST be zeroed by producer", "reserved[0..3] zeroed by the producer"),
    (Rule::Unchecked, "checker.unsupported", "(a limit of arrow-cabi)", "types arrow-cabi imports, so that their data can be checked"),
];

impl Rule {
    fn entry(self) -> &'static (Rule, &'static str, &'static str, &'static str) {
        RULES.iter().find(|(rule, ..)| *rule == self).expect("every rule has a row in RULES")
    }

    /// The rule's stable id, e.g. `array.utf8`.
    pub fn id(self) -> &'static str {
        self.entry().1
    }

    /// The section of `C-INTERFACES.md` the rule comes from, e.g. `§2.4 release sets release=NULL`.
    pub fn section(self) -> &'static str {
        self.entry().2
    }

    /// What the rule asks, in one line.
    pub fn statement(self) -> &'static str {
        self.entry().3
    }

    /// Every rule, in report order.
    pub fn all() -> impl Iterator<Item = Rule> {
        RULES.iter().map(|(rule, ..)| *rule)
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        RULES.iter().find(|(_, rule_id, ..)| *rule_id == id).map(|(rule, ..)| *rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The finding for an importer error, its path rebased from the importer's root (`array`, `schema`)
/// onto `context` (`batches[3]`, `schema`).
pub(crate) fn finding(error: crate::Error, context: &str) -> super::Finding {
    match error {
        crate::Error::Invalid { path, message } => {
            let rule = classify(&path, &message);
            let rest = path.find(['.', '[']).map_or("", |at| &path[at..]);
            super::Finding::new(rule, format!("{context}{rest}"), message)
        }
        crate::Error::Unsupported(message) => super::Finding::new(Rule::Unchecked, context, message),
        other => super::Finding::new(Rule::ArrayValues, context, other.to_string()),
    }
}

/// The rule an importer error at `path` (`schema.children[1].format`, `array.children[0].buffers[2]`)
/// with `message` breaks. The importer names the field; the message says which check refused it.
pub(crate) fn classify(path: &str, message: &str) -> Rule {
    let in_schema = path.starts_with("schema");
    // The field the path ends in (`format`, `n_buffers`, `buffers` of `buffers[2]`); empty when it
    // ends in a node (`children[1]`, `array`).
    let last = path.rsplit('.').next().unwrap_or(path);
    let field = match last.split_once('[') {
        Some(("buffers", _)) => "buffers",
        Some(_) => "",
        None if last == path => "",
        None => last,
    };
    let m = message.to_ascii_lowercase();
    let has = |word: &str| m.contains(word);
    match field {
        "format" if has("dictionary") => return Rule::SchemaDictionary,
        "format" => return Rule::SchemaFormat,
        "flags" => return Rule::SchemaFlags,
        "metadata" => return Rule::SchemaMetadata,
        "name" => return Rule::SchemaName,
        "n_buffers" if !in_schema => return Rule::ArrayBuffers,
        "buffers" if !in_schema && !has("offset") => return Rule::ArrayBuffers,
        "n_children" if !in_schema => return Rule::ArrayChildren,
        _ => {}
    }
    if has("released") {
        Rule::Released
    } else if has("map's") {
        Rule::SchemaMap
    } else if has("flag") || has("dictionary_ordered") || has("map_keys_sorted") {
        Rule::SchemaFlags
    } else if has("utf8") || has("utf-8") {
        Rule::ArrayUtf8
    } else if has("union") || has("type id") {
        Rule::ArrayUnion
    } else if has("run end") || has("run_end") {
        Rule::ArrayRunEnds
    } else if in_schema && field == "dictionary" {
        Rule::SchemaDictionary
    } else if in_schema {
        if matches!(field, "children" | "n_children") || has("children") || has("cycle") || has("nesting") {
            Rule::SchemaChildren
        } else {
            Rule::SchemaFormat
        }
    } else if matches!(field, "length" | "offset") || has("overflow") {
        Rule::ArrayLength
    } else if field == "buffers" {
        Rule::ArrayOffsets
    } else if field == "null_count" || has("nulls") || has("null_count") || has("null count") {
        Rule::ArrayNullCount
    } else if field == "dictionary" || has("dictionary") {
        Rule::ArrayDictionary
    } else if has("offset") {
        Rule::ArrayOffsets
    } else if matches!(field, "children" | "n_children") || has("children") || has("child") {
        Rule::ArrayChildren
    } else if has("out of bounds") {
        // arrow-rs's dictionary key check: "Value at position 1 out of bounds: 7 (should be in [0, 2])".
        Rule::ArrayDictionary
    } else if has("cannot import") {
        Rule::Unchecked
    } else {
        Rule::ArrayValues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_one_row_and_a_unique_id() {
        let ids: Vec<&str> = Rule::all().map(Rule::id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids.len(), sorted.len());
        for rule in Rule::all() {
            assert_eq!(Rule::from_id(rule.id()), Some(rule));
            assert!(rule.section().starts_with('§') || rule.section().starts_with('('));
        }
    }

    #[test]
    fn importer_messages_map_to_their_rules() {
        let cases = [
            ("schema.children[0].format", "unknown format string 'q'", Rule::SchemaFormat),
            ("schema.children[0].flags", "unknown flag bits in 0x10", Rule::SchemaFlags),
            ("schema.format", "a dictionary's index must be an integer type, found Utf8", Rule::SchemaDictionary),
            ("schema.children[0]", "DICTIONARY_ORDERED set on a field that is not a dictionary", Rule::SchemaFlags),
            ("schema.metadata", "truncated", Rule::SchemaMetadata),
            ("schema.children[2].children", "NULL, but n_children is 2", Rule::SchemaChildren),
            ("array.children[1]", "invalid utf8 data: value 1 has an invalid 1-byte sequence", Rule::ArrayUtf8),
            ("array.children[1].buffers[1]", "NULL, but 12 bytes are required", Rule::ArrayBuffers),
            ("array.children[1].n_buffers", "2, but Utf8 needs 3", Rule::ArrayBuffers),
            ("array.children[1].buffers[1]", "first offset 5 is negative or past the last offset 3", Rule::ArrayOffsets),
            ("array.n_children", "1, but Struct(\"a\": Utf8) needs 2", Rule::ArrayChildren),
            ("array.children[0].null_count", "3 nulls in 2 elements", Rule::ArrayNullCount),
            ("array.children[0]", "2 nulls in a non-nullable field, which cannot hold nulls", Rule::ArrayNullCount),
            ("array.children[0].length", "negative: -1", Rule::ArrayLength),
            ("array.children[0]", "Offset invariant failure: offset at position 2 out of bounds: 9 > 4", Rule::ArrayOffsets),
            ("array.children[0]", "Value at position 1 out of bounds: 7 (should be in [0, 2])", Rule::ArrayDictionary),
            ("array.children[0]", "Type Ids values must be in range", Rule::ArrayUnion),
            ("array", "the array is released (its release callback is NULL)", Rule::Released),
            ("array.children[0]", "cannot import arrays of type Foo", Rule::Unchecked),
        ];
        for (path, message, rule) in cases {
            assert_eq!(classify(path, message), rule, "{path}: {message}");
        }
    }
}

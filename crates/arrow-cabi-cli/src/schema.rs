//! `schema`: the schema as a consumer sees it, read back from the exported `ArrowSchema` struct.

use std::fmt::Write as _;

use arrow_cabi::schema::FFI_ArrowSchema;
use arrow_schema::Schema;

use crate::error::{Context, Error};

/// Longest metadata key or value shown, in characters.
const MAX_TEXT: usize = 80;

/// Exports `schema` and renders the exported tree: one line per node with its name, format string
/// and flags; metadata, children and dictionary below it, indented.
pub fn render(schema: &Schema) -> Result<String, Error> {
    let exported = FFI_ArrowSchema::try_from(schema).context("cannot export the schema")?;
    let mut out = String::new();
    node(&exported, "schema", 0, &mut out)?;
    Ok(out)
}

fn node(schema: &FFI_ArrowSchema, label: &str, depth: usize, out: &mut String) -> Result<(), Error> {
    let indent = "  ".repeat(depth);
    let flags = flags(schema);
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{indent}{label}: {}{flags}", schema.format());
    let metadata = schema.metadata().context(format_args!("{label}: metadata"))?;
    let mut metadata: Vec<_> = metadata.into_iter().collect();
    metadata.sort();
    for (key, value) in metadata {
        let _ = writeln!(out, "{indent}  [{} = {}]", shown(&key), shown(&value));
    }
    for child in schema.children() {
        let name = match child.name() {
            None => "(no name)".to_owned(),
            Some("") => "\"\"".to_owned(),
            Some(name) => shown(name),
        };
        node(child, &name, depth + 1, out)?;
    }
    if let Some(dictionary) = schema.dictionary() {
        node(dictionary, "dictionary", depth + 1, out)?;
    }
    Ok(())
}

/// The set flags in words, as ` (nullable, ...)`, or nothing.
fn flags(schema: &FFI_ArrowSchema) -> String {
    let mut words = vec![];
    words.extend(schema.nullable().then_some("nullable".to_owned()));
    words.extend(schema.dictionary_ordered().then_some("dictionary ordered".to_owned()));
    words.extend(schema.map_keys_sorted().then_some("map keys sorted".to_owned()));
    let unknown = schema.as_sys().flags & !0b111;
    words.extend((unknown != 0).then(|| format!("unknown flags {unknown:#x}")));
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join(", "))
    }
}

/// Text with control characters escaped, cut to [`MAX_TEXT`] characters.
fn shown(text: &str) -> String {
    let escaped: String =
        text.chars().flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] }).collect();
    crate::table::truncate(&escaped, MAX_TEXT)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow_schema::{DataType, Field};

    use super::*;

    #[test]
    fn renders_the_exported_tree() {
        let dictionary = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::LargeUtf8));
        let schema = Schema::new(vec![
            Field::new_list("tags", Field::new_list_field(DataType::UInt8, false), true),
            Field::new_map(
                "attrs",
                "entries",
                Field::new("keys", DataType::Utf8, false),
                Field::new("values", DataType::Int64, true),
                true,
                false,
            )
            .with_metadata(HashMap::from([("note".to_owned(), "a\nb".to_owned())])),
            Field::new("color", dictionary, false).with_dict_is_ordered(true),
            Field::new("at", DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some(Arc::from("UTC"))), true),
        ]);
        let expected = "\
schema: +s
  tags: +l (nullable)
    item: C
  attrs: +m (map keys sorted)
    [note = a\\nb]
    entries: +s
      keys: u
      values: l (nullable)
  color: s (dictionary ordered)
    dictionary: U
  at: tsu:UTC (nullable)
";
        assert_eq!(render(&schema).unwrap(), expected);
    }
}

//! The format-string codec of the Arrow C Data Interface: [`parse`] and [`encode`] side by side.
//!
//! Every format string without parameters lives in one table that both directions read, so the two
//! cannot drift apart. The parametrised formats (`w:N`, `+w:N`, `d:P,S[,W]`, `ts?:TZ`, `+ud:..`,
//! `+us:..`) share a small prefix parser and the same range checks on both sides.
//!
//! A format string describes only the top-level type: nested formats carry their shape, the children
//! come from `ArrowSchema.children`. Nothing here panics, whatever string a foreign producer hands in.
#![forbid(unsafe_code)]

use arrow_schema::{DataType, IntervalUnit, TimeUnit, UnionFields, UnionMode};
use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt::{self, Display};

/// What a format string says. Leaf types are complete; nested types carry only their shape
/// (children come from `ArrowSchema.children`).
///
/// Cloning costs nothing beyond the clone of a `DataType` leaf (at most an `Arc` increment for a
/// time zone) or of the union's type-id vector (at most 128 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Any type without children: null, boolean, ints, floats, decimals, temporal, intervals,
    /// binary/utf8 (all sizes and views), fixed-size binary. Complete `DataType`.
    Leaf(DataType),
    /// `+l`: list with 32-bit offsets; one child.
    List,
    /// `+L`: list with 64-bit offsets; one child.
    LargeList,
    /// `+vl`: list view with 32-bit offsets and sizes; one child.
    ListView,
    /// `+vL`: list view with 64-bit offsets and sizes; one child.
    LargeListView,
    /// `+w:N`: fixed-size list of N (>= 0) items; one child.
    FixedSizeList(i32),
    /// `+s`: struct; one child per field.
    Struct,
    /// `+m`: map; one child `entries`, a struct of key and value.
    Map,
    /// `+ud:I,J,..` (dense) or `+us:I,J,..` (sparse): the type ids, distinct and in 0..=127, one per
    /// child in child order.
    Union(UnionMode, Vec<i8>),
    /// `+r`: run-end encoded; children `run_ends` and values.
    RunEndEncoded,
}

/// Why a format string was rejected (or a type could not be encoded); Display gives a one-line
/// message such as "unknown format string 'q'" or
/// "decimal width 48 is not one of 32, 64, 128, 256 in format string 'd:10,2,48'".
///
/// Foreign text in the message is escaped and cut after 64 characters, so it stays one short line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

/// Declares [`FIXED`] and [`fixed_format`] from one list whose lines give a format string without
/// parameters, the pattern of the types that encode as it, and what it parses to: the two directions
/// side by side, which the tests check against each other line by line.
macro_rules! fixed_formats {
    ($($text:literal, $types:pat => $format:expr;)+) => {
        /// Every format string without parameters and what it means; [`parse`] reads it, and
        /// [`fixed_format`] is its other column. The time-zone-less timestamps (`tss:` ..) double as
        /// the prefixes of the zoned ones (`tss:UTC`). The strings are NUL-terminated, so that export
        /// points a C struct at them without a copy.
        const FIXED: &[(&CStr, Format)] = {
            use DataType as D;
            use Format::Leaf as L;
            use IntervalUnit::{DayTime, MonthDayNano, YearMonth};
            use TimeUnit::{Microsecond, Millisecond, Nanosecond, Second};
            &[$(($text, $format)),+]
        };

        /// The table's format string for `data_type`, if it is one without parameters: one `match`
        /// (a jump on the type's tag), no scan.
        fn fixed_format(data_type: &DataType) -> Option<&'static CStr> {
            use DataType as D;
            use IntervalUnit::{DayTime, MonthDayNano, YearMonth};
            use TimeUnit::{Microsecond, Millisecond, Nanosecond, Second};
            match data_type {
                $($types => Some($text),)+
                _ => None,
            }
        }
    };
}

fixed_formats! {
    c"n", D::Null => L(D::Null);
    c"b", D::Boolean => L(D::Boolean);
    c"c", D::Int8 => L(D::Int8);
    c"C", D::UInt8 => L(D::UInt8);
    c"s", D::Int16 => L(D::Int16);
    c"S", D::UInt16 => L(D::UInt16);
    c"i", D::Int32 => L(D::Int32);
    c"I", D::UInt32 => L(D::UInt32);
    c"l", D::Int64 => L(D::Int64);
    c"L", D::UInt64 => L(D::UInt64);
    c"e", D::Float16 => L(D::Float16);
    c"f", D::Float32 => L(D::Float32);
    c"g", D::Float64 => L(D::Float64);
    c"z", D::Binary => L(D::Binary);
    c"Z", D::LargeBinary => L(D::LargeBinary);
    c"vz", D::BinaryView => L(D::BinaryView);
    c"u", D::Utf8 => L(D::Utf8);
    c"U", D::LargeUtf8 => L(D::LargeUtf8);
    c"vu", D::Utf8View => L(D::Utf8View);
    c"tdD", D::Date32 => L(D::Date32);
    c"tdm", D::Date64 => L(D::Date64);
    c"tts", D::Time32(Second) => L(D::Time32(Second));
    c"ttm", D::Time32(Millisecond) => L(D::Time32(Millisecond));
    c"ttu", D::Time64(Microsecond) => L(D::Time64(Microsecond));
    c"ttn", D::Time64(Nanosecond) => L(D::Time64(Nanosecond));
    c"tss:", D::Timestamp(Second, None) => L(D::Timestamp(Second, None));
    c"tsm:", D::Timestamp(Millisecond, None) => L(D::Timestamp(Millisecond, None));
    c"tsu:", D::Timestamp(Microsecond, None) => L(D::Timestamp(Microsecond, None));
    c"tsn:", D::Timestamp(Nanosecond, None) => L(D::Timestamp(Nanosecond, None));
    c"tDs", D::Duration(Second) => L(D::Duration(Second));
    c"tDm", D::Duration(Millisecond) => L(D::Duration(Millisecond));
    c"tDu", D::Duration(Microsecond) => L(D::Duration(Microsecond));
    c"tDn", D::Duration(Nanosecond) => L(D::Duration(Nanosecond));
    c"tiM", D::Interval(YearMonth) => L(D::Interval(YearMonth));
    c"tiD", D::Interval(DayTime) => L(D::Interval(DayTime));
    c"tin", D::Interval(MonthDayNano) => L(D::Interval(MonthDayNano));
    c"+l", D::List(_) => Format::List;
    c"+L", D::LargeList(_) => Format::LargeList;
    c"+vl", D::ListView(_) => Format::ListView;
    c"+vL", D::LargeListView(_) => Format::LargeListView;
    c"+s", D::Struct(_) => Format::Struct;
    c"+m", D::Map(..) => Format::Map;
    c"+r", D::RunEndEncoded(..) => Format::RunEndEncoded;
}

/// [`FIXED`]'s strings as [`key`]s, in the table's order, so that a lookup compares one number per
/// entry instead of a string.
const KEYS: [u64; FIXED.len()] = {
    let mut keys = [0; FIXED.len()];
    let mut index = 0;
    while index < FIXED.len() {
        keys[index] = key(FIXED[index].0.to_bytes());
        index += 1;
    }
    keys
};

/// A string of up to 7 bytes as one number (its bytes, and its length in the top byte), so that two
/// strings are equal exactly when their keys are; longer strings, which no table entry is, all get
/// `u64::MAX`, which no entry has.
const fn key(bytes: &[u8]) -> u64 {
    if bytes.len() > 7 {
        return u64::MAX;
    }
    let mut key = (bytes.len() as u64) << 56;
    let mut index = 0;
    while index < bytes.len() {
        key |= (bytes[index] as u64) << (8 * index);
        index += 1;
    }
    key
}

/// A table string as text: the table is ASCII (a test checks every entry).
fn as_text(format: &'static CStr) -> &'static str {
    format.to_str().unwrap_or_default()
}

/// The decimal widths: bit width, largest precision, and the `DataType` it makes.
/// `d:P,S` without a width means 128.
const DECIMALS: [(u16, u8, MakeDecimal); 4] = [
    (32, 9, DataType::Decimal32),
    (64, 18, DataType::Decimal64),
    (128, 38, DataType::Decimal128),
    (256, 76, DataType::Decimal256),
];

/// `DataType::Decimal32` .. `Decimal256` as constructors of (precision, scale).
type MakeDecimal = fn(u8, i8) -> DataType;

/// Parses a format string into what it says about the top-level type.
///
/// Accepts exactly the formats of the C Data Interface (see [`Format`]). Time zones are taken
/// as-is (not validated); `tss:` with an empty zone means no zone.
///
/// Cost: [`parse_fixed`], then O(len) for parametrised formats; allocates only for a time zone (`Arc<str>`), for union type ids (one byte
/// each), and for an error's message.
///
/// # Errors
///
/// Anything else is a [`FormatError`] naming the string: unknown, truncated or padded strings,
/// signs or non-digits in widths, precisions and ids, overflow, a decimal width other than 32, 64,
/// 128, 256 or a precision outside 1..=9/18/38/76 for it, union type ids outside 0..=127 or
/// repeated.
pub fn parse(format: &str) -> Result<Format, FormatError> {
    if let Some(fixed) = parse_fixed(format.as_bytes()) {
        return Ok(fixed);
    }
    let Some((head, rest)) = format.split_once(':') else {
        return Err(unknown(format));
    };
    match head {
        "w" => width(format, rest).map(|n| Format::Leaf(DataType::FixedSizeBinary(n))),
        "+w" => width(format, rest).map(Format::FixedSizeList),
        "d" => decimal(format, rest).map(Format::Leaf),
        "+ud" => union(format, UnionMode::Dense, rest),
        "+us" => union(format, UnionMode::Sparse, rest),
        _ => zoned_timestamp(format).ok_or_else(|| unknown(format)),
    }
}

/// What `format` says if it is one of the format strings without parameters (given without its NUL),
/// else `None`; [`parse`] goes on from there. Needs no UTF-8 check: every table entry is ASCII.
///
/// Cost: one comparison of two numbers per table entry (43 entries) and the clone of the entry (an
/// enum without heap data); no allocation.
pub fn parse_fixed(format: &[u8]) -> Option<Format> {
    let wanted = key(format);
    KEYS.iter().position(|&key| key == wanted).map(|index| FIXED[index].1.clone())
}

/// The format string of the top-level type. Dictionary(key, _) encodes as key's format
/// (key must be an integer type, else error). Nested types give "+l", "+s", "+m", "+ud:1,2",
/// "+w:3", "+r" ... Returns `Cow::Borrowed` for the fixed table entries (no allocation).
/// An empty time zone (`Some("")`) encodes as no zone (`tss:`).
///
/// Cost: [`encode_parts`]; parametrised types then allocate one short `String`.
///
/// # Errors
///
/// As [`encode_parts`].
pub fn encode(data_type: &DataType) -> Result<Cow<'static, str>, FormatError> {
    Ok(match encode_parts(data_type)? {
        Encoded::Fixed(format) => Cow::Borrowed(as_text(format)),
        Encoded::Written(params) => Cow::Owned(params.to_string()),
    })
}

/// A format string as [`encode_parts`] gives it: the table's own NUL-terminated string, or the
/// parameters of one, which write the string wherever the caller wants it.
#[derive(Debug, Clone, Copy)]
pub enum Encoded<'a> {
    /// A format without parameters (`i`, `+s`, `tsu:`): the table's string, NUL-terminated.
    Fixed(&'static CStr),
    /// A parametrised format (`w:16`, `tsu:UTC`, `+ud:0,1`, `d:10,2`): `Display` writes it (without a
    /// NUL), in at most a few dozen bytes beyond the time zone's length or 4 per union type id.
    Written(Params<'a>),
}

/// The parameters of a parametrised format string, already checked; `Display` writes the string.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a>(Param<'a>);

#[derive(Debug, Clone, Copy)]
enum Param<'a> {
    FixedSizeBinary(i32),
    FixedSizeList(i32),
    Decimal { bits: u16, precision: u8, scale: i8 },
    Zoned { prefix: &'static str, zone: &'a str },
    Union(UnionMode, &'a UnionFields),
}

impl Display for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Param::FixedSizeBinary(n) => write!(f, "w:{n}"),
            Param::FixedSizeList(n) => write!(f, "+w:{n}"),
            // `d:P,S` for 128 bits (as Arrow C++ writes it), `d:P,S,W` for the other widths.
            Param::Decimal { bits: 128, precision, scale } => write!(f, "d:{precision},{scale}"),
            Param::Decimal { bits, precision, scale } => write!(f, "d:{precision},{scale},{bits}"),
            Param::Zoned { prefix, zone } => write!(f, "{prefix}{zone}"),
            Param::Union(mode, fields) => {
                f.write_str(union_head(mode))?;
                for (index, (id, _)) in fields.iter().enumerate() {
                    let separator = if index == 0 { "" } else { "," };
                    write!(f, "{separator}{id}")?;
                }
                Ok(())
            }
        }
    }
}

/// The format string of the top-level type, as [`encode`], without allocating: a table string or the
/// checked parameters of a parametrised one.
///
/// Cost: one `match` on the type for the formats without parameters, O(children) for unions; no
/// allocation.
///
/// # Errors
///
/// So that whatever is encoded parses back, a [`FormatError`] for: a negative fixed-size width, a
/// decimal precision outside 1..=9/18/38/76 for its width, negative or repeated union type ids, a
/// non-integer dictionary key.
pub fn encode_parts(data_type: &DataType) -> Result<Encoded<'_>, FormatError> {
    if let Some(format) = fixed_format(data_type) {
        return Ok(Encoded::Fixed(format));
    }
    let cannot = |why: &dyn Display| FormatError(format!("cannot encode {data_type}: {why}"));
    let decimal = |bits, precision, scale| match checked_decimal(bits, precision, scale) {
        Ok(_) => Ok(Param::Decimal { bits, precision, scale }),
        Err(e) => Err(cannot(&e)),
    };
    let param = match data_type {
        DataType::Dictionary(key, _) if key.is_dictionary_key_type() => return encode_parts(key),
        DataType::Dictionary(key, _) => {
            return Err(cannot(&format_args!("key type {key} is not an integer")))
        }
        DataType::Timestamp(unit, Some(zone)) => match encode_parts(&DataType::Timestamp(*unit, None))? {
            Encoded::Fixed(prefix) if zone.is_empty() => return Ok(Encoded::Fixed(prefix)),
            Encoded::Fixed(prefix) => Param::Zoned { prefix: as_text(prefix), zone },
            Encoded::Written(_) => return Err(cannot(&"no format string for this time unit")),
        },
        DataType::FixedSizeBinary(n) | DataType::FixedSizeList(_, n) if *n < 0 => {
            return Err(cannot(&format_args!("width {n} is negative")))
        }
        DataType::FixedSizeBinary(n) => Param::FixedSizeBinary(*n),
        DataType::FixedSizeList(_, n) => Param::FixedSizeList(*n),
        DataType::Decimal32(p, s) => decimal(32, *p, *s)?,
        DataType::Decimal64(p, s) => decimal(64, *p, *s)?,
        DataType::Decimal128(p, s) => decimal(128, *p, *s)?,
        DataType::Decimal256(p, s) => decimal(256, *p, *s)?,
        DataType::Union(fields, mode) => {
            check_type_ids(fields.iter().map(|(id, _)| id)).map_err(|e| cannot(&e))?;
            Param::Union(*mode, fields)
        }
        _ => return Err(cannot(&"no format string for this type")),
    };
    Ok(Encoded::Written(Params(param)))
}

/// The prefix of a union format, type ids follow.
fn union_head(mode: UnionMode) -> &'static str {
    match mode {
        UnionMode::Dense => "+ud:",
        UnionMode::Sparse => "+us:",
    }
}

/// `w:N` / `+w:N`: N in `0..=i32::MAX`.
fn width(format: &str, rest: &str) -> Result<i32, FormatError> {
    number(format, "width in 0..=2147483647", rest, digits(rest))
}

/// `d:P,S` or `d:P,S,W` (after the `d:`).
fn decimal(format: &str, rest: &str) -> Result<DataType, FormatError> {
    let mut parts = rest.split(',');
    let (Some(p), Some(s), w, None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(context(
            format,
            "a decimal is 'd:precision,scale' or 'd:precision,scale,width'",
        ));
    };
    let bits = match w {
        None => 128,
        Some(w) => number(format, "decimal width", w, digits(w))?,
    };
    let precision = number(format, "decimal precision", p, digits(p))?;
    let scale = number(format, "decimal scale in -128..=127", s, scale(s))?;
    checked_decimal(bits, precision, scale).map_err(|e| context(format, e))
}

/// The decimal type of that width, if the width is one of 32, 64, 128, 256 and the precision fits it.
/// Shared by [`parse`] and [`encode`].
fn checked_decimal(bits: u16, precision: u8, scale: i8) -> Result<DataType, String> {
    let Some((_, max, make)) = DECIMALS.iter().find(|(b, ..)| *b == bits) else {
        return Err(format!(
            "decimal width {bits} is not one of 32, 64, 128, 256"
        ));
    };
    if !(1..=*max).contains(&precision) {
        return Err(format!(
            "decimal{bits} precision {precision} is not in 1..={max}"
        ));
    }
    Ok(make(precision, scale))
}

/// `+ud:` / `+us:` followed by comma-separated type ids; no ids at all is a union without children.
fn union(format: &str, mode: UnionMode, rest: &str) -> Result<Format, FormatError> {
    let ids = match rest {
        "" => Vec::new(),
        _ => rest
            .split(',')
            .map(|id| number(format, "union type id in 0..=127", id, digits(id)))
            .collect::<Result<Vec<i8>, _>>()?,
    };
    check_type_ids(ids.iter().copied()).map_err(|e| context(format, e))?;
    Ok(Format::Union(mode, ids))
}

/// Union type ids must be in 0..=127 and distinct; O(n) with a 128-bit set. Shared by both sides.
fn check_type_ids(ids: impl IntoIterator<Item = i8>) -> Result<(), String> {
    let mut seen = 0u128;
    for id in ids {
        let bit = u32::try_from(id)
            .ok()
            .and_then(|shift| 1u128.checked_shl(shift))
            .ok_or_else(|| format!("union type id {id} is negative"))?;
        if seen & bit != 0 {
            return Err(format!("union type id {id} appears twice"));
        }
        seen |= bit;
    }
    Ok(())
}

/// `tss:TZ` .. `tsn:TZ` with a non-empty zone: the zoneless table entries are the prefixes.
fn zoned_timestamp(format: &str) -> Option<Format> {
    FIXED.iter().find_map(|(prefix, fixed)| match fixed {
        Format::Leaf(DataType::Timestamp(unit, None)) => format.strip_prefix(as_text(prefix)).map(|tz| {
            Format::Leaf(DataType::Timestamp(
                *unit,
                (!tz.is_empty()).then(|| tz.into()),
            ))
        }),
        _ => None,
    })
}

/// An unsigned decimal number of ASCII digits: no sign, no spaces, no overflow.
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    let all_digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| s.parse().ok()).flatten()
}

/// A decimal scale: ASCII digits with an optional leading `-` (never `+`), in -128..=127.
fn scale(s: &str) -> Option<i8> {
    digits::<u8>(s.strip_prefix('-').unwrap_or(s))?;
    s.parse().ok()
}

/// `parsed`, or the error "'{text}' is not a {what} in format string '..'".
fn number<T>(format: &str, what: &str, text: &str, parsed: Option<T>) -> Result<T, FormatError> {
    parsed.ok_or_else(|| context(format, format_args!("'{}' is not a {what}", Shown(text))))
}

/// "unknown format string '..'"
fn unknown(format: &str) -> FormatError {
    FormatError(format!("unknown format string '{}'", Shown(format)))
}

/// "{what} in format string '..'"
fn context(format: &str, what: impl Display) -> FormatError {
    FormatError(format!("{what} in format string '{}'", Shown(format)))
}

/// Foreign text on one line: escaped as in Rust's `{:?}`, cut after 64 characters.
struct Shown<'a>(&'a str);

impl Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(64) {
            write!(f, "{}", c.escape_debug())?;
        }
        if chars.next().is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{Field, Fields, UnionFields};
    use proptest::prelude::*;
    use std::sync::Arc;

    /// A `DataType` with the shape of `f`, with made-up children for the nested ones.
    fn data_type_of(f: &Format) -> DataType {
        let item = || Arc::new(Field::new_list_field(DataType::Int32, true));
        match f {
            Format::Leaf(dt) => dt.clone(),
            Format::List => DataType::List(item()),
            Format::LargeList => DataType::LargeList(item()),
            Format::ListView => DataType::ListView(item()),
            Format::LargeListView => DataType::LargeListView(item()),
            Format::FixedSizeList(n) => DataType::FixedSizeList(item(), *n),
            Format::Struct => {
                DataType::Struct(Fields::from(vec![Field::new("a", DataType::Utf8, true)]))
            }
            Format::Map => {
                let entries = Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Int32, true),
                ]);
                DataType::Map(
                    Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                    false,
                )
            }
            Format::Union(mode, ids) => {
                let fields = ids
                    .iter()
                    .map(|id| Field::new(format!("f{id}"), DataType::Int32, true));
                DataType::Union(UnionFields::try_new(ids.clone(), fields).unwrap(), *mode)
            }
            Format::RunEndEncoded => DataType::RunEndEncoded(
                Arc::new(Field::new("run_ends", DataType::Int32, false)),
                Arc::new(Field::new("values", DataType::Utf8, true)),
            ),
        }
    }

    /// Every line of part 1 of the spec's format table, with what it must parse to.
    fn spec_table() -> Vec<(&'static str, Format)> {
        use DataType as D;
        use Format::Leaf as L;
        use IntervalUnit::*;
        use TimeUnit::*;
        let tz = |unit, tz: &str| L(D::Timestamp(unit, Some(tz.into())));
        vec![
            ("n", L(D::Null)),
            ("b", L(D::Boolean)),
            ("c", L(D::Int8)),
            ("C", L(D::UInt8)),
            ("s", L(D::Int16)),
            ("S", L(D::UInt16)),
            ("i", L(D::Int32)),
            ("I", L(D::UInt32)),
            ("l", L(D::Int64)),
            ("L", L(D::UInt64)),
            ("e", L(D::Float16)),
            ("f", L(D::Float32)),
            ("g", L(D::Float64)),
            ("z", L(D::Binary)),
            ("Z", L(D::LargeBinary)),
            ("vz", L(D::BinaryView)),
            ("u", L(D::Utf8)),
            ("U", L(D::LargeUtf8)),
            ("vu", L(D::Utf8View)),
            ("w:0", L(D::FixedSizeBinary(0))),
            ("w:16", L(D::FixedSizeBinary(16))),
            ("w:2147483647", L(D::FixedSizeBinary(i32::MAX))),
            ("d:10,2", L(D::Decimal128(10, 2))),
            ("d:1,0", L(D::Decimal128(1, 0))),
            ("d:38,-5", L(D::Decimal128(38, -5))),
            ("d:9,3,32", L(D::Decimal32(9, 3))),
            ("d:1,-128,32", L(D::Decimal32(1, -128))),
            ("d:18,4,64", L(D::Decimal64(18, 4))),
            ("d:76,127,256", L(D::Decimal256(76, 127))),
            ("d:40,10,256", L(D::Decimal256(40, 10))),
            ("tdD", L(D::Date32)),
            ("tdm", L(D::Date64)),
            ("tts", L(D::Time32(Second))),
            ("ttm", L(D::Time32(Millisecond))),
            ("ttu", L(D::Time64(Microsecond))),
            ("ttn", L(D::Time64(Nanosecond))),
            ("tss:", L(D::Timestamp(Second, None))),
            ("tsm:", L(D::Timestamp(Millisecond, None))),
            ("tsu:", L(D::Timestamp(Microsecond, None))),
            ("tsn:", L(D::Timestamp(Nanosecond, None))),
            ("tss:UTC", tz(Second, "UTC")),
            ("tsm:+01:00", tz(Millisecond, "+01:00")),
            ("tsu:Europe/Paris", tz(Microsecond, "Europe/Paris")),
            ("tsn:America/New_York", tz(Nanosecond, "America/New_York")),
            ("tDs", L(D::Duration(Second))),
            ("tDm", L(D::Duration(Millisecond))),
            ("tDu", L(D::Duration(Microsecond))),
            ("tDn", L(D::Duration(Nanosecond))),
            ("tiM", L(D::Interval(YearMonth))),
            ("tiD", L(D::Interval(DayTime))),
            ("tin", L(D::Interval(MonthDayNano))),
            ("+l", Format::List),
            ("+L", Format::LargeList),
            ("+vl", Format::ListView),
            ("+vL", Format::LargeListView),
            ("+w:0", Format::FixedSizeList(0)),
            ("+w:3", Format::FixedSizeList(3)),
            ("+s", Format::Struct),
            ("+m", Format::Map),
            ("+ud:", Format::Union(UnionMode::Dense, vec![])),
            ("+us:", Format::Union(UnionMode::Sparse, vec![])),
            ("+ud:0,1,5", Format::Union(UnionMode::Dense, vec![0, 1, 5])),
            (
                "+us:127,3,0",
                Format::Union(UnionMode::Sparse, vec![127, 3, 0]),
            ),
            ("+r", Format::RunEndEncoded),
        ]
    }

    #[test]
    fn every_spec_format_round_trips() {
        for (s, expected) in spec_table() {
            assert_eq!(parse(s).as_ref(), Ok(&expected), "parse {s:?}");
            let dt = data_type_of(&expected);
            assert_eq!(encode(&dt).as_deref(), Ok(s), "encode {dt:?}");
        }
    }

    #[test]
    fn every_table_entry_round_trips_and_borrows() {
        for (c, f) in FIXED {
            let s = &as_text(c);
            assert!(!s.is_empty() && s.is_ascii(), "{c:?}");
            assert_eq!(parse(s).as_ref(), Ok(f));
            assert_eq!(parse_fixed(s.as_bytes()).as_ref(), Some(f));
            assert!(matches!(encode_parts(&data_type_of(f)), Ok(Encoded::Fixed(e)) if e == *c), "{s}");
            assert!(
                matches!(encode(&data_type_of(f)), Ok(Cow::Borrowed(b)) if b == *s),
                "{s}"
            );
            assert!(
                spec_table().iter().any(|(t, _)| t == s),
                "{s} missing from spec table test"
            );
        }
    }

    #[test]
    fn the_keys_are_distinct() {
        for (index, key) in KEYS.iter().enumerate() {
            assert!(!KEYS[..index].contains(key), "{:?}", FIXED[index].0);
        }
        assert_eq!(parse_fixed(b"i\0"), None);
        assert_eq!(parse_fixed(b"tsu:UTC"), None);
        assert_eq!(parse_fixed(b"+vl"), Some(Format::ListView));
    }

    #[test]
    fn encode_special_cases() {
        let dict = |k| DataType::Dictionary(Box::new(k), Box::new(DataType::Utf8));
        assert_eq!(encode(&dict(DataType::Int16)).as_deref(), Ok("s"));
        assert_eq!(encode(&dict(DataType::UInt64)).as_deref(), Ok("L"));
        assert!(encode(&dict(DataType::Utf8)).is_err());
        assert!(encode(&dict(dict(DataType::Int8))).is_err());
        let empty_tz = DataType::Timestamp(TimeUnit::Second, Some("".into()));
        assert_eq!(encode(&empty_tz).as_deref(), Ok("tss:"));
        // Decimal128 with its width spelled out still parses as Decimal128.
        assert_eq!(
            parse("d:5,1,128"),
            Ok(Format::Leaf(DataType::Decimal128(5, 1)))
        );
        let item = Arc::new(Field::new_list_field(DataType::Int8, true));
        for bad in [
            DataType::FixedSizeBinary(-1),
            DataType::FixedSizeList(item, -1),
            DataType::Decimal128(0, 0),
            DataType::Decimal128(39, 0),
            DataType::Decimal32(10, 0),
            DataType::Decimal64(19, 0),
            DataType::Decimal256(77, 0),
        ] {
            assert!(encode(&bad).is_err(), "{bad:?}");
        }
        // arrow-schema 60.1 cannot build such UnionFields; check the guard encode shares with parse.
        assert!(check_type_ids([-1]).is_err());
        assert!(check_type_ids([1, 1]).is_err());
        assert!(check_type_ids(0..=127).is_ok());
    }

    #[test]
    fn malformed_strings_are_rejected() {
        let bad = [
            "",
            "t",
            "ts",
            "tsx:",
            "tss",
            "tsu",
            "tt",
            "tts:",
            "ttS",
            "tts ",
            " n",
            "n ",
            "nn",
            "N",
            "td",
            "tdD:",
            "tD",
            "tDx",
            "ti",
            "tiY",
            "v",
            "vx",
            "+",
            "++l",
            "+x",
            "+l:",
            "+s:",
            "+r:",
            "+m:",
            "+v",
            "+vx",
            "+u",
            "+ux:1",
            "+ud",
            "+us",
            "+ud:1,",
            "+ud:,1",
            "+ud:,",
            "+ud:1,,2",
            "+ud:1,1",
            "+ud:128",
            "+ud:-1",
            "+ud:+1",
            "+us:a",
            "+ud: 1",
            "w",
            "w:",
            "w:x",
            "w:-1",
            "w:+5",
            "w: 5",
            "w:5 ",
            "w:2147483648",
            "w:99999999999999999999",
            "+w",
            "+w:",
            "+w:x",
            "+w:-1",
            "+w:+3",
            "+w:2147483648",
            "d",
            "d:",
            "d:10",
            "d:10,",
            "d:,2",
            "d:,",
            "d:0,0",
            "d:39,0",
            "d:10,2,48",
            "d:10,2,",
            "d:10,2,128,",
            "d:10,2,32",
            "d:19,0,64",
            "d:77,0,256",
            "d:9,2,32x",
            "d:+5,2",
            "d:5,+2",
            "d:5,128",
            "d:5,-129",
            "d:5, 2",
            "d:5,--2",
            "d:5,-",
            "d:256,0",
            "d:10,2,65536",
            "z:",
            "\0",
            "é",
            "i\0",
            "l\u{301}",
        ];
        for s in bad {
            let e = parse(s).expect_err(s);
            assert!(!e.0.contains('\n'), "{e}");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            parse("q").unwrap_err().to_string(),
            "unknown format string 'q'"
        );
        assert_eq!(
            parse("d:10,2,48").unwrap_err().to_string(),
            "decimal width 48 is not one of 32, 64, 128, 256 in format string 'd:10,2,48'"
        );
        let long = format!("x\n{}", "y".repeat(1000));
        let msg = parse(&long).unwrap_err().to_string();
        assert!(msg.len() < 100 && !msg.contains('\n'), "{msg}");
    }

    /// Strings that start like a valid format, so that the parametrised parsers see real work.
    fn near_formats() -> impl Strategy<Value = String> {
        const PREFIXES: &[&str] = &[
            "d:", "+ud:", "+us:", "tss:", "tsn:", "w:", "+w:", "t", "ts", "tt", "tD", "ti", "td",
            "+", "+v", "v", "d:1", "d:38,", "d:9,2,", "+ud:1,",
        ];
        (prop::sample::select(PREFIXES), "[0-9,:+\\- a-zA-Z/]{0,16}")
            .prop_map(|(p, s)| format!("{p}{s}"))
    }

    /// Decimal strings with numbers near the edges of the valid ranges.
    fn decimals() -> impl Strategy<Value = String> {
        let width = prop_oneof![
            Just(None),
            prop::option::of(prop_oneof![
                Just(32u32),
                Just(64),
                Just(128),
                Just(256),
                0u32..300
            ])
        ];
        (0u32..300, -300i32..300, width).prop_map(|(p, s, w)| match w {
            None => format!("d:{p},{s}"),
            Some(w) => format!("d:{p},{s},{w}"),
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(
            s in prop_oneof![any::<String>(), near_formats(), decimals()]
        ) {
            if let Ok(f) = parse(&s) {
                let encoded = encode(&data_type_of(&f));
                prop_assert!(encoded.is_ok(), "{s:?} parsed to {f:?} but does not encode: {encoded:?}");
                let encoded = encoded.unwrap();
                prop_assert_eq!(parse(&encoded), Ok(f), "{:?} -> {:?}", s, encoded);
            }
        }

        #[test]
        fn encode_is_parsed_back(
            dt in prop_oneof![
                any::<i32>().prop_map(DataType::FixedSizeBinary),
                (any::<u8>(), any::<i8>()).prop_map(|(p, s)| DataType::Decimal32(p, s)),
                (any::<u8>(), any::<i8>()).prop_map(|(p, s)| DataType::Decimal64(p, s)),
                (any::<u8>(), any::<i8>()).prop_map(|(p, s)| DataType::Decimal128(p, s)),
                (any::<u8>(), any::<i8>()).prop_map(|(p, s)| DataType::Decimal256(p, s)),
                (prop::sample::select(&[TimeUnit::Second, TimeUnit::Millisecond, TimeUnit::Microsecond,
                    TimeUnit::Nanosecond][..]), ".{1,12}")
                    .prop_map(|(u, tz)| DataType::Timestamp(u, Some(tz.into()))),
            ]
        ) {
            if let Ok(s) = encode(&dt) {
                prop_assert_eq!(parse(&s), Ok(Format::Leaf(dt)));
            }
        }
    }
}

//! `roundtrip`: batches out through the C Stream Interface (or, with `--device`, the C Device Data
//! Interface's device stream) and back in, then checked two ways: the imported batches equal the
//! originals, and every data buffer crossed without a copy (the imported arrays point at the very
//! buffers that were exported).

use std::time::{Duration, Instant};

use arrow_array::{Array, RecordBatch};
use arrow_buffer::{Buffer, NullBuffer};
use arrow_cabi::ffi_stream::{export_batches, export_device_batches, ArrowDeviceArrayStreamReader, RecordBatchStreamReader};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, SchemaRef};

use crate::error::{Context, Error};
use crate::progress::Progress;
use crate::table::{self, Align};

/// At most this many differences are listed; the rest are counted.
const MAX_LISTED: usize = 10;

/// What crossing did to one column, over all batches.
#[derive(Debug)]
pub struct Column {
    /// The field name.
    pub name: String,
    /// The column's type.
    pub data_type: DataType,
    /// How many batches were checked.
    pub batches: usize,
    /// The bytes of the original buffers (validity, data, children, dictionary), summed over batches.
    pub bytes: usize,
    /// Whether every data buffer of every batch was shared, not copied.
    pub zero_copy: bool,
    /// Whether some validity bitmap was copied, which the interface can force: a bitmap that starts
    /// mid-byte while the data buffers start at the array's first value must be shifted.
    pub validity_copied: bool,
}

/// Which stream the batches cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    /// `ArrowArrayStream`, the C Stream Interface.
    Stream,
    /// `ArrowDeviceArrayStream` of CPU device arrays, the C Device Data Interface.
    DeviceStream,
}

impl Interface {
    fn name(self) -> &'static str {
        match self {
            Interface::Stream => "ArrowArrayStream",
            Interface::DeviceStream => "ArrowDeviceArrayStream (CPU)",
        }
    }
}

/// The outcome of a round trip.
#[derive(Debug)]
pub struct Report {
    /// The stream crossed.
    pub interface: Interface,
    /// One entry per column of the schema.
    pub columns: Vec<Column>,
    /// How many batches crossed.
    pub batches: usize,
    /// Export, import and iteration of all batches.
    pub elapsed: Duration,
    /// Everything that came back different: schema, batch count, rows or values.
    pub differences: Vec<String>,
}

/// Sends `originals` through `interface`'s stream and back, and compares.
pub fn run(schema: SchemaRef, originals: &[RecordBatch], interface: Interface) -> Result<Report, Error> {
    let (imported_schema, imported, elapsed) = cross(schema.clone(), originals, interface)?;
    let mut differences = vec![];
    if imported_schema != schema {
        differences.push(schema_difference(&schema, &imported_schema));
    }
    if imported.len() != originals.len() {
        differences.push(format!("{} batches were sent but {} came back", originals.len(), imported.len()));
    }
    let mut columns: Vec<Column> = schema.fields().iter().map(|f| Column::new(f)).collect();
    let progress = Progress::new(Some(originals.len()), "checking");
    for (index, (original, imported)) in originals.iter().zip(&imported).enumerate() {
        if original.num_rows() != imported.num_rows() {
            let (sent, got) = (original.num_rows(), imported.num_rows());
            differences.push(format!("batch {index}: {sent} rows were sent but {got} came back"));
        }
        for ((column, sent), got) in columns.iter_mut().zip(original.columns()).zip(imported.columns()) {
            let (sent, got) = (sent.to_data(), got.to_data());
            if sent != got {
                differences.push(format!("batch {index}, column {}: the imported values differ", column.name));
            }
            column.add(&sent, &got);
        }
        progress.inc();
    }
    Ok(Report { interface, columns, batches: imported.len(), elapsed, differences })
}

/// Export, import and iteration, timed together: the imported schema and batches.
fn cross(
    schema: SchemaRef,
    originals: &[RecordBatch],
    interface: Interface,
) -> Result<(SchemaRef, Vec<RecordBatch>, Duration), Error> {
    // The streams take their batches by value (a `'static` iterator): one clone of each (an `Arc`
    // per column), before the clock starts.
    let batches: Vec<RecordBatch> = originals.to_vec();
    let start = Instant::now();
    let reader: Box<dyn arrow_array::RecordBatchReader> = match interface {
        Interface::Stream => {
            let stream = export_batches(schema, batches.into_iter().map(Ok));
            Box::new(RecordBatchStreamReader::try_new(stream).context("importing the stream's schema")?)
        }
        Interface::DeviceStream => {
            let stream = export_device_batches(schema, batches.into_iter().map(Ok));
            Box::new(ArrowDeviceArrayStreamReader::try_new(stream).context("importing the device stream's schema")?)
        }
    };
    let imported_schema = reader.schema();
    let imported = reader
        .enumerate()
        .map(|(index, batch)| batch.context(format_args!("importing batch {index}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((imported_schema, imported, start.elapsed()))
}

/// Which part of the schema came back different.
fn schema_difference(sent: &SchemaRef, got: &SchemaRef) -> String {
    if sent.metadata() != got.metadata() {
        return "the schema's metadata differs".to_owned();
    }
    let fields = sent.fields().iter().zip(got.fields().iter());
    match fields.filter(|(a, b)| a != b).map(|(a, b)| format!("field {}: sent {a:?}, got {b:?}", a.name())).next() {
        Some(field) => format!("the schema differs: {field}"),
        None => format!("the schema differs: sent {} fields, got {}", sent.fields().len(), got.fields().len()),
    }
}

impl Column {
    fn new(field: &Field) -> Self {
        let (name, data_type) = (field.name().clone(), field.data_type().clone());
        Column { name, data_type, batches: 0, bytes: 0, zero_copy: true, validity_copied: false }
    }

    /// Counts one batch's column: its bytes, and whether `got` shares `sent`'s buffers.
    fn add(&mut self, sent: &ArrayData, got: &ArrayData) {
        let mut walk = Walk { bytes: 0, data_shared: true, validity_shared: true };
        walk.compare(sent, got);
        self.batches += 1;
        self.bytes += walk.bytes;
        self.zero_copy &= walk.data_shared;
        self.validity_copied |= !walk.validity_shared;
    }
}

/// A walk over an original array and its imported twin: buffers, validity, children and dictionary
/// (arrow-rs keeps a dictionary's values as its only child).
struct Walk {
    bytes: usize,
    data_shared: bool,
    validity_shared: bool,
}

impl Walk {
    fn compare(&mut self, sent: &ArrayData, got: &ArrayData) {
        self.bytes += sent.buffers().iter().map(Buffer::len).sum::<usize>();
        self.bytes += sent.nulls().map_or(0, |nulls| nulls.buffer().len());
        self.data_shared &= sent.buffers().len() == got.buffers().len();
        self.data_shared &= sent.buffers().iter().zip(got.buffers()).all(|(a, b)| same_buffer(a, b));
        self.validity_shared &= match (sent.nulls(), got.nulls()) {
            (Some(a), Some(b)) => same_bits(a, b),
            // Leaving out a bitmap without nulls copies nothing; making one up does.
            (Some(a), None) => a.null_count() == 0,
            (None, Some(_)) => false,
            (None, None) => true,
        };
        self.data_shared &= sent.child_data().len() == got.child_data().len();
        for (a, b) in sent.child_data().iter().zip(got.child_data()) {
            self.compare(a, b);
        }
    }
}

/// Whether two buffers are the same memory; empty buffers hold nothing to copy.
fn same_buffer(a: &Buffer, b: &Buffer) -> bool {
    (a.is_empty() && b.is_empty()) || a.as_ptr() == b.as_ptr()
}

/// Whether two bitmaps start at the same bit of the same memory.
fn same_bits(a: &NullBuffer, b: &NullBuffer) -> bool {
    let first = |n: &NullBuffer| (n.buffer().as_ptr().wrapping_add(n.offset() / 8), n.offset() % 8);
    first(a) == first(b)
}

impl Report {
    /// Why the round trip failed, or `Ok` if every batch came back equal and no column was copied.
    pub fn verdict(&self) -> Result<(), Error> {
        if let Some(first) = self.differences.first() {
            let more = self.differences.len() - 1;
            let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            return Err(Error::new(format_args!("{first}{more}")));
        }
        let copied: Vec<&str> = self.columns.iter().filter(|c| !c.zero_copy).map(|c| c.name.as_str()).collect();
        if !copied.is_empty() {
            return Err(Error::new(format_args!("columns copied instead of shared: {}", copied.join(", "))));
        }
        Ok(())
    }

    /// The per-column table, the timing and what went wrong.
    pub fn render(&self) -> String {
        let headers = [
            ("column", Align::Left),
            ("type", Align::Left),
            ("format", Align::Left),
            ("batches", Align::Right),
            ("bytes", Align::Right),
            ("zero-copy", Align::Left),
        ];
        let rows: Vec<Vec<String>> = self.columns.iter().map(Column::row).collect();
        let mut out = table::render(&headers, &rows);
        let per_batch = match self.batches {
            0 => "nothing to time".to_owned(),
            n => format!("{:.1} µs per batch", self.elapsed.as_secs_f64() * 1e6 / n as f64),
        };
        out.push_str(&format!(
            "\n{} batches, {per_batch} (export + import + iterate) through {}\n",
            self.batches,
            self.interface.name()
        ));
        let shifted: Vec<&str> = self.columns.iter().filter(|c| c.validity_copied).map(|c| c.name.as_str()).collect();
        if !shifted.is_empty() {
            out.push_str(&format!(
                "validity bitmaps copied (they start mid-byte, data buffers do not): {}\n",
                shifted.join(", ")
            ));
        }
        for difference in self.differences.iter().take(MAX_LISTED) {
            out.push_str(&format!("differs: {difference}\n"));
        }
        if self.differences.len() > MAX_LISTED {
            out.push_str(&format!("... and {} more differences\n", self.differences.len() - MAX_LISTED));
        }
        out
    }
}

impl Column {
    fn row(&self) -> Vec<String> {
        let format = arrow_cabi::format::encode(&self.data_type).map_or_else(|e| format!("({e})"), |f| f.into_owned());
        let zero_copy = match (self.zero_copy, self.validity_copied) {
            (false, _) => "no",
            (true, false) => "yes",
            (true, true) => "yes (validity copied)",
        };
        vec![
            self.name.clone(),
            table::truncate(&self.data_type.to_string(), 40),
            format,
            self.batches.to_string(),
            self.bytes.to_string(),
            zero_copy.to_owned(),
        ]
    }
}

//! Opening an Arrow IPC file (magic `ARROW1`) or stream, compressed or not, and reading its batches.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::SchemaRef;

use crate::error::{Context, Error};
use crate::progress::Progress;

/// The magic bytes an IPC file starts with.
const FILE_MAGIC: &[u8] = b"ARROW1";

/// An opened input: its batches one at a time, and how many there are when the format says.
pub struct Input {
    /// The reader (IPC file or stream).
    pub reader: Box<dyn RecordBatchReader + Send>,
    /// The batch count, known for IPC files only.
    pub batches: Option<usize>,
}

/// Opens `path` as an IPC file if it starts with `ARROW1`, else as an IPC stream; reads the schema.
pub fn open(path: &Path) -> Result<Input, Error> {
    let shown = path.display();
    let mut file = BufReader::new(File::open(path).context(format_args!("cannot open {shown}"))?);
    let mut head = Vec::with_capacity(FILE_MAGIC.len());
    file.by_ref().take(FILE_MAGIC.len() as u64).read_to_end(&mut head).context(format_args!("cannot read {shown}"))?;
    if head.is_empty() {
        return Err(Error::new(format_args!("{shown} is empty, not an Arrow IPC file or stream")));
    }
    file.seek(SeekFrom::Start(0)).context(format_args!("cannot read {shown}"))?;
    if head == FILE_MAGIC {
        let reader = FileReader::try_new(file, None).context(format_args!("{shown} is not a valid Arrow IPC file"))?;
        let batches = Some(reader.num_batches());
        Ok(Input { reader: Box::new(reader), batches })
    } else {
        let reader =
            StreamReader::try_new(file, None).context(format_args!("{shown} is not an Arrow IPC file or stream"))?;
        Ok(Input { reader: Box::new(reader), batches: None })
    }
}

/// Reads every batch of `path` into memory, with a progress bar for many batches.
pub fn read_all(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), Error> {
    let input = open(path)?;
    let schema = input.reader.schema();
    let progress = Progress::new(input.batches, "reading");
    let mut batches = Vec::with_capacity(input.batches.unwrap_or(0));
    for batch in input.reader {
        let batch = batch.context(format_args!("{}: batch {}", path.display(), batches.len()))?;
        batches.push(batch);
        progress.inc();
    }
    Ok((schema, batches))
}

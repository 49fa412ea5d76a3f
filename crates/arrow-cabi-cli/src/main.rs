//! `arrow-cabi`: sends Arrow data through the C Stream Interface and shows what crosses.
//!
//! `arrow-cabi roundtrip [--device] [FILE]` checks that an Arrow IPC file or stream (or, without
//! FILE, a sample of every Arrow type) comes back equal and without a copy, through the plain stream
//! or (`--device`) the device stream; `arrow-cabi schema FILE` prints the exported `ArrowSchema`
//! tree; `arrow-cabi check` checks a producer of the C interfaces (a symbol of a shared library or an
//! ADBC driver's query result) against their rules. Failures print one `error: ...` line and exit
//! with status 1 (`check`: 2).

mod check;
mod error;
mod input;
mod progress;
mod roundtrip;
mod sample;
mod schema;
mod table;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{Context, Error};

/// Sends Arrow data through the Arrow C Stream Interface and shows what crosses.
#[derive(Debug, Parser)]
#[command(name = "arrow-cabi", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sends FILE through the C Stream Interface and back, then checks that every batch is equal and
    /// that every buffer crossed without a copy.
    Roundtrip {
        /// An Arrow IPC file or stream (LZ4 or ZSTD compressed or not); without it, a built-in sample
        /// with a column of every Arrow type.
        file: Option<PathBuf>,
        /// Crosses the C Device Data Interface's device stream (CPU device arrays) instead of the
        /// plain stream.
        #[arg(long)]
        device: bool,
    },
    /// Prints FILE's schema as a C consumer sees it: the exported ArrowSchema tree with its format
    /// strings, names, flags and metadata.
    Schema {
        /// An Arrow IPC file or stream.
        file: PathBuf,
    },
    /// Checks a producer of the Arrow C interfaces against their rules: the schema, every batch at
    /// full validation, and the release and stream protocols. Prints a table of findings (rule,
    /// where, what was seen) and a summary; exit status 0 when clean, 1 with findings, 2 when the
    /// producer could not be loaded or called or crashed.
    Check(check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: {}", Error::new(format_args!("internal error: {message}{place}")));
    }));
    if let Command::Check(args) = cli.command {
        return match std::panic::catch_unwind(|| check::run(args)) {
            Ok(code) => ExitCode::from(code),
            // The hook printed the message.
            Err(_) => ExitCode::from(2),
        };
    }
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        // The hook printed the message.
        Err(_) => ExitCode::FAILURE,
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Roundtrip { file, device } => {
            let (schema, batches) = match &file {
                Some(path) => input::read_all(path)?,
                None => sample::batches().context("cannot build the sample")?,
            };
            let interface = if device { roundtrip::Interface::DeviceStream } else { roundtrip::Interface::Stream };
            let report = roundtrip::run(schema, &batches, interface)?;
            print(&report.render())?;
            report.verdict()
        }
        Command::Schema { file } => {
            let input = input::open(&file)?;
            print(&schema::render(&input.reader.schema())?)
        }
        Command::Check(_) => unreachable!("main runs check itself"),
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Error> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

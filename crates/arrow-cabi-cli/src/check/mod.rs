//! `arrow-cabi check`: points arrow-cabi's conformance checks (`arrow_cabi::check`) at a producer
//! in a shared library or an ADBC driver, in a child process, and reports what it broke.
//!
//! The checks themselves live in the library, where Python's `arrow_cabi.check` and Rust test
//! suites can call them; this module loads and calls the producer (`producer.rs`, `adbc.rs`),
//! isolates the call (`isolate.rs`) and renders the report (`report.rs`).

mod adbc;
mod isolate;
mod producer;
mod report;

use std::path::PathBuf;

use clap::ArgGroup;

use arrow_cabi::check::Options;

use crate::progress::Progress;
use producer::{Check, Producer, Shape};

/// Checks a producer of the Arrow C Data / C Stream / C Device interfaces against the interfaces'
/// rules.
///
/// Exit status: 0 when clean, 1 when rules were broken, 2 when the producer could not be loaded or
/// called or crashed. Notes (what was not checked, conventions the spec only recommends) are
/// printed under the findings and change no exit status.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("producer").required(true).args(["lib", "adbc_driver"])))]
pub struct Args {
    /// A shared library exporting the producer (with --symbol).
    #[arg(long, requires = "symbol", value_name = "PATH")]
    lib: Option<PathBuf>,
    /// The producer's symbol: `int NAME(struct ArrowArrayStream* out)`, or with --array
    /// `int NAME(struct ArrowArray* out, struct ArrowSchema* out)`.
    #[arg(long, requires = "lib", value_name = "NAME")]
    symbol: Option<String>,
    /// The symbol hands over one array and its schema instead of a stream.
    #[arg(long, requires = "lib")]
    array: bool,
    /// The symbol hands over device structs: `int NAME(struct ArrowDeviceArrayStream* out)`, or with
    /// --array `int NAME(struct ArrowDeviceArray* out, struct ArrowSchema* out)`. Device fields are
    /// checked too; a CPU array's data at full validation, another device's buffers are not read
    /// (only the node structs are checked, and a note says the data checks were skipped).
    #[arg(long, requires = "lib")]
    device: bool,
    /// Stop after N batches, for a stream that never ends: the stream is released there, and the
    /// report says so in a note (not a finding; the exit status is that of what was read). The end
    /// of stream and the calls after it are then not checked. Default: no limit, the stream is
    /// read to its end.
    #[arg(long, value_name = "N")]
    max_batches: Option<usize>,
    /// A string passed first, as `const char*`: `int NAME(const char*, ...)`.
    #[arg(long, requires = "lib", value_name = "STR")]
    arg: Option<String>,
    /// An ADBC driver's shared library (with --uri and --query): its query result is checked.
    #[arg(long, requires_all = ["uri", "query"], conflicts_with = "lib", value_name = "PATH")]
    adbc_driver: Option<PathBuf>,
    /// The ADBC database's `uri` option.
    #[arg(long, requires = "adbc_driver", value_name = "URI")]
    uri: Option<String>,
    /// The SQL query whose result is checked.
    #[arg(long, requires = "adbc_driver", value_name = "SQL")]
    query: Option<String>,
    /// Prints the report as one JSON object.
    #[arg(long)]
    json: bool,
}

impl Args {
    fn check(self) -> Check {
        let options = Options::default().max_batches(self.max_batches);
        let producer = match (self.lib, self.symbol, self.adbc_driver, self.uri, self.query) {
            (Some(lib), Some(symbol), ..) => Producer::Symbol { lib, symbol, shape: Shape::new(self.array, self.device), arg: self.arg },
            (_, _, Some(driver), Some(uri), Some(query)) => Producer::Adbc { driver, uri, query },
            // clap's groups and requirements leave no other case.
            _ => unreachable!("clap requires --lib with --symbol, or --adbc-driver with --uri and --query"),
        };
        Check { producer, options }
    }
}

/// Runs the check and prints its report; returns the exit code.
pub fn run(args: Args) -> u8 {
    let json = args.json;
    let check = args.check();
    let name = check.producer.to_string();
    let mut progress = None;
    let outcome = isolate::run(
        |observer| check.run(observer),
        |_rows| progress.get_or_insert_with(|| Progress::new(None, "checking")).inc(),
    );
    drop(progress);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(why) => isolate::Outcome { failure: Some(why), ..isolate::Outcome::default() },
    };
    let text = if json { format!("{:#}\n", report::json(&name, &outcome)) } else { report::text(&name, &outcome) };
    if crate::print(&text).is_err() {
        return report::FAILED;
    }
    report::exit_code(&outcome)
}

//! Running a check where a crashing producer cannot take the report with it: in a forked child
//! process that sends every event to the parent through a pipe, one JSON line each, as it happens.
//!
//! fork was chosen over re-executing the binary: the child already holds the parsed options and
//! needs no command line of its own. It is forked before the parent starts any thread (the
//! progress bar is made afterwards), and it leaves with `_exit`, running no destructor or atexit
//! handler it shares with the parent.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};

use arrow_cabi::check::{Finding, Observer, Rule, Summary};
use serde_json::{json, Value};

/// What the child reported, and how it ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, in the order they were found.
    pub findings: Vec<Finding>,
    /// Notes: what was not checked, conventions not followed where the spec only recommends them.
    pub notes: Vec<String>,
    /// How much was read, when the check ran to its end.
    pub summary: Option<Summary>,
    /// Why the producer could not be loaded or called.
    pub failure: Option<String>,
    /// The signal that killed the child and the step it was in.
    pub crash: Option<Crash>,
}

/// A producer crash: the signal and what the check was doing.
#[derive(Debug)]
pub struct Crash {
    /// The signal number.
    pub signal: i32,
    /// Its name (`SIGSEGV`).
    pub name: String,
    /// The last step the child announced (`get_next (batch 3)`).
    pub during: String,
}

/// The child's end of the pipe: each event is one JSON line, written at once.
struct Sender {
    pipe: File,
}

impl Sender {
    fn send(&mut self, event: Value) {
        let mut line = event.to_string();
        line.push('\n');
        // A parent that went away cannot be told anything; the child just carries on to its exit.
        let _ = self.pipe.write_all(line.as_bytes());
    }
}

impl Observer for Sender {
    fn finding(&mut self, finding: Finding) {
        self.send(json!({"finding": {"rule": finding.rule.id(), "path": finding.path, "seen": finding.seen}}));
    }
    fn step(&mut self, what: &str) {
        self.send(json!({"step": what}));
    }
    fn batch(&mut self, index: usize, rows: usize) {
        self.send(json!({"batch": {"index": index, "rows": rows}}));
    }
    fn note(&mut self, note: &str) {
        self.send(json!({"note": note}));
    }
}

/// Runs `check` in a forked child; `on_batch` is called in the parent for every batch the child
/// reads (for a progress bar). `check` returns the summary, or why the producer could not be
/// loaded or called.
pub fn run(
    check: impl FnOnce(&mut dyn Observer) -> Result<Summary, String>,
    mut on_batch: impl FnMut(usize),
) -> Result<Outcome, String> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("cannot make a pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors were just opened by pipe and are owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the process has one thread here (the command forks before it starts any), so the
    // child inherits a consistent state.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("cannot fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        drop(read);
        let mut sender = Sender { pipe: File::from(write) };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mut sender)));
        let event = match result {
            Ok(Ok(summary)) => json!({"summary": {"batches": summary.batches, "rows": summary.rows}}),
            Ok(Err(why)) => json!({"failed": why}),
            Err(_) => json!({"failed": "the checker panicked (see the message above)"}),
        };
        sender.send(event);
        // SAFETY: ends the child without running the parent's destructors or atexit handlers.
        unsafe { libc::_exit(0) };
    }
    drop(write);
    let mut outcome = Outcome::default();
    let mut step = String::from("loading the producer");
    for line in BufReader::new(File::from(read)).lines() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        if let Some(what) = event["step"].as_str() {
            step = what.to_owned();
        } else if let Some(finding) = event.get("finding") {
            let rule = finding["rule"].as_str().and_then(Rule::from_id).unwrap_or(Rule::Unchecked);
            let text = |key: &str| finding[key].as_str().unwrap_or_default().to_owned();
            outcome.findings.push(Finding::new(rule, text("path"), text("seen")));
        } else if let Some(note) = event["note"].as_str() {
            outcome.notes.push(note.to_owned());
        } else if let Some(batch) = event.get("batch") {
            on_batch(batch["rows"].as_u64().unwrap_or(0) as usize);
        } else if let Some(summary) = event.get("summary") {
            let number = |key: &str| summary[key].as_u64().unwrap_or(0);
            outcome.summary = Some(Summary { batches: number("batches") as usize, rows: number("rows") });
        } else if let Some(why) = event["failed"].as_str() {
            outcome.failure = Some(why.to_owned());
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` receives its exit status.
    if unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        return Err(format!("cannot wait for the checking process: {}", std::io::Error::last_os_error()));
    }
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        outcome.crash = Some(Crash { signal, name: signal_name(signal), during: step });
    } else if outcome.summary.is_none() && outcome.failure.is_none() {
        outcome.failure = Some(format!("the producer ended the process (exit status {}) during {step}", libc::WEXITSTATUS(status)));
    }
    Ok(outcome)
}

/// `SIGSEGV` for 11, and so on for the signals a crash raises.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGABRT => "SIGABRT",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTRAP => "SIGTRAP",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

//! The check's report: a table of findings (rule, where, what was seen) and a summary line, or the
//! same as one JSON object; and the exit code.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::isolate::Outcome;
use crate::table::{self, Align};

/// Exit code of a clean producer.
pub const CLEAN: u8 = 0;
/// Exit code when the producer broke rules.
pub const FINDINGS: u8 = 1;
/// Exit code when the producer could not be loaded or called, or crashed.
pub const FAILED: u8 = 2;

/// The exit code of `outcome`: [`FAILED`] when the producer could not be loaded or called or
/// crashed (whatever was found before), [`FINDINGS`] when it broke a rule, else [`CLEAN`].
pub fn exit_code(outcome: &Outcome) -> u8 {
    if outcome.failure.is_some() || outcome.crash.is_some() {
        FAILED
    } else if outcome.findings.is_empty() {
        CLEAN
    } else {
        FINDINGS
    }
}

/// The table of findings and the summary line.
pub fn text(producer: &str, outcome: &Outcome) -> String {
    let mut rows: Vec<Vec<String>> =
        outcome.findings.iter().map(|f| vec![f.rule.id().to_owned(), f.path.clone(), f.seen.clone()]).collect();
    if let Some(crash) = &outcome.crash {
        rows.push(vec!["producer.crash".to_owned(), crash.during.clone(), format!("the process died of {} ({})", crash.name, crash.signal)]);
    }
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str(&table::render(&[("rule", Align::Left), ("where", Align::Left), ("what was seen", Align::Left)], &rows));
        out.push('\n');
    }
    for note in &outcome.notes {
        out.push_str("note: ");
        out.push_str(note);
        out.push('\n');
    }
    out.push_str(&summary(producer, outcome));
    out.push('\n');
    out
}

fn summary(producer: &str, outcome: &Outcome) -> String {
    let read = match outcome.summary {
        Some(s) => format!("{} batches, {} rows", s.batches, s.rows),
        None => "not read to the end".to_owned(),
    };
    let rules: BTreeSet<&str> = outcome.findings.iter().map(|f| f.rule.id()).collect();
    let found = format!("{} findings ({} rules broken)", outcome.findings.len(), rules.len());
    match (&outcome.failure, &outcome.crash) {
        (Some(why), _) => {
            let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{producer}: could not be checked: {why}; {found}")
        }
        (None, Some(crash)) => format!("{producer}: crashed ({}) during {}; {found} before the crash", crash.name, crash.during),
        (None, None) if outcome.findings.is_empty() => format!("{producer}: clean, {read}"),
        (None, None) => format!("{producer}: {found}, {read}"),
    }
}

/// The report as JSON: the producer, the exit code, what was read, every finding with its rule's
/// checklist section, the notes, and the crash or failure.
pub fn json(producer: &str, outcome: &Outcome) -> Value {
    json!({
        "producer": producer,
        "exit_code": exit_code(outcome),
        "clean": exit_code(outcome) == CLEAN,
        "batches": outcome.summary.map(|s| s.batches),
        "rows": outcome.summary.map(|s| s.rows),
        "findings": outcome.findings.iter().map(|f| json!({
            "rule": f.rule.id(),
            "section": f.rule.section(),
            "path": f.path,
            "seen": f.seen,
        })).collect::<Vec<_>>(),
        "notes": outcome.notes,
        "crash": outcome.crash.as_ref().map(|c| json!({"signal": c.signal, "name": c.name, "during": c.during})),
        "error": outcome.failure,
    })
}

#[cfg(test)]
mod tests {
    use arrow_cabi::check::{Finding, Rule, Summary};

    use super::*;
    use crate::check::isolate::Crash;

    #[test]
    fn exit_codes_and_summary_lines() {
        let clean = Outcome { summary: Some(Summary { batches: 2, rows: 6 }), ..Outcome::default() };
        assert_eq!(exit_code(&clean), CLEAN);
        assert_eq!(text("p", &clean), "p: clean, 2 batches, 6 rows\n");

        let found = Outcome {
            findings: vec![Finding::new(Rule::ArrayUtf8, "batches[0].children[1]", "invalid utf8")],
            summary: Some(Summary { batches: 1, rows: 3 }),
            ..Outcome::default()
        };
        assert_eq!(exit_code(&found), FINDINGS);
        let report = text("p", &found);
        assert!(report.starts_with("rule        where                   what was seen\narray.utf8  batches[0].children[1]  invalid utf8\n"), "{report}");
        assert!(report.ends_with("p: 1 findings (1 rules broken), 1 batches, 3 rows\n"), "{report}");

        let crashed = Outcome {
            crash: Some(Crash { signal: 11, name: "SIGSEGV".into(), during: "get_next (batch 0)".into() }),
            ..Outcome::default()
        };
        assert_eq!(exit_code(&crashed), FAILED);
        assert!(text("p", &crashed).contains("producer.crash  get_next (batch 0)  the process died of SIGSEGV (11)"));
        assert_eq!(json("p", &crashed)["crash"]["name"], "SIGSEGV");
    }
}

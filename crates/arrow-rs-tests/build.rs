//! Extracts arrow-rs's own tests of `ffi` and `ffi_stream` from the registry sources of the exact
//! arrow-rs crates in Cargo.lock, rewrites only their paths, and writes them to `OUT_DIR` twice: once
//! pointed at arrow-cabi (`against_arrow_cabi.rs`), once at arrow-rs itself (`against_arrow_rs.rs`,
//! the control that shows each test compiles and passes from outside arrow-rs).
//!
//! For each source file the generated module holds the file's top-level `use` and `type` items
//! (what the tests reach through `use super::*`), a glob import of the public items of the module
//! under test, and the file's `#[cfg(test)]` modules, item for item, with only these rewrites:
//! `crate::` becomes the crate's name, and (against arrow-cabi) `arrow_schema::ffi`, `arrow_data::ffi`,
//! `arrow_array::ffi` and `arrow_array::ffi_stream` become `arrow_cabi::ffi` / `arrow_cabi::ffi_stream`.
//! Items that use arrow-rs's private internals cannot compile outside arrow-rs; [`EXCLUDED`] drops
//! them by name, each with its reason, and the build fails if one is no longer there.
//!
//! Nothing here skips quietly: if Cargo.lock, the registry sources or a test module cannot be found,
//! the build panics.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The source files whose tests run, as (crate, file under `src/`, module path under test).
const SOURCES: &[(&str, &str, &str)] = &[
    ("arrow-schema", "ffi.rs", "ffi"),
    ("arrow-array", "ffi.rs", "ffi"),
    ("arrow-array", "ffi_stream.rs", "ffi_stream"),
];

/// Items of the test modules that use arrow-rs's private internals, as (crate, file, item name,
/// reason). Against arrow-rs from outside its crate they do not compile either.
const EXCLUDED: &[(&str, &str, &str, &str)] = &[
    ("arrow-array", "ffi.rs", "test_empty_string_with_non_zero_offset",
        "builds arrow-rs's private `ImportedArrowArray` and calls its private `buffers`"),
    ("arrow-array", "ffi_stream.rs", "mark_released",
        "writes the private field `FFI_ArrowArrayStream::release`"),
    ("arrow-array", "ffi_stream.rs", "failing_stream",
        "writes the private fields `get_schema`, `get_next`, `get_last_error`, `release`"),
    ("arrow-array", "ffi_stream.rs", "test_import_stream_without_get_schema_callback",
        "writes the private field `FFI_ArrowArrayStream::get_schema` (and uses `failing_stream`)"),
    ("arrow-array", "ffi_stream.rs", "test_import_stream_without_get_next_callback",
        "writes the private field `FFI_ArrowArrayStream::get_next` (and uses `failing_stream`)"),
    ("arrow-array", "ffi_stream.rs", "test_import_schema_error_reports_producer_message",
        "uses `failing_stream`, which writes private fields"),
    ("arrow-array", "ffi_stream.rs", "test_import_schema_error_without_producer_message",
        "uses `failing_stream`, which writes private fields"),
    ("arrow-array", "ffi_stream.rs", "test_import_schema_error_without_error_callback",
        "uses `failing_stream`, which writes private fields"),
    ("arrow-array", "ffi_stream.rs", "test_import_next_error_without_producer_message",
        "writes the private field `FFI_ArrowArrayStream::get_schema` (and uses `failing_stream`)"),
    ("arrow-array", "ffi_stream.rs", "test_import_array_schema_error_reports_producer_message",
        "uses `failing_stream`, which writes private fields"),
    ("arrow-array", "ffi_stream.rs", "test_import_array_next_error_reports_producer_message",
        "writes the private field `FFI_ArrowArrayStream::get_schema` (and uses `failing_stream`)"),
    ("arrow-array", "ffi_stream.rs", "_test_round_trip_export",
        "calls the private callbacks `get_schema` and `get_next` of arrow-rs's stream export"),
    ("arrow-array", "ffi_stream.rs", "test_stream_round_trip",
        "uses `_test_round_trip_export`, which calls private callbacks"),
    ("arrow-array", "ffi_stream.rs", "test_stream_round_trip_no_columns",
        "uses `_test_round_trip_export`, which calls private callbacks"),
];

/// Tests that fail against arrow-cabi, as (crate, file, test, reason); MIGRATING.md lists them too.
/// The arrow-cabi copy marks them `#[ignore]` with the reason (`cargo test -- --ignored` runs them);
/// the arrow-rs copy runs them as they are. Each is a deliberate difference or a bug with an owner.
const KNOWN_FAILURES: &[(&str, &str, &str, &str)] = &[
    ("arrow-array", "ffi_stream.rs", "test_error_import",
        "deliberate: the error text names the errno (ENOMEM) and keeps the producer's message, not arrow-rs's wording"),
    ("arrow-array", "ffi_stream.rs", "test_import_array_stream_rejects_released_stream",
        "deliberate: the error text is arrow-cabi's (`stream: the stream is released ...`), not arrow-rs's"),
    ("arrow-array", "ffi_stream.rs", "test_import_record_batch_stream_rejects_non_struct_stream",
        "deliberate: the error names the field path and what was found (`schema.format: ... found Int32`)"),
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let lock_path = manifest.join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let lock = fs::read_to_string(&lock_path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", lock_path.display()));
    let registry = registry_sources();

    let mut used = vec![false; EXCLUDED.len()];
    let mut cabi = String::new();
    let mut peer = String::new();
    for &(krate, file, module) in SOURCES {
        let version = locked_version(&lock, krate);
        let path = find_source(&registry, krate, &version, file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let source = Source::parse(&text, krate, file, &mut used);
        let name = format!("{}_{}", krate.replace('-', "_"), module);
        cabi += &source.render(&name, &path, Target::ArrowCabi, module);
        peer += &source.render(&name, &path, Target::ArrowRs, module);
    }
    if let Some(index) = used.iter().position(|used| !used) {
        let (krate, file, item, _) = EXCLUDED[index];
        panic!("EXCLUDED names {krate}/src/{file}: `{item}`, which its test modules no longer have");
    }
    for &(krate, file, test, _) in KNOWN_FAILURES {
        let found = SOURCES.iter().any(|&(k, f, _)| k == krate && f == file) && cabi.contains(&format!("fn {test}("));
        assert!(found, "KNOWN_FAILURES names {krate}/src/{file}: `{test}`, which is not among the tests");
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("against_arrow_cabi.rs"), cabi).expect("write against_arrow_cabi.rs");
    fs::write(out.join("against_arrow_rs.rs"), peer).expect("write against_arrow_rs.rs");
}

/// `$CARGO_HOME/registry/src`, whose subfolders hold each registry's unpacked crates.
fn registry_sources() -> PathBuf {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set: cannot find the registry sources");
    home.join("registry/src")
}

/// The version of `krate` that Cargo.lock pins (from crates.io).
fn locked_version(lock: &str, krate: &str) -> String {
    let mut versions = lock.split("[[package]]").filter_map(|package| {
        let mut lines = package.lines().map(str::trim);
        let name = lines.find_map(|line| line.strip_prefix("name = "))?;
        if name.trim_matches('"') != krate || !package.contains("source = \"registry+") {
            return None;
        }
        let version = package.lines().map(str::trim).find_map(|line| line.strip_prefix("version = "))?;
        Some(version.trim_matches('"').to_owned())
    });
    let version = versions.next().unwrap_or_else(|| panic!("Cargo.lock has no registry package {krate}"));
    assert!(versions.next().is_none(), "Cargo.lock has two versions of {krate}; the tests need one");
    version
}

/// `<registry>/*/<krate>-<version>/src/<file>`.
fn find_source(registry: &Path, krate: &str, version: &str, file: &str) -> PathBuf {
    let entries = fs::read_dir(registry)
        .unwrap_or_else(|error| panic!("cannot list the registry sources {}: {error}", registry.display()));
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(format!("{krate}-{version}/src/{file}")))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("{krate} {version} (from Cargo.lock) has no src/{file} under {}/*/: run `cargo fetch`", registry.display())
        })
}

/// Which implementation the rewritten paths point at.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    ArrowCabi,
    ArrowRs,
}

/// What is taken from one source file.
struct Source {
    krate: String,
    /// The top-level `use` and `type` items, with their attributes.
    prelude: Vec<String>,
    file: String,
    /// The `#[cfg(test)]` modules: name and kept items (name, text).
    modules: Vec<(String, Vec<(String, String)>)>,
}

impl Source {
    fn parse(text: &str, krate: &str, file: &str, used: &mut [bool]) -> Source {
        let lines: Vec<&str> = text.lines().collect();
        let mut prelude = Vec::new();
        let mut modules = Vec::new();
        let mut index = 0;
        let mut attributes: Vec<&str> = Vec::new();
        while index < lines.len() {
            let line = lines[index];
            if line.starts_with("#[") && !line.starts_with("#[cfg(test)]") {
                attributes.push(line);
                index += 1;
                continue;
            }
            if line.starts_with("#[cfg(test)]") {
                let header = lines[index + 1];
                let name = header
                    .strip_prefix("mod ")
                    .and_then(|rest| rest.strip_suffix(" {"))
                    .unwrap_or_else(|| panic!("{krate}/src/{file}: `#[cfg(test)]` not followed by `mod NAME {{`: {header}"));
                let end = (index + 2..lines.len())
                    .find(|&end| lines[end] == "}")
                    .unwrap_or_else(|| panic!("{krate}/src/{file}: mod {name} has no closing brace"));
                let items = split_items(&lines[index + 2..end])
                    .into_iter()
                    .filter(|(item, _)| {
                        let excluded = EXCLUDED
                            .iter()
                            .position(|&(k, f, name, _)| k == krate && f == file && name == item.as_str());
                        if let Some(position) = excluded {
                            used[position] = true;
                        }
                        excluded.is_none()
                    })
                    .collect();
                modules.push((name.to_owned(), items));
                index = end + 1;
                attributes.clear();
                continue;
            }
            if line.starts_with("use ") || line.starts_with("pub use ") || line.starts_with("type ") {
                let end = (index..lines.len()).find(|&end| lines[end].trim_end().ends_with(';')).expect("a `use` ends");
                let mut item: Vec<&str> = std::mem::take(&mut attributes);
                item.extend_from_slice(&lines[index..=end]);
                prelude.push(item.join("\n"));
                index = end + 1;
                continue;
            }
            if !line.starts_with("//") && !line.trim().is_empty() {
                attributes.clear();
            }
            index += 1;
        }
        assert!(!modules.is_empty(), "{krate}/src/{file} has no `#[cfg(test)] mod`");
        Source { krate: krate.to_owned(), file: file.to_owned(), prelude, modules }
    }

    fn render(&self, name: &str, path: &Path, target: Target, module: &str) -> String {
        let crate_name = self.krate.replace('-', "_");
        let rewrite = |text: &str| rewrite_paths(text, &crate_name, target);
        let under_test = match target {
            Target::ArrowCabi => format!("arrow_cabi::{module}"),
            Target::ArrowRs => format!("{crate_name}::{module}"),
        };
        let mut out = format!("/// The tests of `{}`.\npub mod {name} {{\n", path.display());
        for item in &self.prelude {
            out += &rewrite(item);
            out += "\n";
        }
        out += &format!("pub use {under_test}::*;\n\n");
        for (module, items) in &self.modules {
            out += &format!("mod {module} {{\n");
            for (name, item) in items {
                let known = KNOWN_FAILURES.iter().find(|&&(k, f, test, _)| k == self.krate && f == self.file && test == name);
                if let (Some(&(_, _, _, reason)), Target::ArrowCabi) = (known, target) {
                    out += &format!("#[ignore = {reason:?}]\n");
                }
                out += &rewrite(item);
                out += "\n";
            }
            out += "}\n";
        }
        out += "}\n\n";
        out
    }
}

/// Splits a module body into its items (at four spaces of indentation), each with the attributes
/// and comments before it, named by the identifier after its keyword (`fn`, `struct`, `static`...).
fn split_items(body: &[&str]) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for &line in body {
        if let Some((name, lines)) = current.as_mut() {
            lines.push(line);
            if line.starts_with("    }") && !line.starts_with("     ") {
                items.push((std::mem::take(name), lines.join("\n")));
                current = None;
            }
            continue;
        }
        let top = line.starts_with("    ") && !line.starts_with("     ");
        if line.trim().is_empty() || (top && (line[4..].starts_with("#") || line[4..].starts_with("//"))) {
            pending.push(line);
            continue;
        }
        assert!(top, "a test module item not at four spaces: {line}");
        let name = item_name(&line[4..]);
        let mut lines = std::mem::take(&mut pending);
        lines.push(line);
        let trimmed = line.trim_end();
        if trimmed.ends_with(';') || trimmed.ends_with('}') {
            items.push((name, lines.join("\n")));
        } else {
            current = Some((name, lines));
        }
    }
    assert!(current.is_none(), "a test module item is not closed");
    items
}

/// The name an item is excluded by: the identifier after `fn`, `struct`, `static`, `const`, `enum`,
/// `type` or `mod`; the whole header for `impl` and `use`.
fn item_name(header: &str) -> String {
    let words: Vec<&str> = header.split(|c: char| c.is_whitespace() || c == '(' || c == '<' || c == ':' || c == '{').collect();
    words
        .iter()
        .position(|word| matches!(*word, "fn" | "struct" | "static" | "const" | "enum" | "type" | "mod"))
        .and_then(|position| words.get(position + 1))
        .map_or_else(|| header.trim().to_owned(), |name| (*name).to_owned())
}

/// The only edit made to arrow-rs's code: paths.
fn rewrite_paths(text: &str, crate_name: &str, target: Target) -> String {
    let mut text = text.replace("crate::", &format!("{crate_name}::"));
    // Private modules, reached from outside through the crate root's re-exports.
    for private in ["array_reader", "record_batch"] {
        text = text.replace(&format!("arrow_array::{private}::"), "arrow_array::");
    }
    if target == Target::ArrowCabi {
        text = split_ffi_members(&text);
        text = text.replace("arrow_array::ffi_stream", "arrow_cabi::ffi_stream");
        for from in ["arrow_schema::ffi", "arrow_data::ffi", "arrow_array::ffi"] {
            // `arrow_array::ffi_stream` was rewritten above, so what is left is the `ffi` module.
            text = text.replace(&format!("{from}::"), "arrow_cabi::ffi::").replace(&format!("{from};"), "arrow_cabi::ffi;");
        }
    }
    text
}

/// In a `use arrow_schema::{..}` (or `arrow_data`, `arrow_array`) group, moves the `ffi::..` and
/// `ffi_stream::..` members out into their own `use arrow_cabi::..;`, the one rewrite a group needs.
fn split_ffi_members(item: &str) -> String {
    let Some(start) = item.find("use ") else { return item.to_owned() };
    let after_use = start + 4;
    let Some(root_end) = item[after_use..].find("::{").map(|end| after_use + end) else { return item.to_owned() };
    if !["arrow_schema", "arrow_data", "arrow_array"].contains(&item[after_use..root_end].trim()) {
        return item.to_owned();
    }
    let public = item[..start].ends_with("pub ");
    let bytes = item.as_bytes();
    let mut depth = 1;
    let mut index = root_end + 3;
    let mut member_start = index;
    let mut moved: Vec<(usize, usize)> = Vec::new();
    while depth > 0 {
        let end_of_member = match bytes[index] {
            b'{' => {
                depth += 1;
                false
            }
            b'}' => {
                depth -= 1;
                depth == 0
            }
            b',' => depth == 1,
            _ => false,
        };
        if end_of_member {
            let member = item[member_start..index].trim();
            if member.starts_with("ffi::") || member.starts_with("ffi_stream::") {
                let end = if bytes[index] == b',' { index + 1 } else { index };
                moved.push((member_start, end));
            }
            member_start = index + 1;
        }
        index += 1;
    }
    let mut out = String::new();
    let mut extra = String::new();
    let mut last = 0;
    for &(from, to) in &moved {
        out += &item[last..from];
        let member = item[from..to].trim().trim_end_matches(',');
        extra += &format!("\n{}use arrow_cabi::{member};", if public { "pub " } else { "" });
        last = to;
    }
    out += &item[last..];
    out + &extra
}

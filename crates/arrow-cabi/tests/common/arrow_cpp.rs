//! Arrow C++ as a peer of the Rust tests: a C++ shim compiled with g++ against the headers and
//! `libarrow` that pyarrow's wheel ships, and loaded with `libloading`. Included with `#[path]`.
//!
//! Python is `ARROW_CABI_PYTHON`, else `<workspace>/.venv/bin/python`; it is asked only where
//! pyarrow's include and library folders are. pyarrow 26's libarrow is built with the C++11
//! libstdc++ ABI (its symbols carry `__cxx11`), hence `-D_GLIBCXX_USE_CXX11_ABI=1`. The library is
//! cached under the target's tmp folder, named by a hash of the source and of libarrow's path, and
//! built at most once per test binary. Where Python, pyarrow or g++ is missing the caller gets the
//! reason and skips, unless `ARROW_CABI_REQUIRE_PEERS=1`, which makes it a failure; a shim that
//! does not compile is always a failure.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// pyarrow's include folder and libarrow, as the venv's Python reports them.
struct Pyarrow {
    include: PathBuf,
    library_dir: PathBuf,
    libarrow: PathBuf,
}

fn python() -> PathBuf {
    std::env::var_os("ARROW_CABI_PYTHON").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python")),
        PathBuf::from,
    )
}

fn pyarrow() -> Result<Pyarrow, String> {
    let python = python();
    let output = Command::new(&python)
        .args(["-c", "import pyarrow; print(pyarrow.get_include()); print(pyarrow.get_library_dirs()[0])"])
        .output()
        .map_err(|e| format!("running {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} could not import pyarrow: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let (Some(include), Some(library_dir)) = (lines.next(), lines.next()) else {
        return Err(format!("{} printed no pyarrow folders: {stdout:?}", python.display()));
    };
    let library_dir = PathBuf::from(library_dir);
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&library_dir)
        .map_err(|e| format!("reading {}: {e}", library_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libarrow.so.")))
        .collect();
    candidates.sort();
    let libarrow = candidates
        .into_iter()
        .next()
        .ok_or_else(|| format!("no libarrow.so.* in {}", library_dir.display()))?;
    Ok(Pyarrow { include: PathBuf::from(include), library_dir, libarrow })
}

/// Builds `source` (unless cached) and loads it. `Err` with the reason where the peer is not
/// installed (the caller skips); panics where `ARROW_CABI_REQUIRE_PEERS=1` or the build fails.
pub fn load_shim(source: &Path) -> Result<libloading::Library, String> {
    match build(source) {
        Ok(path) => {
            // SAFETY: loading the shim runs only the C++ static initializers of it and libarrow.
            Ok(unsafe { libloading::Library::new(&path) }
                .unwrap_or_else(|e| panic!("loading the shim {}: {e}", path.display())))
        }
        Err(why) if std::env::var("ARROW_CABI_REQUIRE_PEERS").is_ok_and(|v| v == "1") => {
            panic!("Arrow C++ peer not available ({why}), and ARROW_CABI_REQUIRE_PEERS=1")
        }
        Err(why) => Err(why),
    }
}

fn build(source: &Path) -> Result<PathBuf, String> {
    let pyarrow = pyarrow()?;
    let compiler = which("g++").ok_or("g++ is not on PATH (apt-get install g++)")?;
    let text = std::fs::read(source).unwrap_or_else(|e| panic!("reading {}: {e}", source.display()));
    let mut hasher = DefaultHasher::new();
    (&text, &pyarrow.libarrow).hash(&mut hasher);
    let stem = source.file_stem().unwrap().to_string_lossy();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lib{stem}-{:016x}.so", hasher.finish()));
    if out.is_file() {
        return Ok(out);
    }
    // Built under a name of this process and renamed, so that test binaries building at once
    // never load a half-written library.
    let partial = out.with_extension(format!("so.{}", std::process::id()));
    let output = Command::new(compiler)
        .args(["-std=c++20", "-O1", "-shared", "-fPIC", "-D_GLIBCXX_USE_CXX11_ABI=1", "-Wall", "-Werror"])
        .arg(source)
        .arg("-I")
        .arg(&pyarrow.include)
        .arg(&pyarrow.libarrow)
        .arg(format!("-Wl,-rpath,{}", pyarrow.library_dir.display()))
        .arg("-o")
        .arg(&partial)
        .output()
        .unwrap_or_else(|e| panic!("running g++: {e}"));
    assert!(
        output.status.success(),
        "g++ could not build {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &out).unwrap_or_else(|e| panic!("renaming the shim: {e}"));
    Ok(out)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

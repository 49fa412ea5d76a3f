//! `arrow_cabi._check(obj, device, max_batches)`: arrow-cabi's conformance checks
//! (`arrow_cabi::check`) on what a Python producer hands over through the PyCapsule protocol. The
//! Python side (`arrow_cabi/check.py`) wraps the result and adds crash isolation for
//! `python -m arrow_cabi check`.

use arrow_cabi::check::{
    check_array, check_device_array, check_device_stream, check_stream_with, Collected, Options, Summary,
};
use arrow_cabi::device::{FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_cabi_pyo3::capsule::{self, CapsuleStruct};
use arrow_cabi_pyo3::take_from_capsule;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// One finding as Python receives it: (rule id, checklist section, path, what was seen).
type PyFinding = (&'static str, &'static str, String, String);

/// What `_check` returns: (kind, findings, notes, batches, rows).
type Checked = (&'static str, Vec<PyFinding>, Vec<String>, usize, u64);

/// The two capsules of an `__arrow_c_array__` / `__arrow_c_device_array__` result, taken.
fn take_pair<A: CapsuleStruct>(pair: Bound<'_, PyAny>, method: &str) -> PyResult<(A, FFI_ArrowSchema)> {
    let (schema, array): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
        pair.extract().map_err(|_| PyTypeError::new_err(format!("{method} must return a tuple of two capsules")))?;
    capsule::check::<FFI_ArrowSchema>(&schema)?;
    capsule::check::<A>(&array)?;
    let schema = take_from_capsule::<FFI_ArrowSchema>(&schema)?;
    Ok((take_from_capsule::<A>(&array)?, schema))
}

/// Checks one export of `obj` and returns `(kind, findings, notes, batches, rows)`. Without
/// `device` (None), the plain methods are preferred (`__arrow_c_stream__`, then
/// `__arrow_c_array__`) and the device methods used when the object has only those
/// (`__arrow_c_device_stream__`, then `__arrow_c_device_array__`); `device=True` uses only the
/// device methods, `device=False` only the plain ones. `kind` names the method's struct:
/// `"stream"`, `"array"`, `"device_stream"` or `"device_array"`. The checks run in this process: a
/// producer that crashes takes it down (`python -m arrow_cabi check` forks first).
#[pyfunction]
#[pyo3(signature = (obj, device=None, max_batches=None))]
pub fn _check(
    obj: &Bound<'_, PyAny>,
    device: Option<bool>,
    max_batches: Option<usize>,
) -> PyResult<Checked> {
    let options = Options::default().max_batches(max_batches);
    let mut seen = Collected::default();
    let has = |name: &str| obj.hasattr(name);
    let plain = device != Some(true);
    let devices = device != Some(false);
    let py = obj.py();
    let (kind, summary): (&'static str, Summary) = if plain && has("__arrow_c_stream__")? {
        let stream = take_from_capsule::<FFI_ArrowArrayStream>(&obj.call_method0("__arrow_c_stream__")?)?;
        ("stream", py.detach(|| check_stream_with(stream, &options, &mut seen)))
    } else if plain && has("__arrow_c_array__")? {
        let (array, schema) = take_pair::<FFI_ArrowArray>(obj.call_method0("__arrow_c_array__")?, "__arrow_c_array__")?;
        ("array", py.detach(|| check_array(array, schema, &mut seen)))
    } else if devices && has("__arrow_c_device_stream__")? {
        let capsule = obj.call_method0("__arrow_c_device_stream__")?;
        let stream = take_from_capsule::<FFI_ArrowDeviceArrayStream>(&capsule)?;
        ("device_stream", py.detach(|| check_device_stream(stream, &options, &mut seen)))
    } else if devices && has("__arrow_c_device_array__")? {
        let pair = obj.call_method0("__arrow_c_device_array__")?;
        let (array, schema) = take_pair::<FFI_ArrowDeviceArray>(pair, "__arrow_c_device_array__")?;
        ("device_array", py.detach(|| check_device_array(array, schema, &mut seen)))
    } else {
        let methods = match device {
            None => "__arrow_c_stream__, __arrow_c_array__, __arrow_c_device_stream__ or __arrow_c_device_array__",
            Some(true) => "__arrow_c_device_stream__ or __arrow_c_device_array__",
            Some(false) => "__arrow_c_stream__ or __arrow_c_array__",
        };
        return Err(PyTypeError::new_err(format!("expected an object with {methods}")));
    };
    let findings = seen.findings.into_iter().map(|f| (f.rule.id(), f.rule.section(), f.path, f.seen)).collect();
    Ok((kind, findings, seen.notes, summary.batches, summary.rows))
}

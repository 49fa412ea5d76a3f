//! `arrow_cabi._check(obj)`: arrow-cabi's conformance checks (`arrow_cabi::check`) on what a Python
//! producer hands over through the PyCapsule protocol. The Python side (`arrow_cabi/check.py`) wraps
//! the result and adds crash isolation for `python -m arrow_cabi check`.

use arrow_cabi::check::{check_array, check_stream, Finding, Summary};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_cabi_pyo3::capsule;
use arrow_cabi_pyo3::take_from_capsule;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// One finding as Python receives it: (rule id, checklist section, path, what was seen).
type PyFinding = (&'static str, &'static str, String, String);

/// Checks `obj`'s `__arrow_c_stream__` (preferred) or `__arrow_c_array__` result and returns
/// `(kind, findings, batches, rows)`, `kind` being `"stream"` or `"array"`. The checks run in this
/// process: a producer that crashes takes it down (`python -m arrow_cabi check` forks first).
#[pyfunction]
pub fn _check(obj: &Bound<'_, PyAny>) -> PyResult<(&'static str, Vec<PyFinding>, usize, u64)> {
    let mut findings: Vec<Finding> = Vec::new();
    let (kind, summary): (&'static str, Summary) = if obj.hasattr("__arrow_c_stream__")? {
        let capsule = obj.call_method0("__arrow_c_stream__")?;
        let stream = take_from_capsule::<FFI_ArrowArrayStream>(&capsule)?;
        ("stream", obj.py().detach(|| check_stream(stream, &mut findings)))
    } else if obj.hasattr("__arrow_c_array__")? {
        let pair = obj.call_method0("__arrow_c_array__")?;
        let (schema, array): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair
            .extract()
            .map_err(|_| PyTypeError::new_err("__arrow_c_array__ must return a tuple of two capsules"))?;
        capsule::check::<FFI_ArrowSchema>(&schema)?;
        capsule::check::<FFI_ArrowArray>(&array)?;
        let schema = take_from_capsule::<FFI_ArrowSchema>(&schema)?;
        let array = take_from_capsule::<FFI_ArrowArray>(&array)?;
        ("array", obj.py().detach(|| check_array(array, schema, &mut findings)))
    } else {
        return Err(PyTypeError::new_err("expected an object with __arrow_c_stream__ or __arrow_c_array__"));
    };
    let findings = findings.into_iter().map(|f| (f.rule.id(), f.rule.section(), f.path, f.seen)).collect();
    Ok((kind, findings, summary.batches, summary.rows))
}

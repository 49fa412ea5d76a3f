//! [`DeviceArrayTree`]: a device array of any device type, imported without touching its buffers:
//! the node structs (which the interface keeps in host memory) checked against the data type, and
//! each buffer's device address and, where the schema and the lengths decide it, its size.

use std::ffi::c_void;

use arrow_cabi_sys::ArrowArray;
use arrow_schema::DataType;

use super::{ArrowDeviceType, FFI_ArrowDeviceArray};
use crate::error::{Path, Result};
use crate::layout::{self, Buffer};

/// The deepest nesting accepted, as Arrow C++'s importer caps it (and a cycle of children ends).
const MAX_DEPTH: usize = 64;

/// One buffer of a [`DeviceNode`], in the order the C Data Interface lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceBuffer {
    /// The address the producer wrote: an address on the device (0 where it left the buffer NULL,
    /// as it may for an absent validity bitmap or an empty buffer). Never dereferenced here.
    pub address: usize,
    /// The size in bytes, as the data type and the node's offset and length decide it, or `None`
    /// where it depends on data in device memory: the values of a variable-size binary or utf8
    /// array (their length is the last offset, which lives on the device) and the data buffers of
    /// a binary or utf8 view array (their lengths are in the variadic sizes buffer, on the device).
    /// A validity bitmap's and a boolean array's size is the bytes `offset + length` bits need;
    /// offsets count `offset + length + 1` entries.
    pub size: Option<usize>,
}

/// One node of a device array's tree: its host-side fields, buffers, children and dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// The node's data type (a child's as its parent's type gives it).
    pub data_type: DataType,
    /// The length in elements.
    pub length: usize,
    /// The offset in elements.
    pub offset: usize,
    /// The null count, or `None` where the producer left it uncomputed (-1).
    pub null_count: Option<usize>,
    /// The buffers.
    pub buffers: Vec<DeviceBuffer>,
    /// The children.
    pub children: Vec<DeviceNode>,
    /// The dictionary values, for a dictionary-encoded node.
    pub dictionary: Option<Box<DeviceNode>>,
}

/// A device array of any device type, moved in and described without reading its buffers, for a
/// caller who hands the buffers to an accelerator itself (and synchronises on
/// [`sync_event`](Self::sync_event) with the device's API).
///
/// The tree keeps the device array, so the producer's release runs exactly once: when the tree is
/// dropped, or by whoever [`into_inner`](Self::into_inner) hands it to. Building it costs one
/// allocation per node and per node's buffer list, nothing per element.
#[derive(Debug)]
pub struct DeviceArrayTree {
    array: FFI_ArrowDeviceArray,
    root: DeviceNode,
}

impl DeviceArrayTree {
    /// Describes `array` as a tree of `data_type`. The node structs are checked as the plain
    /// import checks them structurally (released, signs, buffer and child counts, NULL pointer
    /// arrays, dictionary presence, depth), with errors naming the path (`device_array.array.children[1]`);
    /// on error the array is released.
    pub fn new(array: FFI_ArrowDeviceArray, data_type: &DataType) -> Result<Self> {
        let path = Path::root("device_array");
        let root = node(&array.as_sys().array, data_type, &path.field("array"), 0)?;
        Ok(DeviceArrayTree { array, root })
    }

    /// The device type the buffers live on.
    pub fn device_type(&self) -> ArrowDeviceType {
        self.array.device_type()
    }

    /// The device id.
    pub fn device_id(&self) -> i64 {
        self.array.device_id()
    }

    /// The producer's event to wait on before the device reads the buffers, or NULL.
    pub fn sync_event(&self) -> *mut c_void {
        self.array.sync_event()
    }

    /// The root node.
    pub fn root(&self) -> &DeviceNode {
        &self.root
    }

    /// The device array itself (for reading its fields).
    pub fn array(&self) -> &FFI_ArrowDeviceArray {
        &self.array
    }

    /// Gives the device array back, unreleased: its release is the new owner's.
    pub fn into_inner(self) -> FFI_ArrowDeviceArray {
        self.array
    }
}

/// A non-negative count of the C struct, or the error naming it.
fn count(value: i64, path: &Path<'_>, name: &'static str) -> Result<usize> {
    usize::try_from(value).map_err(|_| path.field(name).invalid(format!("is negative ({value})")))
}

/// The node `raw` of `data_type`, checked, with its subtree.
fn node(raw: &ArrowArray, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<DeviceNode> {
    if depth > MAX_DEPTH {
        return Err(path.invalid(format!("nested deeper than {MAX_DEPTH} levels (or a cycle of children)")));
    }
    if raw.release.is_none() {
        return Err(path.invalid("the array is released (its release callback is NULL)"));
    }
    let length = count(raw.length, path, "length")?;
    let offset = count(raw.offset, path, "offset")?;
    if raw.null_count < -1 {
        return Err(path.field("null_count").invalid(format!("is {}; it must be -1 or more", raw.null_count)));
    }
    let extent = offset.checked_add(length).ok_or_else(|| path.invalid("offset + length overflows"))?;
    // The counts are checked against the type before the pointer arrays are read, so that no
    // slice is made longer than the type allows (a huge count is a lie no allocation can hold).
    let n_buffers = count(raw.n_buffers, path, "n_buffers")?;
    let layout = layout::layout(data_type);
    let fixed = layout.buffers.len();
    let fits = if layout.variadic { n_buffers > fixed && n_buffers <= layout::MAX_VARIADIC_BUFFERS } else { n_buffers == fixed };
    if !fits {
        let expected = match layout.variadic {
            true if n_buffers > fixed => format!("at most {}", layout::MAX_VARIADIC_BUFFERS),
            true => format!("at least {}", fixed + 1),
            false => fixed.to_string(),
        };
        return Err(path.field("n_buffers").invalid(format!("is {n_buffers}; {data_type} has {expected}")));
    }
    let addresses = pointers(raw.buffers.cast::<*mut c_void>(), n_buffers, path, "buffers")?;
    let mut buffers = Vec::with_capacity(addresses.len());
    for (index, &address) in addresses.iter().enumerate() {
        let size = match layout.buffers.get(index) {
            Some(&kind) => size(kind, data_type, extent).ok_or_else(|| path.index("buffers", index).invalid("the size overflows"))?,
            // Views: the variadic data buffers, then their sizes (8 bytes each).
            None if index + 1 < addresses.len() => None,
            None => Some((addresses.len() - fixed - 1) * 8),
        };
        buffers.push(DeviceBuffer { address: address as usize, size });
    }
    let n_children = count(raw.n_children, path, "n_children")?;
    let expected = layout::child_count(data_type);
    if n_children != expected {
        return Err(path.field("n_children").invalid(format!("is {n_children}; {data_type} has {expected}")));
    }
    let child_pointers = pointers(raw.children, n_children, path, "children")?;
    let mut children = Vec::with_capacity(expected);
    for (index, &child) in child_pointers.iter().enumerate() {
        let child_path = path.index("children", index);
        // SAFETY: the interface's invariant: a non-NULL child pointer points at a valid array in
        // host memory, alive while its parent is.
        let Some(child) = (unsafe { child.as_ref() }) else { return Err(child_path.invalid("NULL child pointer")) };
        let field = layout::child_field(data_type, index).ok_or_else(|| child_path.invalid(format!("{data_type} has no child {index}")))?;
        children.push(node(child, field.data_type(), &child_path, depth + 1)?);
    }
    let dictionary = match (data_type, raw.dictionary.is_null()) {
        (DataType::Dictionary(_, values), false) => {
            // SAFETY: as for a child.
            let values_raw = unsafe { &*raw.dictionary };
            Some(Box::new(node(values_raw, values, &path.field("dictionary"), depth + 1)?))
        }
        (DataType::Dictionary(..), true) => return Err(path.field("dictionary").invalid("NULL for a dictionary-encoded array")),
        (_, false) => return Err(path.field("dictionary").invalid(format!("set, but {data_type} is not dictionary-encoded"))),
        (_, true) => None,
    };
    Ok(DeviceNode { data_type: data_type.clone(), length, offset, null_count: usize::try_from(raw.null_count).ok(), buffers, children, dictionary })
}

/// The `n` pointers of a C pointer array (buffers or children; `n` checked against the type, so
/// at most [`layout::MAX_VARIADIC_BUFFERS`]), checked: the array not NULL when `n > 0`.
fn pointers<'a, T>(array: *mut *mut T, n: usize, path: &Path<'_>, name: &'static str) -> Result<&'a [*mut T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if array.is_null() {
        return Err(path.field(name).invalid(format!("NULL, with {n} entries declared")));
    }
    // SAFETY: the interface's invariant: a non-NULL pointer array holds the declared number of
    // pointers, in host memory, alive while the array is.
    Ok(unsafe { std::slice::from_raw_parts(array, n) })
}

/// The byte size of a buffer of `kind` for `extent` elements of `data_type`; `Some(None)` where
/// device data decides it, `None` on overflow.
fn size(kind: Buffer, data_type: &DataType, extent: usize) -> Option<Option<usize>> {
    let bits = |n: usize| n.checked_add(7).map(|n| n / 8);
    Some(match kind {
        Buffer::Validity | Buffer::Bits => Some(bits(extent)?),
        Buffer::Fixed(width) => Some(extent.checked_mul(width)?),
        Buffer::Data => {
            let value_type = match data_type {
                DataType::Dictionary(key, _) => key.as_ref(),
                other => other,
            };
            match layout::fixed_width(value_type) {
                Some(width) => Some(extent.checked_mul(width)?),
                None => None,
            }
        }
        Buffer::Offsets(width) => Some(extent.checked_add(1)?.checked_mul(width)?),
        Buffer::Values => None,
    })
}

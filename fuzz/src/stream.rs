//! A foreign `ArrowArrayStream` that plays a script decoded from fuzz bytes: for `get_schema` and
//! each `get_next`, a return code, an error message (NULL, or any bytes, UTF-8 or not), a schema or
//! array tree (see [`desc`](crate::desc)), whether to write it even on error, and whether the stream
//! releases itself during the call. It records every callback made after the stream was released
//! and every `get_last_error` not preceded by a failed call.
//!
//! Encoding: the schema step (code byte, flags byte, optional message blob, schema tree), then the
//! number of batch steps (byte, at most [`MAX_STEPS`]) and each (code byte, flags byte, optional
//! message blob, array tree unless flag 2 says end of stream). Flags: 1 release the stream during
//! the call, 2 (batches) end of stream: write a released array, 4 write the struct even though the
//! code is an error. After the last step, `get_next` returns end of stream.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int};

use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowSchema};

use crate::desc::{ArrayDesc, SchemaDesc};
use crate::input::{Reader, Writer};
use crate::producer::Producer;

/// Most batch steps of one script.
pub const MAX_STEPS: u8 = 8;

/// Release the stream during the call.
pub const SELF_RELEASE: u8 = 1;
/// End of stream (batch steps).
pub const END: u8 = 2;
/// Write the schema or array even though the code is an error.
pub const WRITE_ON_ERROR: u8 = 4;

/// One callback's scripted answer.
#[derive(Debug, Clone)]
pub struct Step<T> {
    /// The code returned: 0, EINVAL, EIO, ENOMEM or -1 (the code byte modulo 5).
    pub code: c_int,
    /// [`SELF_RELEASE`], [`END`], [`WRITE_ON_ERROR`].
    pub flags: u8,
    /// What `get_last_error` returns after this call (NUL appended), or NULL.
    pub message: Option<Vec<u8>>,
    /// The struct written to `out`.
    pub value: Option<T>,
}

const CODES: [c_int; 5] = [0, libc::EINVAL, libc::EIO, libc::ENOMEM, -1];

/// A whole script.
#[derive(Debug, Clone)]
pub struct Script {
    /// `get_schema`'s answer.
    pub schema: Step<SchemaDesc>,
    /// `get_next`'s answers, in order.
    pub batches: Vec<Step<ArrayDesc>>,
}

impl Script {
    /// Pads the batches' buffers to what they claim for the stream's type
    /// ([`fit_buffers`](crate::sizes::fit_buffers)), the schema's type or, for a batch stream, the
    /// struct of its fields, as arrow-cabi imports it (a stream whose schema does not import is
    /// never asked for a batch); `false` if a buffer would have to be too large.
    pub fn fit_buffers(&mut self, batches: bool) -> bool {
        let scratch = Producer::new();
        let raw = scratch.schema(self.schema.value.as_ref().expect("a schema"));
        // SAFETY: the producer's schema follows the C Data Interface in all an importer cannot check.
        let schema = unsafe { arrow_cabi::ffi::FFI_ArrowSchema::from_sys(raw) };
        let data_type = match (batches, arrow_schema::Schema::try_from(&schema), arrow_schema::DataType::try_from(&schema)) {
            (true, Ok(schema), _) => arrow_schema::DataType::Struct(schema.fields().clone()),
            (false, _, Ok(data_type)) => data_type,
            _ => return true,
        };
        self.batches.iter_mut().filter_map(|step| step.value.as_mut()).all(|desc| crate::sizes::fit_buffers(desc, &data_type))
    }

    /// Decodes a script.
    pub fn read(r: &mut Reader) -> Script {
        let (code, flags, message) = Self::read_head(r);
        let schema = Step { code, flags, message, value: Some(SchemaDesc::read(r)) };
        let n = r.u8().min(MAX_STEPS);
        let batches = (0..n)
            .map(|_| {
                let (code, flags, message) = Self::read_head(r);
                let value = (flags & END == 0).then(|| ArrayDesc::read(r));
                Step { code, flags, message, value }
            })
            .collect();
        Script { schema, batches }
    }

    fn read_head(r: &mut Reader) -> (c_int, u8, Option<Vec<u8>>) {
        let code = CODES[usize::from(r.u8()) % CODES.len()];
        let flags = r.u8();
        (code, flags, r.opt_blob().map(<[u8]>::to_vec))
    }

    /// Encodes the script.
    pub fn write(&self, w: &mut Writer) {
        let head = |w: &mut Writer, code: c_int, flags: u8, message: &Option<Vec<u8>>| {
            w.u8(CODES.iter().position(|&c| c == code).unwrap_or(0) as u8);
            w.u8(flags);
            w.opt_blob(message.as_deref());
        };
        head(w, self.schema.code, self.schema.flags, &self.schema.message);
        self.schema.value.as_ref().expect("a schema").write(w);
        w.u8(self.batches.len() as u8);
        for step in &self.batches {
            head(w, step.code, step.flags | if step.value.is_none() { END } else { 0 }, &step.message);
            if let Some(array) = &step.value {
                array.write(w);
            }
        }
    }
}

/// The stream's state, owned by the harness (not by the stream: it outlives the release).
pub struct Player {
    script: Script,
    /// Builds the schemas and arrays handed out (and counts their releases).
    pub producer: Producer,
    next_step: Cell<usize>,
    released: Cell<u32>,
    /// Callbacks made on the released stream, by name.
    pub after_release: RefCell<Vec<&'static str>>,
    /// `get_last_error` calls not preceded by a failed call.
    pub error_without_failure: Cell<u32>,
    /// Whether the stream released itself in one of its callbacks.
    pub self_released: Cell<bool>,
    last_failed: Cell<bool>,
    message: RefCell<Option<Vec<u8>>>,
}

impl Player {
    /// A player of `script`; [`stream`](Self::stream) makes the C stream.
    pub fn new(script: Script) -> Box<Player> {
        Box::new(Player {
            script,
            producer: Producer::new(),
            next_step: Cell::new(0),
            released: Cell::new(0),
            after_release: RefCell::new(Vec::new()),
            error_without_failure: Cell::new(0),
            self_released: Cell::new(false),
            last_failed: Cell::new(false),
            message: RefCell::new(None),
        })
    }

    /// The C stream; `self` must outlive every use of it.
    pub fn stream(&self) -> ArrowArrayStream {
        ArrowArrayStream {
            get_schema: Some(get_schema),
            get_next: Some(get_next),
            get_last_error: Some(get_last_error),
            release: Some(release),
            private_data: (self as *const Player).cast_mut().cast(),
        }
    }

    /// How often the stream's release ran.
    pub fn releases(&self) -> u32 {
        self.released.get()
    }

    /// Records a call on a released stream; whether it was one.
    fn called(&self, name: &'static str) -> bool {
        let released = self.released.get() > 0;
        if released {
            self.after_release.borrow_mut().push(name);
        }
        released
    }

    /// Plays a step's code and message; whether to write its struct.
    fn answer<T>(&self, step: &Step<T>) -> bool {
        self.last_failed.set(step.code != 0);
        *self.message.borrow_mut() = step.message.clone().map(|mut m| {
            m.push(0);
            m
        });
        step.code == 0 || step.flags & WRITE_ON_ERROR != 0
    }
}

/// The player behind a stream.
///
/// # Safety
/// `stream` is a stream made by [`Player::stream`] (or a moved copy), whose player is alive.
unsafe fn player<'a>(stream: *mut ArrowArrayStream) -> &'a Player {
    // SAFETY: per the caller.
    unsafe { &*(*stream).private_data.cast::<Player>() }
}

/// Releases the stream from inside one of its callbacks, as a faulty producer may.
///
/// # Safety
/// As [`player`].
unsafe fn self_release(stream: *mut ArrowArrayStream) {
    // SAFETY: per the caller; `release` is this module's.
    unsafe {
        player(stream).self_released.set(true);
        release(stream)
    }
}

unsafe extern "C" fn get_schema(stream: *mut ArrowArrayStream, out: *mut ArrowSchema) -> c_int {
    // SAFETY: the consumer calls the callbacks with the stream they belong to.
    let player = unsafe { player(stream) };
    if player.called("get_schema") {
        return libc::EINVAL;
    }
    let step = &player.script.schema;
    if player.answer(step) {
        // SAFETY: the consumer passes a writable schema.
        unsafe { out.write(player.producer.schema(step.value.as_ref().expect("a schema"))) };
    }
    if step.flags & SELF_RELEASE != 0 {
        // SAFETY: as above.
        unsafe { self_release(stream) };
    }
    step.code
}

unsafe extern "C" fn get_next(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int {
    // SAFETY: as `get_schema`.
    let player = unsafe { player(stream) };
    if player.called("get_next") {
        return libc::EINVAL;
    }
    let index = player.next_step.get();
    player.next_step.set(index + 1);
    let Some(step) = player.script.batches.get(index) else {
        player.last_failed.set(false);
        // SAFETY: the consumer passes a writable array; a released one is the end of the stream.
        unsafe { out.write(ArrowArray::EMPTY) };
        return 0;
    };
    if player.answer(step) {
        let array = step.value.as_ref().map_or(ArrowArray::EMPTY, |desc| player.producer.array(desc));
        // SAFETY: as above.
        unsafe { out.write(array) };
    }
    if step.flags & SELF_RELEASE != 0 {
        // SAFETY: as above.
        unsafe { self_release(stream) };
    }
    step.code
}

unsafe extern "C" fn get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    // SAFETY: as `get_schema`.
    let player = unsafe { player(stream) };
    if player.called("get_last_error") {
        return std::ptr::null();
    }
    if !player.last_failed.get() {
        player.error_without_failure.set(player.error_without_failure.get() + 1);
    }
    player.message.borrow().as_ref().map_or(std::ptr::null(), |m| m.as_ptr().cast())
}

unsafe extern "C" fn release(stream: *mut ArrowArrayStream) {
    // SAFETY: as `get_schema`.
    let player = unsafe { player(stream) };
    player.released.set(player.released.get() + 1);
    // SAFETY: the stream is writable; a released stream has `release` NULL.
    unsafe { (*stream).release = None };
}

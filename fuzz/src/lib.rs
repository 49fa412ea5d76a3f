//! The shared half of arrow-cabi's fuzz targets: the input format ([`input`]; the array targets'
//! input is [`case`]), the descriptions of
//! C struct trees it decodes into ([`desc`]), a foreign producer that builds them with exact
//! allocations and counted releases ([`producer`]), the table of data types the array targets
//! import against ([`types`]), a scripted foreign stream ([`stream`]), the buffer sizes the columnar format implies ([`sizes`]), the
//! checks an accepted import must pass ([`check`]), and which arrays arrow-rs can be fed ([`gate`]). See README.md.

pub mod case;
pub mod check;
pub mod desc;
pub mod gate;
pub mod input;
pub mod producer;
pub mod sizes;
pub mod stream;
pub mod types;

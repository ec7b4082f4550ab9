//! The work of `status`, `down`, `gc` and `trust-local` without the command line, as
//! `install/` is `up`'s: each verb takes the settings ([`crate::context::Ctx`]) and an
//! `Options` struct, reports progress on stderr, and returns its report. `commands/<verb>.rs`
//! turns the flags into those options and prints the report; nothing here names clap or
//! `crate::cli` (tests/layering.rs fails otherwise).

pub(crate) mod down;
pub(crate) mod gc;
pub(crate) mod status;
pub(crate) mod trust_local;

//! kreg: give any Kubernetes cluster its own private, trusted image registry.
//!
//! `main.rs` only calls [`commands::main`]. Everything the binary does is reachable from here so that
//! tests can drive it without spawning a process.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub(crate) mod agent_image;
pub mod auth;
pub(crate) mod cli;
pub(crate) mod cluster;
pub mod commands;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod corefile;
pub(crate) mod detect;
pub(crate) mod devtools;
pub(crate) mod error;
pub(crate) mod gate;
pub mod gc;
pub(crate) mod health;
pub mod image;
pub(crate) mod install;
pub(crate) mod lifecycle;
pub(crate) mod manifests;
pub mod node;
pub(crate) mod ops;
pub mod pki;
pub(crate) mod plan;
pub(crate) mod printer;
pub(crate) mod probe;
pub(crate) mod reach;
pub mod registry;
pub(crate) mod render;
pub(crate) mod reporter;
pub(crate) mod settings;
pub(crate) mod state;
pub(crate) mod trust;
pub(crate) mod validate;
pub(crate) mod version;

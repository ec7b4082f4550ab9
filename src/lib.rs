//! kreg: give any Kubernetes cluster its own private, trusted image registry.
//!
//! `main.rs` only calls [`commands::main`]. Everything the binary does is reachable from here so that
//! tests can drive it without spawning a process.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod agent_image;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod context;
pub mod detect;
pub mod devtools;
pub mod error;
pub mod gate;
pub mod gc;
pub mod health;
pub mod image;
pub mod install;
pub mod lifecycle;
pub mod manifests;
pub mod node;
pub mod pki;
pub mod plan;
pub mod printer;
pub mod probe;
pub mod reach;
pub mod registry;
pub mod render;
pub mod reporter;
pub mod settings;
pub mod state;
pub mod trust;
pub mod validate;
pub mod version;

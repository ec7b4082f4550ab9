//! `kreg completions SHELL`: shell completion scripts, generated from the clap definition
//! (the files in completions/ are these, checked by a test).
#![allow(clippy::print_stdout)]

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> u8 {
    let mut out = std::io::stdout();
    clap_complete::generate(args.shell, &mut Cli::command(), "kreg", &mut out);
    crate::error::EXIT_OK
}

/// The completion script for `shell`, as text (for the drift test and `make completions`).
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kreg", &mut buf);
    String::from_utf8(buf).expect("completions are UTF-8")
}

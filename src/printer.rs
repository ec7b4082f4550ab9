//! The one owner of stdout and stderr.
//!
//! stdout carries only results: the commands a user runs next, or one JSON/YAML document with
//! `-o json|yaml`. Everything meant for a person (progress, warnings, hints) goes to stderr, so
//! `kreg up -o json | jq` and `eval "$(kreg ...)"` stay clean. The crate denies
//! `clippy::print_stdout`/`print_stderr` everywhere else.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::cli::OutputFormat;

/// Started as the kubectl plugin: commands suggested in messages read `kubectl kreg ...`.
static AS_KUBECTL_PLUGIN: AtomicBool = AtomicBool::new(false);

/// Sets the program name messages use (`kreg` or `kubectl kreg`, see `cli::program_name`).
pub fn set_program_name(name: &str) {
    AS_KUBECTL_PLUGIN.store(name == "kubectl kreg", Ordering::Relaxed);
}

/// A message with its suggested commands (`` `kreg up` ``) spelled the way the user runs kreg.
fn as_invoked(line: &str) -> Cow<'_, str> {
    if AS_KUBECTL_PLUGIN.load(Ordering::Relaxed) && line.contains("`kreg ") {
        Cow::Owned(line.replace("`kreg ", "`kubectl kreg "))
    } else {
        Cow::Borrowed(line)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: OutputFormat,
    pub color: bool,
}

impl Printer {
    pub fn new(format: OutputFormat, color: bool) -> Self {
        Printer { format, color }
    }

    pub fn is_text(&self) -> bool {
        self.format == OutputFormat::Text
    }

    /// A result line on stdout (text mode only; machine formats print one document instead).
    pub fn out(&self, line: &str) {
        if self.is_text() {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    /// The machine-readable document for `-o json|yaml`; nothing in text mode.
    pub fn document<T: Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let text = match self.format {
            OutputFormat::Text => return Ok(()),
            OutputFormat::Json => serde_json::to_string_pretty(value)? + "\n",
            OutputFormat::Yaml => serde_yaml_ng::to_string(value)?,
        };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        Ok(())
    }

    /// A line for a person, on stderr.
    pub fn say(&self, line: &str) {
        eprintln!("{}", as_invoked(line));
    }

    pub fn warn(&self, line: &str) {
        eprintln!("{} {}", self.paint("warning:", "33"), as_invoked(line));
    }

    pub fn error(&self, err: &anyhow::Error) {
        let mut chain = err.chain();
        if let Some(top) = chain.next() {
            let top = top.to_string();
            eprintln!("{} {}", self.paint("error:", "31"), as_invoked(&top));
        }
        for cause in chain {
            let cause = cause.to_string();
            eprintln!("  {} {}", self.paint("Caused by:", "2"), as_invoked(&cause));
        }
        if let Some(hint) = crate::error::hint_of(err) {
            eprintln!("{} {}", self.paint("hint:", "36"), as_invoked(hint));
        }
    }

    pub fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

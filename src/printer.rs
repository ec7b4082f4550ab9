//! The one owner of stdout and stderr.
//!
//! stdout carries only results: the commands a user runs next, or one JSON/YAML document with
//! `-o json|yaml`. Everything meant for a person (progress, warnings, hints) goes to stderr, so
//! `kreg up -o json | jq` and `eval "$(kreg ...)"` stay clean. The crate denies
//! `clippy::print_stdout`/`print_stderr` everywhere else.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use serde::Serialize;

use crate::cli::OutputFormat;

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
            OutputFormat::Yaml => serde_yaml::to_string(value)?,
        };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        Ok(())
    }

    /// A line for a person, on stderr.
    pub fn say(&self, line: &str) {
        eprintln!("{line}");
    }

    pub fn warn(&self, line: &str) {
        eprintln!("{} {line}", self.paint("warning:", "33"));
    }

    pub fn error(&self, err: &anyhow::Error) {
        let mut chain = err.chain();
        if let Some(top) = chain.next() {
            eprintln!("{} {top}", self.paint("error:", "31"));
        }
        for cause in chain {
            eprintln!("  {} {cause}", self.paint("Caused by:", "2"));
        }
        if let Some(hint) = crate::error::hint_of(err) {
            eprintln!("{} {hint}", self.paint("hint:", "36"));
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

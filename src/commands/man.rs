//! `kreg man --out-dir DIR`: a man page per command (kreg.1, kreg-up.1, ...), generated from the
//! clap definition. man/ holds these pages, checked by tests/man.rs; `make man` rewrites it and
//! `make dist` ships it. Hidden from `--help`: the pages reach people through the release
//! tarball and the Homebrew formula, not through this command.
//!
//! `kreg man --markdown FILE`: the same definition as one Markdown page, docs/reference.md
//! (`make docs`; tests/man.rs fails when it drifts), so that the documentation of every flag is
//! generated, never restated by hand.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::EXIT_OK;
use crate::printer::Printer;

/// Every page as (file name, roff text): the top-level command, then each visible subcommand.
/// The version in them is the release alone (no commit, no date), so a page changes only
/// when the flags or the release do.
pub fn pages() -> Vec<(String, String)> {
    let mut cmd = Cli::command()
        .version(crate::version::VERSION)
        .disable_help_subcommand(true);
    cmd.build();
    let mut out = vec![];
    collect(&cmd, &mut out);
    out
}

fn collect(cmd: &clap::Command, out: &mut Vec<(String, String)>) {
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("kreg {}", crate::version::VERSION))
        .manual("kreg manual");
    let mut roff = Vec::new();
    man.render(&mut roff).expect("rendering into memory");
    out.push((
        man.get_filename(),
        String::from_utf8(roff).expect("man pages are UTF-8"),
    ));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, out);
    }
}

/// The flag reference in Markdown: the global options once, then each visible command with its
/// usage and its own options and arguments.
pub fn reference() -> String {
    let mut cmd = Cli::command()
        .version(crate::version::VERSION)
        .disable_help_subcommand(true);
    cmd.build();
    let mut out = String::from(
        "# Command and flag reference\n\n\
         Generated from kreg's command-line definition by `make docs` (`kreg man --markdown`);\n\
         do not edit: a test fails when this page and `kreg --help` disagree.\n",
    );
    let mut index = String::from("\n");
    let mut body = String::new();
    section(&mut cmd, &[], &mut index, &mut body);
    out.push_str(&index);
    out.push_str(&body);
    out
}

fn section(cmd: &mut clap::Command, parents: &[String], index: &mut String, body: &mut String) {
    let mut path = parents.to_vec();
    path.push(cmd.get_name().to_string());
    let title = path.join(" ");
    let about = cmd
        .get_long_about()
        .or(cmd.get_about())
        .map(|a| a.to_string())
        .unwrap_or_default();
    if !parents.is_empty() {
        let anchor = title.replace(' ', "-");
        let first = about.lines().next().unwrap_or_default();
        index.push_str(&format!("- [`{title}`](#{anchor}): {first}\n"));
    }
    body.push_str(&format!("\n## {title}\n\n"));
    if !about.is_empty() {
        body.push_str(&format!("{}\n\n", about.trim_end()));
    }
    let usage = cmd.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ");
    body.push_str(&format!("```text\n{}\n```\n", usage.trim_end()));
    // The global options are the top-level command's; a subcommand lists only its own.
    let top = parents.is_empty();
    let args: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && (top || !a.is_global_set()))
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version") || top)
        .collect();
    if !args.is_empty() {
        body.push_str(if top {
            "\nGlobal options (every command takes them):\n\n"
        } else {
            "\n"
        });
        for a in args {
            body.push_str(&format!("- {}\n", describe(a)));
        }
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        if let Some(sub) = cmd.find_subcommand_mut(&name) {
            section(sub, &path, index, body);
        }
    }
}

/// One option or argument: its spelling, then what it takes, its default and environment
/// variable, then its help.
fn describe(a: &clap::Arg) -> String {
    let values: Vec<String> = a
        .get_value_names()
        .map(|v| v.iter().map(|n| format!("<{n}>")).collect())
        .unwrap_or_default();
    let takes = a.get_action().takes_values();
    let mut spelling = if a.is_positional() {
        values.join(" ")
    } else {
        let mut names = vec![];
        if let Some(s) = a.get_short() {
            names.push(format!("-{s}"));
        }
        if let Some(l) = a.get_long() {
            names.push(format!("--{l}"));
        }
        let mut s = names.join(", ");
        if takes && !values.is_empty() {
            s.push(' ');
            s.push_str(&values.join(" "));
        }
        s
    };
    if spelling.is_empty() {
        spelling = a.get_id().to_string();
    }
    let mut facts = vec![];
    let possible: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| format!("`{}`", p.get_name()))
        .collect();
    if takes && !possible.is_empty() {
        facts.push(format!("one of {}", possible.join(", ")));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if takes && !defaults.is_empty() {
        facts.push(format!("default `{}`", defaults.join(",")));
    }
    if let Some(env) = a.get_env() {
        facts.push(format!("env `{}`", env.to_string_lossy()));
    }
    if a.is_required_set() {
        facts.push("required".to_string());
    }
    let help = a
        .get_long_help()
        .or(a.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut line = format!("`{spelling}`");
    if !facts.is_empty() {
        line.push_str(&format!(" ({})", facts.join("; ")));
    }
    if !help.is_empty() {
        // A help of several paragraphs stays one list item: continuation lines are indented.
        line.push_str(": ");
        line.push_str(&help.trim_end().replace("\n", "\n  "));
    }
    line
}

/// Writes the pages into `dir`.
pub fn write(dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut names = vec![];
    for (name, text) in pages() {
        let path = dir.join(&name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        names.push(name);
    }
    Ok(names)
}

pub fn run(printer: &Printer, a: &ManArgs) -> Result<u8> {
    if let Some(dir) = &a.out_dir {
        let names = write(dir)?;
        printer.say(&format!(
            "wrote {} man pages into {}: {}",
            names.len(),
            dir.display(),
            names.join(" ")
        ));
    }
    if let Some(file) = &a.markdown {
        std::fs::write(file, reference()).with_context(|| format!("writing {}", file.display()))?;
        printer.say(&format!("wrote the flag reference into {}", file.display()));
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_per_visible_command_and_none_for_hidden_ones() {
        let names: Vec<String> = pages().into_iter().map(|(n, _)| n).collect();
        for want in ["kreg.1", "kreg-up.1", "kreg-status.1", "kreg-version.1"] {
            assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
        }
        for hidden in ["kreg-node-agent.1", "kreg-registry-gate.1", "kreg-man.1"] {
            assert!(!names.iter().any(|n| n == hidden), "{hidden}: {names:?}");
        }
    }

    #[test]
    fn pages_carry_the_release_but_not_the_commit() {
        let (_, up) = pages().into_iter().find(|(n, _)| n == "kreg-up.1").unwrap();
        assert!(up.contains(r"\fB\-\-expose\fR"), "{up}");
        assert!(up.contains(crate::version::VERSION), "{up}");
        assert!(!up.contains(crate::version::COMMIT), "{up}");
    }
}

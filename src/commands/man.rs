//! `kreg man --out-dir DIR`: a man page per command (kreg.1, kreg-up.1, ...), generated from the
//! clap definition. man/ holds these pages, checked by tests/man.rs; `make man` rewrites it and
//! `make dist` ships it. Hidden from `--help`: the pages reach people through the release
//! tarball and the Homebrew formula, not through this command.

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
    let names = write(&a.out_dir)?;
    printer.say(&format!(
        "wrote {} man pages into {}: {}",
        names.len(),
        a.out_dir.display(),
        names.join(" ")
    ));
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

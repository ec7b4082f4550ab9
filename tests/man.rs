//! Fails when man/ drifts from the flags: regenerate with `make man`.

mod support;

use std::collections::BTreeSet;

use kreg::commands::man::pages;

#[test]
fn man_pages_match_the_flags() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = pages();
    for (name, text) in &pages {
        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            &committed == text,
            "{} is out of date with the CLI flags: run `make man`",
            path.display()
        );
    }
    let want: BTreeSet<String> = pages.into_iter().map(|(n, _)| n).collect();
    let have = support::file_names(&dir);
    let stale: Vec<&String> = have.difference(&want).collect();
    assert!(
        stale.is_empty(),
        "man/ has pages of no command: {stale:?}: run `make man`"
    );
}

/// docs/reference.md is the flag documentation: generated, so it cannot drift from `--help`.
#[test]
fn the_flag_reference_matches_the_flags() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == kreg::commands::man::reference(),
        "{} is out of date with the CLI flags: run `make docs`",
        path.display()
    );
    // Every visible command has its section, and every long flag of `kreg up --help` is in it.
    let up = committed
        .split("\n## kreg up\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a kreg up section");
    let help = support::text(
        &std::process::Command::new(env!("CARGO_BIN_EXE_kreg"))
            .args(["up", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    let mut checked = 0;
    for flag in help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && w.len() > 2)
    {
        let flag = flag.trim_end_matches([',', '.', ')', ':', ';', '`']);
        let flag = flag.split(['=', '[', '<']).next().unwrap();
        if [
            "--help",
            "--version",
            "--kubeconfig",
            "--context",
            "--namespace",
            "--output",
            "--timeout",
            "--yes",
            "--filename",
        ]
        .contains(&flag)
        {
            continue;
        }
        if help.contains(&format!("  {flag}")) || help.contains(&format!(", {flag}")) {
            assert!(
                up.contains(&format!("`{flag}")),
                "{flag} is missing from the reference's kreg up"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} flags of kreg up --help were found"
    );
}

//! Fails when completions/ drifts from the flags: regenerate with `make completions`.

use clap_complete::Shell;
use kreg::commands::completions::script;

#[test]
fn completions_match_the_flags() {
    for (shell, file) in [
        (Shell::Bash, "kreg.bash"),
        (Shell::Zsh, "kreg.zsh"),
        (Shell::Fish, "kreg.fish"),
        (Shell::Elvish, "kreg.elvish"),
        (Shell::PowerShell, "kreg.powershell"),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("completions")
            .join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == script(shell),
            "{} is out of date with the CLI flags: run `make completions`",
            path.display()
        );
    }
}

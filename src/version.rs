//! Which build this is: the version from Cargo.toml, the git commit and the build date that
//! build.rs recorded, and the target triple. `kreg --version` prints [`LINE`]; `kreg version`
//! prints these fields (src/commands/version.rs).

/// The version in Cargo.toml, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The short git commit, `-dirty` when built from a changed work tree, `unknown` outside git.
pub const COMMIT: &str = env!("KREG_GIT_COMMIT");
/// UTC date of the build, `YYYY-MM-DD` (`SOURCE_DATE_EPOCH` when set).
pub const BUILD_DATE: &str = env!("KREG_BUILD_DATE");
/// The target triple the binary was built for, e.g. `x86_64-unknown-linux-gnu`.
pub const TARGET: &str = env!("KREG_TARGET");

/// The one-line form after the program name: `0.1.0 (1a2b3c4d5e6f 2026-11-29)`.
pub const LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KREG_GIT_COMMIT"),
    " ",
    env!("KREG_BUILD_DATE"),
    ")"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_carries_version_commit_and_date() {
        assert_eq!(LINE, format!("{VERSION} ({COMMIT} {BUILD_DATE})"));
        assert!(!COMMIT.is_empty() && !COMMIT.contains(' '), "{COMMIT:?}");
        let d: Vec<&str> = BUILD_DATE.split('-').collect();
        assert!(
            d.len() == 3 && d.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())),
            "{BUILD_DATE:?} is not YYYY-MM-DD"
        );
        assert!(TARGET.contains('-'), "{TARGET:?}");
    }
}

//! `kreg version`: which build this is ([`crate::version`]), as text or, with `-o json|yaml`,
//! a document. `kreg --version` prints the one-line form (clap, from [`crate::version::LINE`]).

use anyhow::Result;
use serde::Serialize;

use crate::error::EXIT_OK;
use crate::printer::Printer;
use crate::version;

/// `kreg version -o json`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VersionReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The release, from Cargo.toml (e.g. `0.1.0`).
    pub version: String,
    /// The short git commit; `-dirty` when built from a changed work tree, `unknown` when built
    /// outside git.
    pub commit: String,
    /// UTC date of the build, `YYYY-MM-DD`.
    pub build_date: String,
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub target: String,
}

/// This binary's report.
pub fn report() -> VersionReport {
    VersionReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        version: version::VERSION.to_string(),
        commit: version::COMMIT.to_string(),
        build_date: version::BUILD_DATE.to_string(),
        target: version::TARGET.to_string(),
    }
}

/// The text form, one fact a line.
fn text(r: &VersionReport) -> Vec<String> {
    vec![
        format!("kreg {}", r.version),
        format!("commit:  {}", r.commit),
        format!("built:   {}", r.build_date),
        format!("target:  {}", r.target),
    ]
}

pub fn run(printer: &Printer) -> Result<u8> {
    let r = report();
    if printer.is_text() {
        for line in text(&r) {
            printer.out(&line);
        }
    } else {
        printer.document(&r)?;
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionReport {
        VersionReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            version: "0.1.0".into(),
            commit: "1a2b3c4d5e6f-dirty".into(),
            build_date: "2026-11-29".into(),
            target: "x86_64-unknown-linux-gnu".into(),
        }
    }

    #[test]
    fn version_json() {
        insta::assert_json_snapshot!(sample());
    }

    #[test]
    fn text_names_each_fact() {
        assert_eq!(
            text(&sample()),
            [
                "kreg 0.1.0",
                "commit:  1a2b3c4d5e6f-dirty",
                "built:   2026-11-29",
                "target:  x86_64-unknown-linux-gnu"
            ]
        );
    }

    #[test]
    fn the_report_is_this_build() {
        let r = report();
        assert_eq!(r.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            format!("{} ({} {})", r.version, r.commit, r.build_date),
            version::LINE
        );
    }
}

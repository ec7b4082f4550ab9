//! Records which build this is, for `kreg version` and `kreg --version` (src/version.rs):
//! `KREG_GIT_COMMIT`, the short commit with `-dirty` when the work tree has changes ("unknown"
//! outside a git checkout, e.g. built from a release tarball), `KREG_BUILD_DATE` (UTC,
//! YYYY-MM-DD; from `SOURCE_DATE_EPOCH` when set, so builds are reproducible) and
//! `KREG_TARGET`, the target triple.
//!
//! `KREG_BUILD_EPOCH` means what `SOURCE_DATE_EPOCH` does, for this build script only:
//! `make dist` sets it to the last commit's time when `SOURCE_DATE_EPOCH` is not set, because
//! the C dependencies' build scripts (aws-lc-sys, ring, through `cc`) rebuild whenever
//! `SOURCE_DATE_EPOCH` changes, and with it everything above them (minutes per commit).

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// The short commit, `-dirty` when tracked files differ from it; None outside git (also when
/// these sources are an unpacked tarball inside some other repository).
fn commit() -> Option<String> {
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if top.canonicalize().ok()? != here.canonicalize().ok()? {
        return None;
    }
    let hash = git(&["rev-parse", "--short=12", "HEAD"]).filter(|h| !h.is_empty())?;
    // --no-optional-locks: no index refresh written, which would make the next build rerun
    // this script for nothing.
    let dirty = git(&[
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
    ])
    .is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// Days since 1970-01-01 as a civil (proleptic Gregorian) date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn build_date() -> String {
    let set = ["SOURCE_DATE_EPOCH", "KREG_BUILD_EPOCH"]
        .into_iter()
        .find_map(|k| Some((k, std::env::var(k).ok().filter(|v| !v.trim().is_empty())?)));
    let epoch = match set {
        Some((k, v)) => v
            .trim()
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("{k} must be seconds since 1970-01-01 UTC, not {v:?}")),
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let (y, m, d) = civil(epoch.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=KREG_BUILD_EPOCH");
    // Reruns when the sources change (for `-dirty`) and on commits and checkouts (HEAD and the
    // branch's ref). Not on git's index, which `git status` rewrites at any time: a change to
    // another tracked file shows as `-dirty` from the next rerun on.
    for p in ["build.rs", "Cargo.toml", "Cargo.lock", "src"] {
        println!("cargo:rerun-if-changed={p}");
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let git_paths = [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--git-path", "packed-refs"]),
        git(&["symbolic-ref", "-q", "HEAD"])
            .and_then(|r| git(&["rev-parse", "--git-path", r.as_str()])),
    ];
    for p in git_paths.into_iter().flatten() {
        let p = dir.join(p);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    println!(
        "cargo:rustc-env=KREG_GIT_COMMIT={}",
        commit().unwrap_or_else(|| "unknown".to_string())
    );
    println!("cargo:rustc-env=KREG_BUILD_DATE={}", build_date());
    println!(
        "cargo:rustc-env=KREG_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string())
    );
}

//! Error shape and exit codes.
//!
//! Errors are `anyhow` chains printed as `error:` / `Caused by:` lines; a [`Hint`] anywhere in
//! the chain adds a `hint:` line that says what to do. Exit codes are part of the CLI contract
//! (documented in `--help`).

use std::fmt;

/// Success; for `status`, installed and healthy.
pub const EXIT_OK: u8 = 0;
/// `status` found the registry unhealthy or absent.
pub const EXIT_UNHEALTHY: u8 = 1;
/// Any error: bad input, unreachable cluster, missing permission, timeout.
pub const EXIT_ERROR: u8 = 2;
/// Stopped by Ctrl-C (SIGINT), as shells report it (128 + 2).
pub const EXIT_INTERRUPTED: u8 = 130;

/// An error that carries advice for the user. Attach with [`hint`].
#[derive(Debug)]
pub struct Hint {
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hint {}

/// An error with a `hint:` line.
pub fn hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hint {
        message: message.into(),
        hint: hint.into(),
    })
}

/// An error and its sources on one line, each source once (kube's and reqwest's errors nest
/// several levels deep and often repeat their cause in their own text).
pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// The first hint in the chain, if any.
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Hint>())
        .map(|h| h.hint.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_is_found_through_context() {
        let e = hint("no StorageClass", "pass --storage-class").context("planning storage");
        assert_eq!(hint_of(&e), Some("pass --storage-class"));
        assert_eq!(e.to_string(), "planning storage");
        assert!(hint_of(&anyhow::anyhow!("plain")).is_none());
    }
}

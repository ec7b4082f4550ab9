//! Resolved settings: flags win over environment variables, which win over defaults.
//!
//! This is the one module that reads the process environment (`KUBECONFIG`, `KREG_NAMESPACE`,
//! `NO_COLOR`, `HOME`, whether stdin/stderr are terminals), so everything below it is a
//! function of its inputs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::validate;

pub const DEFAULT_NAMESPACE: &str = "kreg-system";

/// Where and how to reach the cluster, in kubectl's terms.
#[derive(Debug, Clone, Default)]
pub struct ClusterTarget {
    /// Explicit kubeconfig files: `--kubeconfig`, else the paths in `KUBECONFIG`.
    /// Empty means kubectl's default (`~/.kube/config`, then in-cluster).
    pub kubeconfig: Vec<PathBuf>,
    pub context: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub target: ClusterTarget,
    pub namespace: String,
    pub output: OutputFormat,
    pub timeout: Duration,
    /// Questions and spinners: only with a terminal on stdin and stderr, and without `--yes`.
    pub interactive: bool,
    /// `--yes`: the user answered every question up front (a security downgrade needs it
    /// when there is no terminal to ask on).
    pub yes: bool,
    pub color: bool,
    pub home: Option<PathBuf>,
}

impl Settings {
    pub fn resolve(g: &GlobalArgs) -> Result<Settings> {
        let kubeconfig = match &g.kubeconfig {
            Some(p) => vec![p.clone()],
            None => std::env::var_os("KUBECONFIG")
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        };
        let namespace = g
            .namespace
            .clone()
            .or_else(|| {
                std::env::var("KREG_NAMESPACE")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        validate::namespace(&namespace)?;
        if let Some(c) = &g.context {
            if c.is_empty() {
                bail!("--context is empty: give the name of a context in your kubeconfig (kubectl config get-contexts)");
            }
        }
        let timeout = parse_duration(&g.timeout)?;
        let terminals = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(Settings {
            target: ClusterTarget {
                kubeconfig,
                context: g.context.clone(),
            },
            namespace,
            output: g.output,
            timeout,
            interactive: terminals && !g.yes,
            yes: g.yes,
            color: std::io::stderr().is_terminal() && !no_color,
            home: std::env::var_os("HOME").map(PathBuf::from),
        })
    }
}

/// The longest `--timeout`: longer waits are a typo, and deadlines past it could overflow the
/// clock's arithmetic.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Parses a Go-style duration as kubectl does: `90s`, `5m`, `1h30m`, `500ms`. A bare number is
/// seconds. Zero and negative durations are refused: a wait that cannot succeed is a mistake;
/// so is one longer than [`MAX_TIMEOUT`].
pub fn parse_duration(s: &str) -> Result<Duration> {
    let d = parse_duration_uncapped(s)?;
    if d > MAX_TIMEOUT {
        return Err(crate::error::hint(
            format!("--timeout {s} is longer than the longest wait kreg allows (24h)"),
            "use a duration up to 24h, such as 10m or 2h",
        ));
    }
    Ok(d)
}

fn parse_duration_uncapped(s: &str) -> Result<Duration> {
    let err = || {
        anyhow::anyhow!(
            "invalid --timeout {s:?}: use a duration such as 90s, 5m or 1h30m (units: ms, s, m, h)"
        )
    };
    let s = s.trim();
    if s.is_empty() || s.len() > 32 {
        return Err(err());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return if secs == 0 {
            Err(err())
        } else {
            Ok(Duration::from_secs(secs))
        };
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| err())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60).ok_or_else(err)?),
            "h" => Duration::from_secs(n.checked_mul(3600).ok_or_else(err)?),
            _ => return Err(err()),
        };
        total = total.checked_add(d).ok_or_else(err)?;
    }
    if total.is_zero() {
        return Err(err());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("12").unwrap(), Duration::from_secs(12));
        assert_eq!(parse_duration("24h").unwrap(), MAX_TIMEOUT);
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in [
            "",
            "0",
            "0s",
            "5x",
            "m5",
            "-5s",
            "5 m",
            "1.5h",
            "99999999999999999999h",
            "10000000000000000000",
            "25h",
            "1441m",
        ] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains("--timeout"), "{bad:?}: {e}");
        }
    }
}

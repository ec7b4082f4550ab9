//! DNS names and labels: hosts (`--host`), the wildcard suffix (`--dns-suffix`), namespaces
//! and Secret names (`--ca-secret`'s among them).

use std::net::{IpAddr, Ipv6Addr};

use anyhow::{bail, Result};

use super::shown;

/// The longest DNS name (RFC 1035 §2.3.4, without the trailing dot).
pub(super) const DNS_NAME_MAX: usize = 253;
/// The longest DNS label.
pub(super) const DNS_LABEL_MAX: usize = 63;
/// The longest image repository name the distribution spec accepts.
pub(super) const IMAGE_NAME_MAX: usize = 255;
/// The longest tag the distribution spec accepts.
pub(super) const IMAGE_TAG_MAX: usize = 128;

pub(super) const HOST_RULE: &str = "a host must be a lowercase DNS name (letters a-z, digits, '-' and '.', \
labels of 1-63 characters not starting or ending with '-', 253 characters at most) or an IP address";

/// Why `s` is not a lowercase RFC 1123 DNS name, or `None` when it is one.
///
/// `max_label` is `Some(63)` for real DNS names; Kubernetes subdomains (object names) only cap
/// the total length, so callers validating those pass `None`.
pub(super) fn dns_name_problem(s: &str, max_label: Option<usize>) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > DNS_NAME_MAX {
        return Some(format!(
            "it is {} characters long (253 at most)",
            s.chars().count()
        ));
    }
    if s.ends_with('.') {
        return Some("it ends with '.' (leave the trailing dot out)".into());
    }
    if s.starts_with('.') {
        return Some("it starts with '.'".into());
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("it has uppercase letters (use lowercase)".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!("it contains {c:?}"));
    }
    for label in s.split('.') {
        if label.is_empty() {
            return Some("it has an empty label ('..')".into());
        }
        if let Some(max) = max_label {
            if label.len() > max {
                return Some(format!(
                    "the label {} is {} characters long ({max} at most)",
                    shown(label),
                    label.len()
                ));
            }
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!(
                "the label {} starts or ends with '-'",
                shown(label)
            ));
        }
    }
    None
}

/// `dns_name_problem` plus the rule that a name may not look like a (broken) IPv4 address: a
/// name whose last label is all digits, such as `10.0.0.256`, is almost always a mistyped IP,
/// and resolvers treat such names inconsistently.
pub(super) fn host_name_problem(s: &str) -> Option<String> {
    if let Some(p) = dns_name_problem(s, Some(DNS_LABEL_MAX)) {
        return Some(p);
    }
    let last = s.rsplit('.').next().unwrap_or(s);
    if last.chars().all(|c| c.is_ascii_digit()) {
        return Some("it looks like an IPv4 address but is not a valid one".into());
    }
    None
}

/// A registry host: a lowercase DNS name or an IPv4/IPv6 literal (IPv6 without brackets).
///
/// Used for `--host`; the host becomes a certificate SAN, a directory name on every node and
/// part of image references, so nothing outside the DNS alphabet is let through.
pub fn host(s: &str) -> Result<()> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        // 0.0.0.0 and :: are "any address" to a server, never an address a client can reach.
        if ip.is_unspecified() {
            bail!(
                "invalid --host {}: the unspecified address is not reachable; use the \
address clients connect to",
                shown(s)
            );
        }
        return Ok(());
    }
    if s.starts_with('[') && s.ends_with(']') && s[1..s.len() - 1].parse::<Ipv6Addr>().is_ok() {
        bail!(
            "invalid --host {}: write an IPv6 address without brackets, e.g. fd00::1",
            shown(s)
        );
    }
    if s.contains(':') {
        bail!(
            "invalid --host {}: a host has no port or scheme (kreg picks the port); {HOST_RULE}",
            shown(s)
        );
    }
    if let Some(problem) = host_name_problem(s) {
        bail!("invalid --host {}: {problem}; {HOST_RULE}", shown(s));
    }
    Ok(())
}

/// `--host` validated as [`host`] and in the one spelling every consumer uses: an IP literal in
/// its canonical form (RFC 5952 for IPv6: lowercase, zeros compressed), so the certificate,
/// the image references and the nodes' `certs.d/<host>` directories all agree.
pub fn canonical_host(s: &str) -> Result<String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        host(s)?;
        return Ok(ip.to_string());
    }
    host(s)?;
    Ok(s.to_string())
}

/// The wildcard DNS service (`--dns-suffix`, e.g. `nip.io`, `sslip.io`) that maps
/// `<ip>.<suffix>` to `<ip>`.
pub fn dns_suffix(s: &str) -> Result<()> {
    const RULE: &str = "use a lowercase DNS name such as nip.io or sslip.io (no scheme, \
no leading dot, no port)";
    if s.starts_with('.') && s.len() > 1 {
        bail!(
            "invalid --dns-suffix {}: leave the leading dot out; {RULE}",
            shown(s)
        );
    }
    if s.parse::<IpAddr>().is_ok() {
        bail!(
            "invalid --dns-suffix {}: an IP address is not a DNS suffix; {RULE}",
            shown(s)
        );
    }
    if let Some(problem) = host_name_problem(s) {
        bail!("invalid --dns-suffix {}: {problem}; {RULE}", shown(s));
    }
    Ok(())
}

/// Why `s` is not a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, 63 at most), if it is not.
pub(super) fn label_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > DNS_LABEL_MAX {
        return Some(format!(
            "it is {} characters long (63 at most)",
            s.chars().count()
        ));
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("it has uppercase letters (use lowercase)".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("it contains {c:?}"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some("it starts or ends with '-'".into());
    }
    None
}

/// A Kubernetes namespace name: a DNS-1123 label.
pub fn namespace(s: &str) -> Result<()> {
    if let Some(problem) = label_problem(s) {
        bail!(
            "invalid --namespace {}: {problem}; a namespace is 1-63 lowercase letters, digits \
and '-', starting and ending with a letter or digit",
            shown(s)
        );
    }
    Ok(())
}

/// A Kubernetes object name such as a Secret's (`--s3-secret`), a StorageClass's or an
/// IngressClass's: a DNS-1123 subdomain. The message names no flag; callers add it as context.
///
/// Kubernetes caps only the total length (253) for subdomains, not each label, so neither do we.
pub fn secret_name(s: &str) -> Result<()> {
    if let Some(problem) = dns_name_problem(s, None) {
        bail!(
            "invalid name {}: {problem}; a Kubernetes object name is at most 253 lowercase \
letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit",
            shown(s)
        );
    }
    Ok(())
}

/// `--ca-secret`: a Secret name in kreg's namespace (another namespace's Secret is not read:
/// kreg's rights end at its namespace), and not one of kreg's own `kreg-*` Secrets, which
/// `up` rewrites and `down --purge` deletes.
pub fn ca_secret(s: &str) -> Result<()> {
    if let Some((ns, name)) = s.split_once('/') {
        return Err(crate::error::hint(
            format!("--ca-secret {}: kreg reads the CA only from its own namespace", shown(s)),
            format!(
                "copy the Secret into kreg's namespace (or install kreg into {}) and pass --ca-secret {}",
                shown(ns),
                shown(name)
            ),
        ));
    }
    secret_name(s).map_err(|e| anyhow::anyhow!("invalid --ca-secret: {e}"))?;
    if s.starts_with("kreg-") {
        return Err(crate::error::hint(
            format!("--ca-secret {s}: names starting with kreg- are kreg's own Secrets"),
            "name the Secret with your CA differently (e.g. registry-ca)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod ca_secret_tests {
    use super::*;

    #[test]
    fn ca_secret_names() {
        ca_secret("registry-ca").unwrap();
        for (bad, why) in [
            ("kreg-ca", "kreg's own"),
            ("kreg-tls", "kreg's own"),
            ("other/registry-ca", "own namespace"),
            ("Registry_CA", "invalid --ca-secret"),
            ("", "invalid --ca-secret"),
        ] {
            let e = ca_secret(bad).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }
}

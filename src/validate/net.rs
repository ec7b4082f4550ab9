//! Network values: CIDRs (`--lb-source-ranges`), `host:port`, and base URLs without
//! credentials (S3 endpoints, mirror upstreams).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::{bail, Result};

use super::{names::*, shown};

/// A CIDR for `--lb-source-ranges`: `203.0.113.0/24`, `fd00::/64`.
pub fn cidr(s: &str) -> Result<()> {
    let err = || {
        crate::error::hint(
            format!("invalid --lb-source-ranges {}: not a CIDR", shown(s)),
            "give an address and a prefix length, e.g. 203.0.113.0/24 or fd00::/64 (comma-separated for several)",
        )
    };
    let (ip, bits) = s.split_once('/').ok_or_else(err)?;
    let ip: IpAddr = ip.parse().map_err(|_| err())?;
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let bits: u8 = bits.parse().map_err(|_| err())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(err());
    }
    Ok(())
}

/// A registry address: `host` or `host:port`, with IPv6 in brackets (`[fd00::1]:5000`).
///
/// The port must be written without leading zeros because the string is used verbatim as a
/// directory name (`certs.d/<host:port>`) and a YAML key: `reg:05000` and `reg:5000` would be
/// different entries that containerd matches differently.
pub fn host_port(s: &str) -> Result<()> {
    const RULE: &str = "use host or host:port, where host is a lowercase DNS name or an IPv4 \
address, an IPv6 address goes in brackets ([fd00::1]:5000), and the port is 1-65535";
    let (host_part, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            bail!("invalid registry address {}: missing ']'; {RULE}", shown(s));
        };
        if inside.parse::<Ipv6Addr>().is_err() {
            bail!(
                "invalid registry address {}: only IPv6 addresses go in brackets; {RULE}",
                shown(s)
            );
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => bail!(
                    "invalid registry address {}: unexpected text after ']'; {RULE}",
                    shown(s)
                ),
            },
        };
        (None, port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(s), None),
        }
    };
    if let Some(h) = host_part {
        if h.contains(':') || h.parse::<Ipv6Addr>().is_ok() {
            bail!("invalid registry address {}: {RULE}", shown(s));
        }
        if h.parse::<Ipv4Addr>().is_err() {
            if let Some(problem) = host_name_problem(h) {
                bail!(
                    "invalid registry address {}: the host {problem}; {RULE}",
                    shown(s)
                );
            }
        }
    }
    if let Some(p) = port {
        port_number(p).map_err(|why| {
            anyhow::anyhow!("invalid registry address {}: {why}; {RULE}", shown(s))
        })?;
    }
    Ok(())
}

/// A TCP port written canonically: 1-65535, digits only, no leading zero.
pub(super) fn port_number(p: &str) -> std::result::Result<u16, String> {
    if p.is_empty() {
        return Err("the port is empty".into());
    }
    if !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 5 {
        return Err(format!("the port {} is not a number", shown(p)));
    }
    if p.starts_with('0') {
        return Err(format!(
            "the port {} must be 1-65535 without leading zeros",
            shown(p)
        ));
    }
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(format!("the port {} is out of range", shown(p))),
    }
}

/// The base URL of a service kreg's pods talk to (`--s3-endpoint`, `--mirror UPSTREAM=URL`):
/// `http://` or `https://`, then `host[:port]`, nothing else (the client appends its own
/// paths). Credentials belong in a Secret, not in a flag that shows up in `ps`, and a value
/// that carries them is never echoed, so they do not reach logs either.
pub(super) fn base_url(
    flag: &str,
    example: &str,
    where_credentials_go: &str,
    s: &str,
) -> Result<()> {
    let rule = format!(
        "use http(s)://host[:port] with nothing after it, e.g. {example} \
(host: a lowercase DNS name, an IPv4 address or a bracketed IPv6 address)"
    );
    let fail = |why: &str| -> anyhow::Error {
        anyhow::anyhow!("invalid {flag} {}: {why}; {rule}", shown(s))
    };
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return Err(fail("it must start with https:// or http://"));
    };
    if rest.contains('@') {
        bail!(
            "invalid {flag} URL: it contains credentials (user:password@), which kreg never \
takes in a flag; {where_credentials_go}"
        );
    }
    if let Some(c) = rest.chars().find(|c| matches!(c, '/' | '?' | '#')) {
        return Err(fail(&format!("it has a path, query or fragment ({c:?})")));
    }
    host_port(rest).map_err(|_| fail("the host or port is invalid"))
}

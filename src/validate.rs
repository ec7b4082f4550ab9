//! Input validation: every value a user hands kreg (flags, environment) is checked here before
//! it reaches a manifest, a file on a node, a shell-visible command or the API server.
//!
//! The rules are deliberately narrower than what the wider world sometimes accepts: these
//! values end up in YAML, TOML, file paths on nodes and certificate SANs, so anything outside a
//! small, well-known alphabet is refused rather than escaped. Every error says what was wrong
//! and what is accepted, so the user can fix it without reading the source.
//!
//! Pure functions, no I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::{bail, Result};

/// The longest DNS name (RFC 1035 §2.3.4, without the trailing dot).
const DNS_NAME_MAX: usize = 253;
/// The longest DNS label.
const DNS_LABEL_MAX: usize = 63;
/// The longest image repository name the distribution spec accepts.
const IMAGE_NAME_MAX: usize = 255;
/// The longest tag the distribution spec accepts.
const IMAGE_TAG_MAX: usize = 128;

const HOST_RULE: &str = "a host must be a lowercase DNS name (letters a-z, digits, '-' and '.', \
labels of 1-63 characters not starting or ending with '-', 253 characters at most) or an IP address";

/// Shows a user value inside an error message: quoted and escaped (so control characters and
/// terminal escapes are never echoed raw) and cut short, so a 10 kB paste does not flood the
/// terminal.
fn shown(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}… ({} characters)", s.chars().count())
    }
}

/// Why `s` is not a lowercase RFC 1123 DNS name, or `None` when it is one.
///
/// `max_label` is `Some(63)` for real DNS names; Kubernetes subdomains (object names) only cap
/// the total length, so callers validating those pass `None`.
fn dns_name_problem(s: &str, max_label: Option<usize>) -> Option<String> {
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
fn host_name_problem(s: &str) -> Option<String> {
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
fn port_number(p: &str) -> std::result::Result<u16, String> {
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
fn label_problem(s: &str) -> Option<String> {
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

/// An OCI image reference (`--image`), per the distribution reference grammar:
/// `[registry[:port]/]path[:tag][@sha256:<64 hex>]`.
///
/// The image lands in a Pod spec; nothing there is shell-interpreted, but refusing anything
/// outside the grammar keeps typos (and pasted shell) from producing a Pod that never pulls.
pub fn image(s: &str) -> Result<()> {
    const RULE: &str = "use an image reference such as registry:2, \
mirror.example.com:5000/library/registry:2.8.3 or name@sha256:<64 hex digits> \
(lowercase path components of letters, digits and single '.', '_', '__' or '-' separators)";
    image_parts(s)
        .map(|_| ())
        .map_err(|why| anyhow::anyhow!("invalid --image {}: {why}; {RULE}", shown(s)))
}

/// The node agent's image: a valid reference pinned by digest. It runs privileged on every
/// node, so a tag someone can re-point is refused.
pub fn agent_image(s: &str) -> Result<()> {
    let parts = image_parts(s)
        .map_err(|why| anyhow::anyhow!("invalid --agent-image {}: {why}", shown(s)))?;
    if parts.digest.is_none() {
        return Err(crate::error::hint(
            format!("--agent-image {} is not pinned by digest", shown(s)),
            "the agent runs privileged on every node: name it as IMAGE@sha256:<64 hex digits> (`crane digest IMAGE` or `skopeo inspect` tell the digest)",
        ));
    }
    Ok(())
}

/// The parts of an image reference `[domain/]path[:tag][@digest]`, each already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageParts<'a> {
    pub domain: Option<&'a str>,
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits and checks an image reference; the error says why it is not one.
pub fn image_parts(s: &str) -> std::result::Result<ImageParts<'_>, String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(format!("it contains {c:?}"));
    }
    if let Some(c) = s.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '[' | ']'))
    }) {
        return Err(format!("it contains {c:?}"));
    }

    // Split off the digest first: it is the only part that may contain ':' after the last '/'.
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        image_digest(d)?;
    }
    // A tag is a ':' after the last '/'; a ':' before it belongs to the registry's port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        image_tag(t)?;
    }
    if name.is_empty() {
        return Err("the repository name is empty".into());
    }
    if name.len() > IMAGE_NAME_MAX {
        return Err(format!(
            "the repository name is {} characters long ({IMAGE_NAME_MAX} at most)",
            name.len()
        ));
    }
    // Same rule as docker/containerd: the first component is a registry when it has a '.' or
    // ':', is "localhost" or has an uppercase letter; otherwise the whole name is a path.
    let (domain, path) = match name.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), path)
        }
        _ => (None, name),
    };
    if let Some(d) = domain {
        image_domain(d)?;
    }
    if path.is_empty() {
        return Err("the repository path is empty".into());
    }
    for component in path.split('/') {
        path_component(component)?;
    }
    Ok(ImageParts {
        domain,
        path,
        tag,
        digest,
    })
}

/// `kreg push --name`: `repository[:tag]` inside kreg's registry. No registry host (the image
/// goes to kreg's registry, whatever the name says) and no digest (the content decides it).
/// Returns the repository and the tag (`latest` when none is given, as docker does).
pub fn push_name(s: &str) -> Result<(String, String)> {
    const RULE: &str = "use REPOSITORY[:TAG], e.g. team/app:1.2 (lowercase path components of \
letters, digits and single '.', '_', '__' or '-' separators; a tag of letters, digits, '_', '.', '-')";
    let fail = |why: &str| anyhow::anyhow!("invalid --name {}: {why}; {RULE}", shown(s));
    let parts = image_parts(s).map_err(|why| fail(&why))?;
    if let Some(d) = parts.domain {
        return Err(fail(&format!(
            "it starts with the registry {}: kreg pushes to its own registry, so leave the host out",
            shown(d)
        )));
    }
    if parts.digest.is_some() {
        return Err(fail(
            "a digest cannot be chosen: it is computed from the image",
        ));
    }
    Ok((
        parts.path.to_string(),
        parts.tag.unwrap_or("latest").to_string(),
    ))
}

fn image_digest(d: &str) -> std::result::Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err("a digest is written algorithm:hex, e.g. sha256:<64 hex digits>".into());
    };
    let want = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "the digest algorithm {} is not sha256 or sha512",
                shown(alg)
            ))
        }
    };
    if hex.len() != want
        || !hex
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return Err(format!(
            "a {alg} digest is exactly {want} lowercase hex digits"
        ));
    }
    Ok(())
}

fn image_tag(t: &str) -> std::result::Result<(), String> {
    let mut chars = t.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_first
        || t.len() > IMAGE_TAG_MAX
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(format!(
            "the tag {} must be 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            shown(t)
        ));
    }
    Ok(())
}

fn image_domain(d: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("the registry {} is missing ']'", shown(d)))?;
        if inside.parse::<Ipv6Addr>().is_err() {
            return Err(format!(
                "the registry {} has brackets around something that is not an IPv6 address",
                shown(d)
            ));
        }
        let port = match after {
            "" => None,
            a => Some(
                a.strip_prefix(':')
                    .ok_or_else(|| format!("the registry {} is malformed", shown(d)))?,
            ),
        };
        (None, port)
    } else {
        match d.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(h) = host {
        // The reference grammar allows uppercase registry names; DNS is case-insensitive.
        let ok = !h.is_empty()
            && h.split('.').all(|c| {
                !c.is_empty()
                    && c.len() <= DNS_LABEL_MAX
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            });
        if !ok {
            return Err(format!(
                "the registry {} is not a valid host name",
                shown(d)
            ));
        }
    }
    if let Some(p) = port {
        port_number(p).map_err(|why| format!("in the registry {}: {why}", shown(d)))?;
    }
    Ok(())
}

/// One path component: `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn path_component(c: &str) -> std::result::Result<(), String> {
    if c == ".." || c == "." {
        return Err(format!("the path segment {} is not allowed", shown(c)));
    }
    let bad = || {
        Err(format!(
            "the path component {} must be lowercase letters and digits joined by '.', '_', '__' or '-'",
            shown(c)
        ))
    };
    let bytes = c.as_bytes();
    if bytes.is_empty() {
        return Err("the repository path has an empty component ('//' or a trailing '/')".into());
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return bad();
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: exactly ".", "_", "__", or one or more "-".
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return bad();
        }
    }
    Ok(())
}

/// A storage size (`--size`): a Kubernetes quantity such as `10Gi`, `500Mi`, `1Ti`, `1G`, or a
/// plain number of bytes; it must be positive.
///
/// Only the suffixes that make sense for bytes are accepted (no milli `m`, no exponents), and
/// the number is capped, so a typo is caught here rather than by the API server after half the
/// objects were applied.
/// `--gc-schedule`: a five-field cron expression (`0 3 * * 0`) or one of the macros CronJob
/// accepts (`@daily` ...). Only the characters cron uses: nothing a shell or YAML could read.
pub fn cron(s: &str) -> Result<()> {
    const RULE: &str = "use five cron fields (minute hour day-of-month month day-of-week), e.g. \"0 3 * * 0\", or @hourly, @daily, @weekly, @monthly, @yearly";
    const MACROS: [&str; 6] = [
        "@hourly",
        "@daily",
        "@midnight",
        "@weekly",
        "@monthly",
        "@yearly",
    ];
    if MACROS.contains(&s) {
        return Ok(());
    }
    let fail = |why: &str| anyhow::anyhow!("invalid --gc-schedule {}: {why}; {RULE}", shown(s));
    if s.len() > 100 {
        return Err(fail("it is too long"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '*' | '/' | ',' | '-' | '?')))
    {
        return Err(fail(&format!("it contains {c:?}")));
    }
    let fields = s.split(' ').collect::<Vec<_>>();
    if fields.iter().any(|f| f.is_empty()) || fields.len() != 5 {
        return Err(fail(&format!(
            "it has {} fields separated by single spaces",
            s.split_whitespace().count()
        )));
    }
    Ok(())
}

pub fn size(s: &str) -> Result<()> {
    const RULE: &str = "use a positive Kubernetes quantity such as 10Gi, 500Mi, 1Ti or 1G: a \
number (optionally with a fraction) followed by Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E or nothing (bytes)";
    const SUFFIXES: [&str; 12] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E",
    ];
    let fail = |why: &str| -> anyhow::Error {
        anyhow::anyhow!("invalid --size {}: {why}; {RULE}", shown(s))
    };
    if s.is_empty() {
        return Err(fail("it is empty"));
    }
    if s.len() > 24 {
        return Err(fail("it is too long"));
    }
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    if !suffix.is_empty() && !SUFFIXES.contains(&suffix) {
        let hint = match suffix {
            "GB" | "gb" | "Gb" => " (did you mean Gi or G?)",
            "MB" | "mb" | "Mb" => " (did you mean Mi or M?)",
            "TB" | "tb" | "Tb" => " (did you mean Ti or T?)",
            "KB" | "kb" | "K" | "Kb" => " (did you mean Ki or k?)",
            _ => "",
        };
        return Err(fail(&format!("unknown suffix {}{hint}", shown(suffix))));
    }
    let (int, frac) = match number.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (number, None),
    };
    if int.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || frac.is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(fail("it does not start with a number"));
    }
    if int.len() > 15 {
        return Err(fail("the number is absurdly large"));
    }
    let zero = int.chars().all(|c| c == '0') && frac.is_none_or(|f| f.chars().all(|c| c == '0'));
    if zero {
        return Err(fail("it is zero"));
    }
    Ok(())
}

/// An S3 bucket name (`--s3-bucket`), per AWS's general-purpose bucket naming rules.
pub fn s3_bucket(s: &str) -> Result<()> {
    const RULE: &str = "an S3 bucket name is 3-63 lowercase letters, digits, '.' and '-', starts \
and ends with a letter or digit, has no '..' and is not an IP address";
    let fail = |why: &str| -> anyhow::Error {
        anyhow::anyhow!("invalid --s3-bucket {}: {why}; {RULE}", shown(s))
    };
    if !(3..=63).contains(&s.len()) {
        return Err(fail(&format!(
            "it is {} characters long",
            s.chars().count()
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(fail(&format!("it contains {c:?}")));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(s.chars().next()) || !edge_ok(s.chars().last()) {
        return Err(fail("it starts or ends with '.' or '-'"));
    }
    if s.contains("..") {
        return Err(fail("it contains '..'"));
    }
    if s.parse::<Ipv4Addr>().is_ok() {
        return Err(fail("it is formatted as an IP address"));
    }
    // Prefixes and suffixes AWS reserves for its own features (access points, Object Lambda,
    // directory buckets...): a bucket with such a name cannot be created, so refuse it early.
    for p in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if s.starts_with(p) {
            return Err(fail(&format!("the prefix {p:?} is reserved by AWS")));
        }
    }
    for sfx in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if s.ends_with(sfx) {
            return Err(fail(&format!("the suffix {sfx:?} is reserved by AWS")));
        }
    }
    Ok(())
}

/// An S3 region (`--s3-region`), e.g. `us-east-1`; S3-compatible stores use free-form names
/// in the same alphabet.
pub fn s3_region(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if !ok {
        bail!(
            "invalid --s3-region {}: a region is 1-64 lowercase letters, digits and '-', such as \
us-east-1",
            shown(s)
        );
    }
    Ok(())
}

/// An S3-compatible endpoint (`--s3-endpoint`): `http://` or `https://`, then `host[:port]`,
/// and nothing else (no credentials, path, query or fragment), because the registry appends
/// its own paths and credentials belong in the Secret, not in a flag that shows up in `ps`.
pub fn s3_endpoint(s: &str) -> Result<()> {
    base_url(
        "--s3-endpoint",
        "https://minio.example.com:9000",
        "put them in the Secret named by --s3-secret",
        s,
    )
}

/// The base URL of a service kreg's pods talk to (`--s3-endpoint`, `--mirror UPSTREAM=URL`):
/// `http://` or `https://`, then `host[:port]`, nothing else (the client appends its own
/// paths). Credentials belong in a Secret, not in a flag that shows up in `ps`, and a value
/// that carries them is never echoed, so they do not reach logs either.
fn base_url(flag: &str, example: &str, where_credentials_go: &str, s: &str) -> Result<()> {
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

/// The upstream URL kreg assumes when `--mirror` names only the registry: Docker Hub's
/// registry API lives on `registry-1.docker.io`, every other registry on its own name.
pub fn default_upstream_url(upstream: &str) -> String {
    match upstream {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://registry-1.docker.io".into()
        }
        other => format!("https://{other}"),
    }
}

/// `--mirror UPSTREAM[=URL]`: the registry name as it appears in image references
/// (`docker.io`, `ghcr.io`, `registry.example.com:5000`) and the URL the cache pulls from.
/// The name becomes a directory on every node and a key in registries.yaml, so it follows the
/// same rule as a registry address.
pub fn mirror(spec: &str) -> Result<(String, String)> {
    let (upstream, url) = match spec.split_once('=') {
        Some((u, url)) => (u, Some(url)),
        None => (spec, None),
    };
    host_port(upstream).map_err(|e| {
        anyhow::anyhow!(
            "invalid --mirror {}: the upstream must be a registry name as in image references \
(docker.io, ghcr.io, registry.example.com:5000): {e}",
            shown(spec)
        )
    })?;
    let url = match url {
        Some(u) => {
            base_url(
                "--mirror",
                "https://registry-1.docker.io",
                "put them in a Secret and pass --mirror-credentials UPSTREAM=SECRET",
                u,
            )?;
            u.to_string()
        }
        None => default_upstream_url(upstream),
    };
    Ok((upstream.to_string(), url))
}

/// `--mirror-credentials UPSTREAM=SECRET`: a Secret in kreg's namespace with `username` and
/// `password`, passed to the cache as environment variables from the Secret (never literal).
pub fn mirror_credentials(spec: &str) -> Result<(String, String)> {
    let Some((upstream, secret)) = spec.split_once('=') else {
        bail!(
            "invalid --mirror-credentials {}: use UPSTREAM=SECRET, e.g. docker.io=dockerhub-login \
(a Secret in kreg's namespace with keys username and password)",
            shown(spec)
        );
    };
    host_port(upstream)
        .map_err(|e| anyhow::anyhow!("invalid --mirror-credentials {}: {e}", shown(spec)))?;
    secret_name(secret)
        .map_err(|e| anyhow::anyhow!("invalid --mirror-credentials {}: {e}", shown(spec)))?;
    Ok((upstream.to_string(), secret.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_schedules() {
        for ok in ["0 3 * * 0", "*/15 * * * *", "0 0 1,15 * MON-FRI", "@weekly"] {
            cron(ok).unwrap_or_else(|e| panic!("{ok}: {e:#}"));
        }
        for bad in [
            "",
            "* * * *",
            "0 3 * * 0 *",
            "0  3 * * 0",
            "0 3 * * 0; rm -rf /",
            "$(id) * * * *",
            "@sometimes",
        ] {
            let e = cron(bad).expect_err(bad);
            assert!(format!("{e:#}").contains("--gc-schedule"), "{e:#}");
        }
    }

    /// Strings no validator may accept: shell injection, traversal, unicode look-alikes,
    /// control characters, empties and floods.
    fn hostile() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            " ",
            ";rm -rf /",
            "$(id)",
            "`x`",
            "../../etc",
            "a b",
            "a\tb",
            "a\nb",
            "a;b",
            "a|b",
            "a&b",
            "a>b",
            "a<b",
            "a'b",
            "a\"b",
            "a\\b",
            "a*b",
            "a?b",
            "a{b}",
            "a$b",
            "a%b",
            "a!b",
            "a\u{0}b",
            "a\u{1b}[31mb",
            "ré",
            "аpple", // Cyrillic 'а'
            "日本",
            "a\u{200b}b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push("a".repeat(300));
        v.push(format!("{}.com", "a.".repeat(150)));
        v
    }

    fn assert_all_rejected(what: &str, f: fn(&str) -> Result<()>, inputs: &[String]) {
        for s in inputs {
            assert!(f(s).is_err(), "{what} accepted hostile input {s:?}");
        }
    }

    #[test]
    fn hostile_inputs_are_rejected_everywhere() {
        let h = hostile();
        assert_all_rejected("host", host, &h);
        assert_all_rejected("host_port", host_port, &h);
        assert_all_rejected("dns_suffix", dns_suffix, &h);
        assert_all_rejected("namespace", namespace, &h);
        assert_all_rejected("secret_name", secret_name, &h);
        assert_all_rejected("image", image, &h);
        assert_all_rejected("push_name", |s| push_name(s).map(|_| ()), &h);
        assert_all_rejected("size", size, &h);
        assert_all_rejected("s3_bucket", s3_bucket, &h);
        assert_all_rejected("s3_region", s3_region, &h);
        assert_all_rejected("s3_endpoint", s3_endpoint, &h);
        assert_all_rejected("mirror", |s| mirror(s).map(drop), &h);
        assert_all_rejected(
            "mirror_credentials",
            |s| mirror_credentials(s).map(drop),
            &h,
        );
        // The same hostile strings as the URL half of a --mirror, and as the Secret half.
        let as_url: Vec<String> = h.iter().map(|s| format!("docker.io={s}")).collect();
        assert_all_rejected("mirror URL", |s| mirror(s).map(drop), &as_url);
        let as_secret: Vec<String> = h.iter().map(|s| format!("docker.io={s}")).collect();
        assert_all_rejected(
            "mirror secret",
            |s| mirror_credentials(s).map(drop),
            &as_secret,
        );
    }

    #[test]
    fn mirrors() {
        for (spec, upstream, url) in [
            ("docker.io", "docker.io", "https://registry-1.docker.io"),
            ("ghcr.io", "ghcr.io", "https://ghcr.io"),
            (
                "registry.k8s.io",
                "registry.k8s.io",
                "https://registry.k8s.io",
            ),
            (
                "quay.io=https://quay.example:8443",
                "quay.io",
                "https://quay.example:8443",
            ),
            (
                "10.213.0.2:5001=http://10.213.0.2:5001",
                "10.213.0.2:5001",
                "http://10.213.0.2:5001",
            ),
            ("[fd00::1]:5000", "[fd00::1]:5000", "https://[fd00::1]:5000"),
        ] {
            assert_eq!(
                mirror(spec).unwrap(),
                (upstream.to_string(), url.to_string()),
                "{spec}"
            );
        }
        for bad in [
            "docker.io/library",
            "https://docker.io",
            "Docker.io",
            "docker.io=",
            "docker.io=registry-1.docker.io",
            "docker.io=ftp://x",
            "docker.io=https://u:p@x",
            "docker.io=https://x/v2",
            "docker.io=https://x?a=1",
            "docker.io=https://x=y",
            "=https://x",
            "../x=https://x",
        ] {
            assert!(mirror(bad).is_err(), "accepted {bad:?}");
        }
        let e = mirror("docker.io=https://u:secret@x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--mirror-credentials"), "{e}");
        assert!(!e.contains("secret@"), "credentials echoed: {e}");
    }

    #[test]
    fn mirror_credential_specs() {
        assert_eq!(
            mirror_credentials("docker.io=hub-login").unwrap(),
            ("docker.io".to_string(), "hub-login".to_string())
        );
        for bad in [
            "docker.io",
            "docker.io=",
            "=x",
            "docker.io=Hub",
            "docker.io=a/b",
            "a b=x",
        ] {
            assert!(mirror_credentials(bad).is_err(), "accepted {bad:?}");
        }
        let e = mirror_credentials("docker.io").unwrap_err().to_string();
        assert!(
            e.contains("UPSTREAM=SECRET") && e.contains("username"),
            "{e}"
        );
    }

    #[test]
    fn hosts() {
        for ok in [
            "registry.example.com",
            "localhost",
            "registry.10.0.0.5.nip.io",
            "a",
            "a-b.c-d",
            "10.0.0.5",
            "192.168.1.1",
            "::1",
            "fd00::5",
            &format!("{}.com", "a".repeat(63)),
        ] {
            assert!(host(ok).is_ok(), "rejected {ok:?}: {:?}", host(ok));
        }
        for bad in [
            "Registry.example.com",
            "-a.com",
            "a-.com",
            "a..b",
            "a.com.",
            ".a.com",
            "a_b.com",
            "a/b",
            "reg:5000",
            "https://reg",
            "[::1]",
            "10.0.0.256",
            "1.2.3",
            "01.2.3.4",
            "0.0.0.0",
            "::",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(host(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn ip_hosts_are_canonical() {
        assert_eq!(canonical_host("FD00:0:0::5").unwrap(), "fd00::5");
        assert_eq!(
            canonical_host("2001:DB8:0:0:0:0:0:1").unwrap(),
            "2001:db8::1"
        );
        assert_eq!(canonical_host("10.0.0.5").unwrap(), "10.0.0.5");
        assert_eq!(
            canonical_host("registry.example.com").unwrap(),
            "registry.example.com"
        );
        assert!(canonical_host("Registry.example.com").is_err());
        assert!(canonical_host("::").is_err());
    }

    #[test]
    fn cidrs() {
        for ok in ["203.0.113.0/24", "10.0.0.1/32", "fd00::/64", "0.0.0.0/0"] {
            assert!(cidr(ok).is_ok(), "{ok}");
        }
        for bad in [
            "203.0.113.0",
            "10.0.0.0/33",
            "fd00::/129",
            "x/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "",
        ] {
            assert!(cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_error_says_what_is_accepted() {
        let e = host("a b").unwrap_err().to_string();
        assert!(e.starts_with("invalid --host \"a b\":"), "{e}");
        assert!(e.contains("DNS name") && e.contains("IP address"), "{e}");
        let e = host("Reg.io").unwrap_err().to_string();
        assert!(e.contains("lowercase"), "{e}");
    }

    #[test]
    fn error_messages_escape_and_truncate_input() {
        let e = host("a\u{1b}[31mb").unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "raw escape echoed: {e:?}");
        let e = host(&"a".repeat(5000)).unwrap_err().to_string();
        assert!(e.len() < 600, "message not truncated: {} bytes", e.len());
        assert!(e.contains("5000 characters"), "{e}");
    }

    #[test]
    fn host_ports() {
        for ok in [
            "reg.example.com",
            "reg.example.com:5000",
            "localhost:5000",
            "10.0.0.5:443",
            "10.0.0.5",
            "[::1]:5000",
            "[fd00::1]",
            "r:1",
            "r:65535",
        ] {
            assert!(
                host_port(ok).is_ok(),
                "rejected {ok:?}: {:?}",
                host_port(ok)
            );
        }
        for bad in [
            "reg:0",
            "reg:65536",
            "reg:05000",
            "reg:",
            "reg:50a",
            "reg:5000:1",
            "::1",
            "::1:5000",
            "[::1]5000",
            "[::1",
            "[10.0.0.1]:5000",
            "REG:5000",
            ":5000",
            "reg:+5000",
            "reg:-1",
        ] {
            assert!(host_port(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn dns_suffixes() {
        for ok in ["nip.io", "sslip.io", "traefik.me", "local"] {
            assert!(dns_suffix(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            ".nip.io",
            "nip.io.",
            "1.2.3.4",
            "https://nip.io",
            "nip.io:80",
            "NIP.io",
        ] {
            assert!(dns_suffix(bad).is_err(), "accepted {bad:?}");
        }
        let e = dns_suffix(".nip.io").unwrap_err().to_string();
        assert!(e.contains("leading dot"), "{e}");
    }

    #[test]
    fn namespaces() {
        for ok in ["kreg-system", "a", "a1", "1a", &"a".repeat(63)] {
            assert!(namespace(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            "Kreg",
            "kreg.system",
            "-kreg",
            "kreg-",
            "kreg_system",
            &"a".repeat(64),
        ] {
            assert!(namespace(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn secret_names() {
        for ok in [
            "s3-creds",
            "my.secret",
            "a",
            // Subdomains cap only the total length, not each label.
            &"a".repeat(100),
        ] {
            assert!(secret_name(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in ["S3", "a_b", "a..b", ".a", "a.", "-a", &"a".repeat(254)] {
            assert!(secret_name(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn images() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        for ok in [
            "registry:2".to_string(),
            "registry".to_string(),
            "library/registry:2.8.3".to_string(),
            "docker.io/library/registry:2".to_string(),
            "mirror.example.com:5000/library/registry:2".to_string(),
            "localhost:5000/registry".to_string(),
            "localhost/registry".to_string(),
            "10.0.0.5:5000/a/b/c:v1".to_string(),
            "[fd00::1]:5000/registry:2".to_string(),
            "Mirror.Example.com/registry".to_string(),
            "a__b/c-d/e--f/g.h_i:TAG_1.0-x".to_string(),
            format!("registry@{digest}"),
            format!("registry:2@{digest}"),
            format!("ghcr.io/org/registry@sha512:{}", "0".repeat(128)),
            format!("{}:2", "a".repeat(255)),
        ] {
            assert!(image(&ok).is_ok(), "rejected {ok:?}: {:?}", image(&ok));
        }
        for bad in [
            "Registry:2".to_string(),
            "registry:".to_string(),
            ":2".to_string(),
            "registry:-2".to_string(),
            "registry:.2".to_string(),
            format!("registry:{}", "a".repeat(129)),
            "registry@sha256:abc".to_string(),
            format!("registry@md5:{}", "a".repeat(32)),
            format!("registry@sha256:{}", "AB".repeat(32)),
            "reg.io/../registry".to_string(),
            "reg.io/./registry".to_string(),
            "reg.io//registry".to_string(),
            "reg.io/registry/".to_string(),
            "/registry".to_string(),
            "reg.io/a...b".to_string(),
            "reg.io/a-".to_string(),
            "reg.io/_a".to_string(),
            "reg.io:0/a".to_string(),
            "reg.io:99999/a".to_string(),
            "-reg.io/a".to_string(),
            "[zz]:5000/a".to_string(),
            "reg.io/a@b@c".to_string(),
            "reg.io/a b".to_string(),
            "reg.io/a;b".to_string(),
            format!("{}:2", "a".repeat(256)),
        ] {
            assert!(image(&bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn push_names() {
        for (given, repo, tag) in [
            ("hello", "hello", "latest"),
            ("kreg-test/hello:1", "kreg-test/hello", "1"),
            ("a__b/c-d/e.f:TAG_1.0-x", "a__b/c-d/e.f", "TAG_1.0-x"),
        ] {
            assert_eq!(
                push_name(given).unwrap(),
                (repo.to_string(), tag.to_string())
            );
        }
        for (bad, why) in [
            ("registry.example.com/app:1", "leave the host out"),
            ("localhost:5000/app", "leave the host out"),
            (
                "app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "digest",
            ),
            ("App:1", "--name"),
            ("app:", "tag"),
            ("", "empty"),
            ("a/../b", "not allowed"),
        ] {
            let e = push_name(bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("--name"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn sizes() {
        for ok in [
            "10Gi",
            "500Mi",
            "1Ti",
            "1G",
            "1073741824",
            "1.5Gi",
            "1Ki",
            "2k",
            "1Ei",
            "0.5Ti",
        ] {
            assert!(size(ok).is_ok(), "rejected {ok:?}: {:?}", size(ok));
        }
        for bad in [
            "-1Gi",
            "10 Gi",
            "10GB",
            "10gi",
            "0",
            "0Gi",
            "0.0Mi",
            "Gi",
            "1.Gi",
            ".5Gi",
            "1..5Gi",
            "100m",
            "1e9",
            "+1Gi",
            "1Gi ",
            "9999999999999999Gi",
            &"1".repeat(40),
        ] {
            assert!(size(bad).is_err(), "accepted {bad:?}");
        }
        let e = size("10GB").unwrap_err().to_string();
        assert!(e.contains("did you mean Gi or G"), "{e}");
    }

    #[test]
    fn s3_buckets() {
        for ok in ["my-bucket", "abc", "a.b.c", "bucket-123", &"a".repeat(63)] {
            assert!(s3_bucket(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "my_bucket",
            "-bucket",
            "bucket-",
            ".bucket",
            "a..b",
            "192.168.5.4",
            "xn--bucket",
            "sthree-bucket",
            "bucket-s3alias",
            "bucket--ol-s3",
        ] {
            assert!(s3_bucket(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn s3_regions() {
        for ok in ["us-east-1", "eu-central-1", "minio", "auto"] {
            assert!(s3_region(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            "US-EAST-1",
            "us_east_1",
            "-us",
            "us-",
            "us east",
            &"a".repeat(65),
        ] {
            assert!(s3_region(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn s3_endpoints() {
        for ok in [
            "https://minio.example.com:9000",
            "http://minio",
            "https://10.0.0.5",
            "https://[fd00::1]:9000",
            "https://s3.us-east-1.amazonaws.com",
        ] {
            assert!(
                s3_endpoint(ok).is_ok(),
                "rejected {ok:?}: {:?}",
                s3_endpoint(ok)
            );
        }
        for bad in [
            "minio.example.com",
            "ftp://minio",
            "https://",
            "https://minio/",
            "https://minio/bucket",
            "https://minio?x=1",
            "https://minio#f",
            "https://user:pw@minio",
            "https://minio:0",
            "https://minio:99999",
            "HTTPS://minio",
            "https://Minio",
            "https://minio:9000 ",
        ] {
            assert!(s3_endpoint(bad).is_err(), "accepted {bad:?}");
        }
        let e = s3_endpoint("https://u:pw0rd@minio")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--s3-secret"), "{e}");
        assert!(!e.contains("pw0rd"), "credentials echoed: {e}");
    }
}

//! Image references (`--image`, `--agent-image`, `kreg push --name`), per the distribution
//! spec's grammar, narrowed to what is safe in YAML and on nodes.

use std::net::Ipv6Addr;

use anyhow::Result;

use super::{names::*, net::*, shown};

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

pub(super) fn image_digest(d: &str) -> std::result::Result<(), String> {
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

pub(super) fn image_tag(t: &str) -> std::result::Result<(), String> {
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

pub(super) fn image_domain(d: &str) -> std::result::Result<(), String> {
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
pub(super) fn path_component(c: &str) -> std::result::Result<(), String> {
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

//! Storage and schedule values: PVC sizes, the S3 bucket, region and endpoint, cron lines.

use std::net::Ipv4Addr;

use anyhow::{bail, Result};

use super::{net::*, shown};

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

//! What trusting the registry means on a node, as text: containerd's `hosts.toml` (with a
//! pull-through cache as a mirror) and the k3s/rke2 `registries.yaml` merge. The node agent
//! ([`crate::node::agent`]) writes them; which file goes where is its business.
//!
//! No I/O: callers read the existing files, hand their text in, and write what comes back.
//! That keeps the merge rules testable against golden files.

use anyhow::{bail, Context, Result};
use serde_yaml_ng::{Mapping, Value};

/// Where the node agent puts the CA for k3s/rke2's registries.yaml (`ca_file`).
pub const K3S_CA_FILE: &str = "/etc/rancher/kreg/ca.crt";

/// Where the node agent puts kreg's CA next to a mirror's hosts.toml (not `ca.crt`: the
/// upstream's directory may hold the user's own files).
pub const MIRROR_CA_FILE: &str = "kreg-ca.crt";

/// Quotes `s` as a TOML basic string. Inputs are validated upstream, but escaping here means
/// a path with a quote or backslash can never break out of the string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The containerd `hosts.toml` for a registry served over TLS at `host_port`, trusting the CA
/// at `ca_path` on the node; containerd resolves a relative `ca_path` (such as `ca.crt`)
/// against the directory holding the hosts.toml.
///
/// `dial` (`IP:port`) is where the node connects: the registry's certificate carries that IP,
/// so the node needs no DNS for the name in image references (`registry.<ip>.nip.io`), which
/// air-gapped nodes and resolvers with rebinding protection cannot resolve. `server`, the
/// name, stays as the fallback containerd tries after the host entries. Without `dial` the
/// host entry is the name itself.
/// Push is included so `docker push`-style clients going through the node (e.g. BuildKit in a
/// pod using the node's containerd) work too.
pub fn containerd_hosts_toml(host_port: &str, dial: Option<&str>, ca_path: &str) -> String {
    let url = format!("https://{host_port}");
    let entry = dial.map_or_else(|| url.clone(), |d| format!("https://{d}"));
    format!(
        "server = {url_q}\n\n[host.{entry_q}]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n  ca = {ca}\n",
        url_q = toml_str(&url),
        entry_q = toml_str(&entry),
        ca = toml_str(ca_path),
    )
}

/// The containerd `hosts.toml` for a registry served over plain HTTP (`--expose localhost`):
/// the same shape without a CA, so containerd speaks HTTP to it instead of attempting TLS.
/// `dial` (the Service's `ClusterIP:port`) comes first: it works under every kube-proxy mode,
/// while the NodePort on 127.0.0.1 (`server`, the fallback) does not under nftables or IPVS.
pub fn containerd_hosts_toml_http(host_port: &str, dial: Option<&str>) -> String {
    let url = format!("http://{host_port}");
    let entry = dial.map_or_else(|| url.clone(), |d| format!("http://{d}"));
    format!(
        "server = {url_q}\n\n[host.{entry_q}]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n",
        url_q = toml_str(&url),
        entry_q = toml_str(&entry),
    )
}

/// The containerd `hosts.toml` that puts a pull-through cache in front of an upstream
/// registry (`--mirror`), written to `<config_path>/<upstream>/hosts.toml`.
///
/// containerd tries the `[host]` entries in order and falls back to `server` when they fail:
/// the cache at `https://<mirror_host_port>` (trusted through kreg's CA at `ca_path`) comes
/// first, the upstream itself last, so a cache that is down costs a failed connection, never
/// a failed pull. Pull and resolve only: pushes go to the upstream.
pub fn containerd_hosts_toml_mirror(
    upstream_url: &str,
    mirror_host_port: &str,
    ca_path: &str,
) -> String {
    let mirror = format!("https://{mirror_host_port}");
    format!(
        "server = {server}\n\n[host.{mirror_q}]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = {ca}\n",
        server = toml_str(upstream_url),
        mirror_q = toml_str(&mirror),
        ca = toml_str(ca_path),
    )
}

/// The directory under a containerd `config_path` root that containerd looks up for the
/// registry `host_port`: the `host[:port]` exactly as it appears in image references
/// (`registry.example.com:5000`, `[fd00::1]:5000`), never `_default`, which would hijack
/// every other registry. A scheme or trailing slash the caller left on is stripped.
pub fn hosts_dir_name(host_port: &str) -> String {
    let s = host_port
        .strip_prefix("https://")
        .or_else(|| host_port.strip_prefix("http://"))
        .unwrap_or(host_port);
    s.trim_end_matches('/').to_string()
}

/// The k3s/rke2 `registries.yaml` with kreg's entry merged in: `configs."HOST_PORT".tls.ca_file`
/// points at `ca_path`, and `mirrors."HOST_PORT".endpoint` lists `https://HOST_PORT`.
///
/// The mirror entry is there because several k3s releases applied `configs` TLS settings
/// only to mirror endpoints (k3s-io/k3s#9839); naming the registry as its own mirror makes the
/// CA apply on every release. A mirror the user already defined for the same host is kept as
/// it is. Every other key and entry is preserved, and so is the comment block at the top of the
/// file; comments further down are not (serde_yaml_ng drops them), which callers should mention
/// when they rewrite a user's file.
///
/// `existing` is the current file, `None` (or empty) when there is none.
pub fn registries_yaml_add(
    existing: Option<&str>,
    host_port: &str,
    ca_path: &str,
) -> Result<String> {
    let mut root = parse_registries(existing.unwrap_or(""))?;

    // Mirrors first, so a new file reads in the order the k3s docs use.
    let mirrors = child_mapping(&mut root, "mirrors")?;
    if !mirrors.contains_key(host_port) {
        mirrors.insert(Value::from(host_port), kreg_mirror(host_port));
    }

    let configs = child_mapping(&mut root, "configs")?;
    let entry = child_mapping(configs, host_port)
        .with_context(|| format!("configs.{host_port:?} in registries.yaml"))?;
    let tls = child_mapping(entry, "tls")
        .with_context(|| format!("configs.{host_port:?} in registries.yaml"))?;
    tls.insert(Value::from("ca_file"), Value::from(ca_path));

    render(existing.unwrap_or(""), root)
}

/// Adds a pull-through cache to a k3s/rke2 `registries.yaml` (as rendered by
/// [`registries_yaml_add`]): `mirrors."UPSTREAM".endpoint` lists the cache, and
/// `configs."MIRROR".tls.ca_file` trusts kreg's CA for it. k3s falls back to the upstream
/// itself after the listed endpoints, as containerd does. A mirror the user already defined for
/// the upstream is kept as it is (theirs wins; kreg only notes it on the node).
pub fn registries_yaml_add_mirror(
    existing: &str,
    upstream: &str,
    mirror_host_port: &str,
    ca_path: &str,
) -> Result<String> {
    let mut root = parse_registries(existing)?;
    let mirrors = child_mapping(&mut root, "mirrors")?;
    if !mirrors.contains_key(upstream) {
        let mut m = Mapping::new();
        m.insert(
            Value::from("endpoint"),
            Value::Sequence(vec![Value::from(format!("https://{mirror_host_port}"))]),
        );
        mirrors.insert(Value::from(upstream), Value::Mapping(m));
    }
    let configs = child_mapping(&mut root, "configs")?;
    let entry = child_mapping(configs, mirror_host_port)?;
    let tls = child_mapping(entry, "tls")?;
    tls.insert(Value::from("ca_file"), Value::from(ca_path));
    render(existing, root)
}

/// Serializes `root`, keeping the comment block at the top of `original` (typically a note
/// saying who manages the file); comments further down cannot survive serde_yaml_ng.
fn render(original: &str, root: Mapping) -> Result<String> {
    let header: String = original
        .lines()
        .take_while(|l| l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let body = serde_yaml_ng::to_string(&Value::Mapping(root))
        .context("could not write registries.yaml")?;
    Ok(header + &body)
}

/// The mirror entry kreg adds: the registry as its own (TLS) endpoint.
fn kreg_mirror(host_port: &str) -> Value {
    let mut m = Mapping::new();
    m.insert(
        Value::from("endpoint"),
        Value::Sequence(vec![Value::from(format!("https://{host_port}"))]),
    );
    Value::Mapping(m)
}

/// Parses registries.yaml into its top-level mapping; an empty or all-comment file is an empty
/// mapping. Anything else that is not a mapping is refused rather than overwritten.
fn parse_registries(text: &str) -> Result<Mapping> {
    let value: Value = serde_yaml_ng::from_str(text)
        .context("registries.yaml is not valid YAML; fix or move it, kreg will not overwrite it")?;
    match value {
        Value::Null => Ok(Mapping::new()),
        Value::Mapping(m) => Ok(m),
        _ => bail!(
            "registries.yaml does not hold a mapping (mirrors:/configs:); fix or move it, kreg \
will not overwrite it"
        ),
    }
}

/// The mapping under `key`, created when absent (or null, as `configs:` with nothing under it
/// parses). Any other type is an error, so a user's odd file is never silently replaced.
fn child_mapping<'a>(parent: &'a mut Mapping, key: &str) -> Result<&'a mut Mapping> {
    let slot = parent
        .entry(Value::from(key))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if slot.is_null() {
        *slot = Value::Mapping(Mapping::new());
    }
    match slot {
        Value::Mapping(m) => Ok(m),
        _ => bail!(
            "registries.yaml: {key:?} is not a mapping; fix it by hand, kreg will not overwrite it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HP: &str = "registry.10.0.0.5.nip.io:443";
    const CA: &str = "/etc/containerd/certs.d/registry.10.0.0.5.nip.io:443/ca.crt";

    #[test]
    fn hosts_toml_tls_golden() {
        assert_eq!(
            containerd_hosts_toml(HP, None, CA),
            include_str!("../../tests/golden/hosts.toml")
        );
    }

    #[test]
    fn hosts_toml_http_golden() {
        assert_eq!(
            containerd_hosts_toml_http("localhost:5000", None),
            include_str!("../../tests/golden/hosts-http.toml")
        );
        assert_eq!(
            containerd_hosts_toml_http("localhost:31000", Some("10.96.0.20:5000")),
            include_str!("../../tests/golden/hosts-http-dial.toml")
        );
    }

    #[test]
    fn hosts_toml_mirror_golden() {
        assert_eq!(
            containerd_hosts_toml_mirror(
                "https://registry-1.docker.io",
                "10.96.0.50",
                "kreg-ca.crt"
            ),
            include_str!("../../tests/golden/hosts-mirror.toml")
        );
        // A plain-HTTP upstream (the test harness's) is the fallback as written.
        let t = containerd_hosts_toml_mirror("http://10.213.0.2:5001", "10.96.0.50", "kreg-ca.crt");
        assert!(
            t.starts_with("server = \"http://10.213.0.2:5001\"\n"),
            "{t}"
        );
    }

    #[test]
    fn registries_mirror_golden() {
        let base = registries_yaml_add(None, HP, "/etc/rancher/kreg/ca.crt").unwrap();
        let y = registries_yaml_add_mirror(
            &base,
            "docker.io",
            "10.96.0.50",
            "/etc/rancher/kreg/ca.crt",
        )
        .unwrap();
        assert_eq!(y, include_str!("../../tests/golden/registries-mirror.yaml"));
        assert_eq!(
            registries_yaml_add_mirror(&y, "docker.io", "10.96.0.50", "/etc/rancher/kreg/ca.crt")
                .unwrap(),
            y,
            "idempotent"
        );
        // The user's own docker.io mirror wins.
        let theirs = "mirrors:\n  docker.io:\n    endpoint:\n    - https://corp.example\n";
        let y = registries_yaml_add_mirror(theirs, "docker.io", "10.96.0.50", "/c").unwrap();
        let v: Value = serde_yaml_ng::from_str(&y).unwrap();
        assert_eq!(
            v["mirrors"]["docker.io"]["endpoint"][0],
            Value::from("https://corp.example")
        );
    }

    #[test]
    fn hosts_toml_escapes_quotes() {
        let t = containerd_hosts_toml("r:1", None, "/a\"b\\c");
        assert!(t.contains(r#"ca = "/a\"b\\c""#), "{t}");
    }

    #[test]
    fn hosts_toml_ipv6() {
        let t = containerd_hosts_toml("[fd00::1]:5000", None, "/x/ca.crt");
        assert!(
            t.starts_with("server = \"https://[fd00::1]:5000\"\n"),
            "{t}"
        );
        assert!(t.contains("[host.\"https://[fd00::1]:5000\"]"), "{t}");
    }

    #[test]
    fn hosts_dir_names() {
        assert_eq!(
            hosts_dir_name("reg.example.com:5000"),
            "reg.example.com:5000"
        );
        assert_eq!(hosts_dir_name("[::1]:5000"), "[::1]:5000");
        assert_eq!(
            hosts_dir_name("https://reg.example.com/"),
            "reg.example.com"
        );
        assert_eq!(hosts_dir_name("10.0.0.5"), "10.0.0.5");
    }

    #[test]
    fn registries_new_file_golden() {
        let y = registries_yaml_add(None, HP, "/etc/rancher/k3s/kreg-ca.crt").unwrap();
        assert_eq!(y, include_str!("../../tests/golden/registries-new.yaml"));
        // An empty or comment-only file counts as no file (its header comment is kept).
        assert_eq!(
            registries_yaml_add(Some(""), HP, "/etc/rancher/k3s/kreg-ca.crt").unwrap(),
            y
        );
        assert_eq!(
            registries_yaml_add(Some("# nothing yet\n"), HP, "/etc/rancher/k3s/kreg-ca.crt")
                .unwrap(),
            format!("# nothing yet\n{y}")
        );
    }

    #[test]
    fn registries_merge_golden() {
        let existing = include_str!("../../tests/golden/registries-existing.yaml");
        let y = registries_yaml_add(Some(existing), HP, "/etc/rancher/k3s/kreg-ca.crt").unwrap();
        assert_eq!(y, include_str!("../../tests/golden/registries-merged.yaml"));
        // Idempotent: merging again changes nothing.
        let again = registries_yaml_add(Some(&y), HP, "/etc/rancher/k3s/kreg-ca.crt").unwrap();
        assert_eq!(again, y);
    }

    #[test]
    fn registries_merge_keeps_users_entry_for_same_host() {
        let existing = format!(
            "mirrors:\n  \"{HP}\":\n    endpoint:\n      - https://mirror.internal\nconfigs:\n  \"{HP}\":\n    auth:\n      username: u\n      password: p\n    tls:\n      insecure_skip_verify: false\n"
        );
        let y = registries_yaml_add(Some(&existing), HP, "/ca.crt").unwrap();
        let v: Value = serde_yaml_ng::from_str(&y).unwrap();
        assert_eq!(v["configs"][HP]["auth"]["username"], Value::from("u"));
        assert_eq!(
            v["configs"][HP]["tls"]["insecure_skip_verify"],
            Value::from(false)
        );
        assert_eq!(v["configs"][HP]["tls"]["ca_file"], Value::from("/ca.crt"));
        assert_eq!(
            v["mirrors"][HP]["endpoint"][0],
            Value::from("https://mirror.internal")
        );
    }

    #[test]
    fn registries_ipv6_key_roundtrips() {
        let hp = "[fd00::1]:5000";
        let y = registries_yaml_add(None, hp, "/c").unwrap();
        let v: Value = serde_yaml_ng::from_str(&y).unwrap();
        assert_eq!(v["configs"][hp]["tls"]["ca_file"], Value::from("/c"), "{y}");
    }

    #[test]
    fn registries_refuses_odd_files() {
        assert!(registries_yaml_add(Some("- a\n- b\n"), HP, "/c").is_err());
        assert!(registries_yaml_add(Some("configs: [1]\n"), HP, "/c").is_err());
        assert!(registries_yaml_add(Some("mirrors: 3\n"), HP, "/c").is_err());
        assert!(registries_yaml_add(Some("configs:\n  a: [\n"), HP, "/c").is_err());
        // `configs:` with nothing under it is a null, and is filled in.
        let y = registries_yaml_add(Some("configs:\n"), HP, "/c").unwrap();
        assert!(y.contains("ca_file: /c"), "{y}");
    }
}

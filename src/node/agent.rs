//! The node agent's loop: install (or remove) kreg's trust on this node, then prove it with a
//! pull through the runtime's CRI, the path the kubelet takes. Runs as `kreg node-agent` in
//! the privileged `kreg-node-trust` DaemonSet.
//!
//! Everything it writes is rendered here from its environment (set by `kreg up` in the Pod
//! spec, which only those who may edit a privileged DaemonSet can change); no ConfigMap is
//! read. Every file it writes is recorded with its SHA-256 in a per-node record, so a later
//! pass removes what an earlier registry address left behind, and `down` takes back exactly
//! what kreg wrote (a file someone changed since is left alone and named).
//!
//! Output: one verdict line per pass on stdout, read by `kreg up/status/down` from the logs:
//! `kreg-node-trust: trusted: …`, `untrusted: <reason> | remedy: <what to do>`, `waiting: …`,
//! `removed: …`; and `/tmp/kreg-done` while the verdict is good (the readiness probe).

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::containerd::{self, RegistryConfig};
use super::cri::Cri;
use super::host::{self, Runtime};
use crate::pki::sha256_hex;
use crate::trust::node::{K3S_CA_FILE, MIRROR_CA_FILE};

const DONE: &str = "/tmp/kreg-done";

/// A pull-through cache the node should use (`--mirror`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MirrorSpec {
    /// The upstream's host as image references name it (`docker.io`).
    pub upstream: String,
    /// The upstream's URL (`https://registry-1.docker.io`).
    pub url: String,
    /// The cache's `host:port` (a ClusterIP).
    pub address: String,
}

/// What the agent is asked to do, from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub node: String,
    /// `host[:port]` the images are tagged with.
    pub registry: String,
    /// Where the node connects (`IP:port`), so it needs no DNS for the registry's name.
    pub dial: Option<String>,
    /// The registry speaks plain HTTP (`--expose localhost`).
    pub http: bool,
    pub remove: bool,
    pub allow_restart: bool,
    pub period: Duration,
    pub ca_pem: String,
    pub mirrors: Vec<MirrorSpec>,
    /// `REGISTRY/kreg/probe@sha256:…`, pulled to prove trust; none: files only.
    pub probe_image: Option<String>,
    pub pull_auth: Option<(String, String)>,
    /// Names the record (several kreg installations may share a node).
    pub install: String,
    /// This node's runtime may not be restarted (a control-plane node), even when allowed.
    pub restart_forbidden: bool,
    pub endpoint: Option<String>,
    /// Restarts take turns through the Lease (the DaemonSet gives the agent API access for it).
    pub lease: bool,
    /// How long a restarted runtime has to answer again before kreg rolls back.
    pub restart_wait: Duration,
    /// Where records live, in the runtime's view of the disk.
    pub state_dir: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A registry name as it may appear in a directory name on the node: a DNS name or a
/// bracketed IPv6 address, lowercase, with an optional port. Nothing else (no `/`, `..`,
/// quotes) can reach a path or a TOML string.
pub fn valid_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p))
            if !h.ends_with(':')
                && (h.starts_with('[') == h.ends_with(']'))
                && !p.contains(']') =>
        {
            (h, Some(p))
        }
        _ => (r, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !v6.is_empty()
            && v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase() || b == b':')
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    };
    port_ok && host_ok
}

impl Config {
    pub fn from_env() -> Result<Config> {
        let registry = env("KREG_REGISTRY").unwrap_or_default();
        if !valid_registry(&registry) {
            bail!("invalid registry name {registry:?}");
        }
        let mirrors: Vec<MirrorSpec> = match env("KREG_MIRRORS") {
            Some(j) => serde_json::from_str(&j).context("KREG_MIRRORS is not kreg's JSON")?,
            None => vec![],
        };
        for m in &mirrors {
            if !valid_registry(&m.upstream) || !valid_registry(&m.address) {
                bail!("invalid pull-through cache {m:?}");
            }
        }
        let dial = env("KREG_DIAL");
        if let Some(d) = &dial {
            d.parse::<std::net::SocketAddr>()
                .with_context(|| format!("KREG_DIAL {d:?} is not IP:port"))?;
        }
        let node = env("NODE_NAME").unwrap_or_else(|| "node".into());
        let skip = env("KREG_RESTART_SKIP").unwrap_or_default();
        Ok(Config {
            restart_forbidden: skip.split(',').any(|n| n == node),
            node,
            registry,
            dial,
            http: env("KREG_SCHEME").as_deref() == Some("http"),
            remove: env("KREG_MODE").as_deref() == Some("remove"),
            allow_restart: env("KREG_ALLOW_RESTART").as_deref() == Some("true"),
            period: Duration::from_secs(
                env("KREG_PERIOD")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(60)
                    .clamp(5, 3600),
            ),
            ca_pem: env("KREG_CA_PEM").unwrap_or_default(),
            mirrors,
            probe_image: env("KREG_PROBE_IMAGE"),
            pull_auth: env("KREG_PULL_USERNAME").zip(env("KREG_PULL_PASSWORD")),
            install: env("KREG_INSTALL")
                .filter(|i| i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                .unwrap_or_else(|| "kreg".into()),
            endpoint: env("KREG_RUNTIME_ENDPOINT"),
            lease: env("KREG_RESTART_LEASE").as_deref() == Some("true"),
            restart_wait: Duration::from_secs(
                env("KREG_RESTART_WAIT")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(60)
                    .clamp(3, 600),
            ),
            state_dir: env("KREG_STATE_DIR").unwrap_or_else(|| "/var/lib/kreg".into()),
        })
    }

    /// The files kreg wants under one `config_path` root, relative to it.
    fn certs_d_files(&self) -> Vec<(String, String)> {
        let mut v = vec![];
        if self.http {
            v.push((
                format!("{}/hosts.toml", self.registry),
                crate::trust::node::containerd_hosts_toml_http(
                    &self.registry,
                    self.dial.as_deref(),
                ),
            ));
        } else {
            v.push((format!("{}/ca.crt", self.registry), self.ca_pem.clone()));
            v.push((
                format!("{}/hosts.toml", self.registry),
                crate::trust::node::containerd_hosts_toml(
                    &self.registry,
                    self.dial.as_deref(),
                    "ca.crt",
                ),
            ));
        }
        for m in &self.mirrors {
            v.push((
                format!("{}/{MIRROR_CA_FILE}", m.upstream),
                self.ca_pem.clone(),
            ));
            v.push((
                format!("{}/hosts.toml", m.upstream),
                crate::trust::node::containerd_hosts_toml_mirror(
                    &m.url,
                    &m.address,
                    MIRROR_CA_FILE,
                ),
            ));
        }
        v
    }
}

/// One pass's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Trusted(String),
    Untrusted { reason: String, remedy: String },
    Waiting(String),
    Removed(String),
}

impl Verdict {
    fn untrusted(reason: impl Into<String>, remedy: impl Into<String>) -> Verdict {
        Verdict::Untrusted {
            reason: reason.into(),
            remedy: remedy.into(),
        }
    }

    pub fn line(&self) -> String {
        match self {
            Verdict::Trusted(s) => format!("kreg-node-trust: trusted: {s}"),
            Verdict::Untrusted { reason, remedy } => {
                format!("kreg-node-trust: untrusted: {reason} | remedy: {remedy}")
            }
            Verdict::Waiting(s) => format!("kreg-node-trust: waiting: {s}"),
            Verdict::Removed(s) => format!("kreg-node-trust: removed: {s}"),
        }
    }

    fn good(&self) -> bool {
        matches!(self, Verdict::Trusted(_) | Verdict::Removed(_))
    }
}

// ---- the per-node record ------------------------------------------------------------------

/// What kreg changed on this node, so it can be taken back exactly.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// Path (as the runtime sees it) -> SHA-256 of what kreg wrote there.
    pub files: BTreeMap<String, String>,
    /// Directories kreg created, removed again when empty.
    pub dirs: Vec<String>,
    /// The config change `--allow-runtime-restart` made.
    pub config: Option<ConfigChange>,
    /// When kreg restarted the runtime (one attempt per node, ever).
    pub restart_attempted: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConfigChange {
    pub file: String,
    /// The original, for `down`; none when kreg created the file (a drop-in).
    pub backup: Option<String>,
    /// SHA-256 of the file as kreg left it: `down` restores only an unchanged file.
    pub sha256: String,
}

/// The node agent at work on one runtime.
struct Node<'a> {
    cfg: &'a Config,
    rt: Runtime,
    rec: Record,
    notes: Vec<String>,
}

impl Node<'_> {
    fn record_path(&self) -> PathBuf {
        self.rt.view(&format!(
            "{}/{}/{}.json",
            self.cfg.state_dir, self.cfg.node, self.cfg.install
        ))
    }

    fn load(cfg: &Config, rt: Runtime) -> Node<'_> {
        let mut n = Node {
            cfg,
            rt,
            rec: Record::default(),
            notes: vec![],
        };
        n.rec = fs::read(n.record_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        n
    }

    fn save(&self) -> Result<()> {
        let p = self.record_path();
        if self.rec == Record::default() {
            let _ = fs::remove_file(&p);
            if let Some(d) = p.parent() {
                let _ = fs::remove_dir(d);
                let _ = d.parent().map(fs::remove_dir);
            }
            return Ok(());
        }
        write_atomic(&p, serde_json::to_string_pretty(&self.rec)?.as_bytes())
    }

    /// Writes `content` to `path` (runtime view) unless it is there already; a file kreg did
    /// not write is never replaced (returns false).
    fn put(&mut self, path: &str, content: &str) -> Result<bool> {
        let real = self.rt.view(path);
        let want = sha256_hex(content.as_bytes());
        match fs::read(&real) {
            Ok(cur) => {
                let cur_sha = sha256_hex(&cur);
                if cur_sha == want {
                    self.rec.files.insert(path.into(), want);
                    return Ok(true);
                }
                if self.rec.files.get(path) != Some(&cur_sha) {
                    self.notes
                        .push(format!("{path} is not kreg's; left as it is"));
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {path}")),
        }
        // Record the directories this creates, top first.
        let mut missing = vec![];
        let mut d = Path::new(path).parent();
        while let Some(dir) = d {
            if dir.as_os_str().is_empty() || self.rt.view(&dir.to_string_lossy()).exists() {
                break;
            }
            missing.push(dir.to_string_lossy().into_owned());
            d = dir.parent();
        }
        for dir in missing.into_iter().rev() {
            fs::create_dir(self.rt.view(&dir)).with_context(|| format!("cannot create {dir}"))?;
            if !self.rec.dirs.contains(&dir) {
                self.rec.dirs.push(dir);
            }
        }
        self.rec.files.insert(path.into(), want);
        write_atomic(&real, content.as_bytes()).with_context(|| format!("cannot write {path}"))?;
        Ok(true)
    }

    /// Removes recorded files that are not in `keep` (all of them for `down`), when they still
    /// hold what kreg wrote; then recorded directories that are empty.
    fn take_back(&mut self, keep: &[String]) {
        let stale: Vec<(String, String)> = self
            .rec
            .files
            .iter()
            .filter(|(p, _)| !keep.contains(p))
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect();
        for (path, sha) in stale {
            let real = self.rt.view(&path);
            match fs::read(&real) {
                Ok(cur) if sha256_hex(&cur) != sha => {
                    self.notes.push(format!(
                        "{path} was changed after kreg wrote it; left in place"
                    ));
                }
                Ok(_) => {
                    let _ = fs::remove_file(&real);
                }
                Err(_) => {}
            }
            self.rec.files.remove(&path);
        }
        let mut dirs = self.rec.dirs.clone();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
        for d in dirs {
            if keep.iter().any(|k| k.starts_with(&format!("{d}/"))) {
                continue;
            }
            if fs::remove_dir(self.rt.view(&d)).is_ok() || !self.rt.view(&d).exists() {
                self.rec.dirs.retain(|x| x != &d);
            }
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("kreg-tmp");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)?;
    Ok(())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn erofs(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error() == Some(libc::EROFS))
    })
}

// ---- one pass -----------------------------------------------------------------------------

/// One install or removal pass; never panics, always a verdict.
pub async fn pass(cfg: &Config) -> Verdict {
    let rt = match host::find_runtime(cfg.endpoint.as_deref()) {
        Ok(rt) => rt,
        Err(e) => {
            return Verdict::untrusted(
                format!("no container runtime found: {e:#}"),
                "kreg needs the node's CRI socket held by a host process (containerd, CRI-O); configure other runtimes by hand",
            )
        }
    };
    let mut cri = Cri::new(&rt.view(&rt.socket));
    let version = match cri.version().await {
        Ok(v) => v,
        Err(e) => {
            return Verdict::untrusted(
                format!(
                    "the runtime on {} does not answer CRI Version: {e:#}",
                    rt.socket
                ),
                "check the container runtime on this node",
            )
        }
    };
    let mut node = Node::load(cfg, rt);
    let verdict = match version.name.as_str() {
        "containerd" => containerd_pass(&mut node, &mut cri, version.major()).await,
        "cri-o" => certs_d_pass(&mut node, &cri, "/etc/containers/certs.d", "CRI-O").await,
        "docker" => certs_d_pass(&mut node, &cri, "/etc/docker/certs.d", "Docker").await,
        other => Verdict::untrusted(
            format!("unknown runtime {other:?} {}", version.version),
            "configure this node's runtime to trust kreg's CA by hand",
        ),
    };
    if let Err(e) = node.save() {
        return Verdict::untrusted(
            format!("cannot write kreg's record on the node: {e:#}"),
            "check that /var/lib is writable on this node",
        );
    }
    match verdict {
        Verdict::Trusted(s) | Verdict::Removed(s) if !node.notes.is_empty() => {
            let s = format!("{s}; note: {}", node.notes.join("; "));
            if cfg.remove {
                Verdict::Removed(s)
            } else {
                Verdict::Trusted(s)
            }
        }
        v => v,
    }
}

/// Pulls the probe image through the CRI: `Ok(what)` or the runtime's own error.
async fn prove(cfg: &Config, cri: &Cri) -> Result<String, String> {
    let Some(image) = &cfg.probe_image else {
        return Ok("files written (no probe image given)".into());
    };
    let t = Instant::now();
    let auth = cfg
        .pull_auth
        .as_ref()
        .map(|(u, p)| (u.as_str(), p.as_str()));
    // A registry pod that was just replaced, or a node whose kube-proxy has not yet caught up
    // with the Service's endpoints, refuses connections for a second or two (seen in CI: one
    // node of two refused right after `up` re-created the registry). kubelet retries such a
    // pull; so does the probe, a few times, before it calls the node untrusted.
    let mut retried = vec![];
    loop {
        match cri.pull(image, auth, Duration::from_secs(30)).await {
            Ok(id) => {
                let _ = cri.remove(image).await;
                let mut how = format!(
                    "pulled {image} through the CRI in {} ms (image {id})",
                    t.elapsed().as_millis()
                );
                if let Some(last) = retried.last() {
                    how.push_str(&format!(
                        " after {} transient failure(s), the last: {last}",
                        retried.len()
                    ));
                }
                return Ok(how);
            }
            Err(e) => {
                let e = format!("{e:#}");
                let Some(pause) = PULL_RETRIES.get(retried.len()).filter(|_| transient(&e)) else {
                    return Err(e);
                };
                retried.push(e);
                tokio::time::sleep(*pause).await;
            }
        }
    }
}

/// Pauses between probe pulls that met a [`transient`] error: about 7 s in all, well inside
/// the time `up` waits for the nodes.
const PULL_RETRIES: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// Is `err` one a pull meets while the registry's Service is between endpoints? A TLS or name
/// error is never transient: retrying it only delays the verdict.
fn transient(err: &str) -> bool {
    !err.contains("x509")
        && !err.contains("no such host")
        && [
            "connection refused",
            "connection reset",
            "i/o timeout",
            "no route to host",
        ]
        .iter()
        .any(|m| err.contains(m))
}

fn not_found(err: &str) -> bool {
    err.contains("not found") && !err.contains("x509")
}

async fn containerd_pass(n: &mut Node<'_>, cri: &mut Cri, major: u32) -> Verdict {
    let cfg = n.cfg;
    let file = n.rt.config_file.clone();
    let dump = match host::containerd_dump(&n.rt, &file) {
        Ok(d) => d,
        Err(e) => {
            return Verdict::untrusted(
                format!("containerd could not print its configuration ({file}): {e:#}"),
                "check containerd's config file on this node",
            )
        }
    };
    let mut reg = match containerd::read(&dump) {
        Ok(r) => r,
        Err(e) => return Verdict::untrusted(format!("{e:#}"), "check containerd's config file"),
    };
    let file_version = fs::read_to_string(n.rt.view(&file))
        .ok()
        .and_then(|t| containerd::read(&t).ok())
        .map(|r| r.version)
        .unwrap_or(reg.version);
    if cfg.remove {
        return containerd_remove(n, &reg);
    }
    if reg.roots.is_empty() {
        if reg.legacy {
            return Verdict::untrusted(
                "containerd uses legacy registry.mirrors/configs, so config_path cannot be added",
                format!(
                    "add {}.configs.\"{}\".tls ca_file pointing at kreg's CA to {file}, copy the CA there, restart containerd",
                    containerd::registry_header(file_version).trim_end_matches(']'),
                    cfg.registry
                ),
            );
        }
        let remedy = containerd::config_path_remedy(file_version, &file);
        match enable(n, cri, &remedy, |t| {
            containerd::set_config_path(t, containerd::DEFAULT_CERTS_D)
        })
        .await
        {
            Ok(()) => {}
            Err(v) => return v,
        }
        reg = match host::containerd_dump(&n.rt, &file).and_then(|d| containerd::read(&d)) {
            Ok(r) if !r.roots.is_empty() => r,
            _ => return Verdict::untrusted("config_path still unset after the restart", remedy),
        };
    }
    let root = reg.roots[0].clone();
    let mut wrote = vec![];
    let mut want = vec![];
    for (rel, content) in cfg.certs_d_files() {
        let path = format!("{root}/{rel}");
        match n.put(&path, &content) {
            Ok(true) => wrote.push(path.clone()),
            Ok(false) => {}
            Err(e) if erofs(&e) => {
                return Verdict::untrusted(
                    format!("{root} is read-only on this node (immutable OS such as Bottlerocket or Talos)"),
                    "add the CA through the OS's own settings (Bottlerocket: settings.pki; Talos: machine config)",
                )
            }
            Err(e) => return Verdict::untrusted(format!("{e:#}"), format!("check that {root} is writable on this node")),
        }
        want.push(path);
    }
    want.extend(k3s_registries(n));
    n.take_back(&want);
    let files = format!("{root}/{}", cfg.registry);
    match prove(cfg, cri).await {
        Ok(how) => Verdict::Trusted(format!(
            "containerd {}: {files} ({}); {how}",
            if major >= 2 { "2.x" } else { "1.x" },
            n.rt.found_by
        )),
        Err(e) if not_found(&e) => Verdict::Waiting(format!("files in {files}; the probe image is not in the registry yet ({e})")),
        Err(e) if containerd::needs_local_image_pull(major, &reg) => {
            let remedy = format!(
                "containerd 2.x ignores hosts.toml with several config_path roots ({}); set use_local_image_pull = true under [plugins.\"io.containerd.cri.v1.images\"] in {file} and restart containerd, or run kreg up --allow-runtime-restart",
                reg.roots.join(":")
            );
            if let Err(v) = enable(n, cri, &remedy, containerd::set_use_local_image_pull).await {
                return match v {
                    Verdict::Untrusted { reason, remedy } => Verdict::untrusted(format!("pull failed: {e}; {reason}"), remedy),
                    v => v,
                };
            }
            match prove(cfg, cri).await {
                Ok(how) => Verdict::Trusted(format!("containerd 2.x: {files}, use_local_image_pull set; {how}")),
                Err(e) => Verdict::untrusted(format!("pull through the CRI failed: {e}"), remedy),
            }
        }
        Err(e) => Verdict::untrusted(
            format!("files in {files} written, but a pull through the CRI failed: {e}"),
            "check the node reaches the registry and resolves its name; kreg status shows the address",
        ),
    }
}

/// Sets a config value with `edit`, validated by containerd's own parser, restarts
/// containerd, and rolls back when it does not come back. `Err` carries the verdict.
async fn enable(
    n: &mut Node<'_>,
    cri: &mut Cri,
    remedy: &str,
    edit: impl Fn(&str) -> Result<String>,
) -> Result<(), Verdict> {
    let cfg = n.cfg;
    let file = n.rt.config_file.clone();
    if !cfg.allow_restart {
        return Err(Verdict::untrusted(
            format!("containerd's CRI registry config_path is unset or ineffective in {file}, so it reads no per-registry trust"),
            remedy,
        ));
    }
    if cfg.restart_forbidden {
        return Err(Verdict::untrusted(
            "this is a control-plane node: kreg does not restart its runtime unless asked (--restart-control-plane)",
            remedy,
        ));
    }
    if let Some(when) = &n.rec.restart_attempted {
        return Err(Verdict::untrusted(
            format!("kreg already changed and restarted containerd here once ({when}); it does not try again"),
            remedy,
        ));
    }
    // One node at a time: a change that stops containerd stops it on one node, not all.
    let lease = if cfg.lease {
        let lease = crate::cluster::lease::RestartLease::in_cluster(&cfg.install, &cfg.node)
            .await
            .map_err(|e| Verdict::untrusted(format!("{e:#}"), remedy))?;
        match lease.try_acquire().await {
            Ok(None) => Some(lease),
            Ok(Some(other)) => {
                return Err(Verdict::Waiting(format!(
                    "{other} is restarting its container runtime; this node waits its turn"
                )))
            }
            Err(e) => return Err(Verdict::untrusted(format!("{e:#}"), remedy)),
        }
    } else {
        None
    };
    let result = change_and_restart(n, cri, remedy, edit).await;
    if let Some(lease) = lease {
        lease.release().await;
    }
    result
}

/// [`enable`]'s work once this node has its turn.
async fn change_and_restart(
    n: &mut Node<'_>,
    cri: &mut Cri,
    remedy: &str,
    edit: impl Fn(&str) -> Result<String>,
) -> Result<(), Verdict> {
    let cfg = n.cfg;
    let file = n.rt.config_file.clone();
    n.rec.restart_attempted = Some(now());
    n.save()
        .map_err(|e| Verdict::untrusted(format!("cannot record the attempt: {e:#}"), remedy))?;
    let fail = |why: String| Verdict::untrusted(why, remedy.to_string());

    let real = n.rt.view(&file);
    let original = fs::read_to_string(&real).unwrap_or_default();
    let new = edit(&original).map_err(|e| fail(format!("cannot edit {file}: {e:#}")))?;
    // The runtime's own parser must accept the new file before it replaces the old one.
    let candidate = format!("{file}.kreg-new");
    write_atomic(&n.rt.view(&candidate), new.as_bytes())
        .map_err(|e| fail(format!("cannot write {candidate}: {e:#}")))?;
    let checked = host::containerd_dump(&n.rt, &candidate);
    let _ = fs::remove_file(n.rt.view(&candidate));
    let checked = checked.map_err(|e| {
        fail(format!(
            "containerd rejects the edited config, so nothing was changed: {e:#}"
        ))
    })?;
    containerd::read(&checked).map_err(|e| fail(format!("{e:#}")))?;

    let backup = format!("{file}.kreg-backup");
    if !n.rt.view(&backup).exists() {
        fs::copy(&real, n.rt.view(&backup))
            .map_err(|e| fail(format!("cannot back up {file}: {e}")))?;
    }
    write_atomic(&real, new.as_bytes()).map_err(|e| fail(format!("cannot write {file}: {e:#}")))?;
    n.rec.config = Some(ConfigChange {
        file: file.clone(),
        backup: Some(backup.clone()),
        sha256: sha256_hex(new.as_bytes()),
    });
    let _ = n.save();
    let how =
        host::restart(&n.rt).map_err(|e| fail(format!("cannot restart containerd: {e:#}")))?;
    emit(&format!(
        "kreg-node-trust: note: changed {file} (backup {backup}); restarted containerd ({how})"
    ));
    if let Some(rt) = wait_back(cfg, n.rt.pid).await {
        *cri = Cri::new(&rt.view(&rt.socket));
        let _ = cri.version().await;
        n.rt = rt;
        return Ok(());
    }
    // Not back: the original file goes back and containerd is started again.
    let _ = write_atomic(&real, original.as_bytes());
    n.rec.config = None;
    let _ = fs::remove_file(n.rt.view(&backup));
    let _ = n.save();
    let again = match host::find_runtime(cfg.endpoint.as_deref()) {
        Ok(rt) => host::restart(&rt).is_ok(),
        Err(_) => false,
    };
    let back = wait_back(cfg, 0).await.is_some();
    Err(fail(format!(
        "containerd did not come back after kreg's change; the original {file} was restored and containerd {}",
        if back || again { "restarted" } else { "is still down: check the containerd service now" }
    )))
}

/// Waits (`restart_wait`) for a runtime (other than `old_pid`) that answers the CRI.
async fn wait_back(cfg: &Config, old_pid: u32) -> Option<Runtime> {
    for _ in 0..cfg.restart_wait.as_secs() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(rt) = host::find_runtime(cfg.endpoint.as_deref()) {
            if rt.pid != old_pid && Cri::new(&rt.view(&rt.socket)).version().await.is_ok() {
                return Some(rt);
            }
        }
    }
    None
}

fn containerd_remove(n: &mut Node<'_>, _reg: &RegistryConfig) -> Verdict {
    n.take_back(&[]);
    let mut said = vec![];
    if let Some(change) = n.rec.config.clone() {
        let real = n.rt.view(&change.file);
        let cur = fs::read(&real).map(|b| sha256_hex(&b)).unwrap_or_default();
        match &change.backup {
            Some(b) if cur == change.sha256 => {
                let bpath = n.rt.view(b);
                let restored = host::containerd_dump(&n.rt, b).is_ok()
                    && fs::read(&bpath)
                        .and_then(|orig| fs::write(&real, orig))
                        .is_ok();
                if restored {
                    let _ = fs::remove_file(&bpath);
                    said.push(format!(
                        "{} restored from before kreg (takes effect at containerd's next restart)",
                        change.file
                    ));
                } else {
                    n.notes
                        .push(format!("could not restore {} from {b}", change.file));
                }
            }
            Some(_) => n.notes.push(format!(
                "{} was changed after kreg's edit; left as it is",
                change.file
            )),
            None => {
                if cur == change.sha256 {
                    let _ = fs::remove_file(&real);
                }
            }
        }
        n.rec.config = None;
    }
    n.rec.restart_attempted = None;
    if n.rec.files.is_empty() {
        n.rec.dirs.clear();
    }
    Verdict::Removed(format!(
        "containerd: kreg's files taken back{}",
        if said.is_empty() {
            String::new()
        } else {
            format!("; {}", said.join("; "))
        }
    ))
}

/// k3s and rke2 rebuild their hosts folder from registries.yaml at every start: an entry
/// there keeps the trust across restarts. Written only where no registries.yaml exists.
fn k3s_registries(n: &mut Node<'_>) -> Vec<String> {
    let mut keep = vec![];
    for distro in ["k3s", "rke2"] {
        let dir = format!("/etc/rancher/{distro}");
        if !n.rt.view(&dir).is_dir() {
            continue;
        }
        let file = format!("{dir}/registries.yaml");
        let ours = n.rec.files.contains_key(&file);
        if n.rt.view(&file).exists() && !ours {
            let text = fs::read_to_string(n.rt.view(&file)).unwrap_or_default();
            if !text.contains(&n.cfg.registry) {
                n.notes.push(format!("{file} exists without an entry for {}; add it so the trust survives a {distro} restart", n.cfg.registry));
            }
            continue;
        }
        let mut text = crate::trust::node::registries_yaml_add(None, &n.cfg.registry, K3S_CA_FILE)
            .unwrap_or_default();
        for m in &n.cfg.mirrors {
            text = crate::trust::node::registries_yaml_add_mirror(
                &text,
                &m.upstream,
                &m.address,
                K3S_CA_FILE,
            )
            .unwrap_or(text);
        }
        if n.put(&file, &text).unwrap_or(false) {
            keep.push(file);
        }
        if n.put(K3S_CA_FILE, &n.cfg.ca_pem.clone()).unwrap_or(false) {
            keep.push(K3S_CA_FILE.to_string());
        }
    }
    keep
}

/// CRI-O and Docker read `<dir>/<host:port>/ca.crt` on every pull; no restart needed.
async fn certs_d_pass(n: &mut Node<'_>, cri: &Cri, dir: &str, name: &str) -> Verdict {
    let path = format!("{dir}/{}/ca.crt", n.cfg.registry);
    if n.cfg.remove {
        n.take_back(&[]);
        return Verdict::Removed(format!("{name}: kreg's files taken back"));
    }
    if let Err(e) = n.put(&path, &n.cfg.ca_pem.clone()) {
        return Verdict::untrusted(
            format!("cannot write {path}: {e:#}"),
            format!("check that {dir} is writable on this node"),
        );
    }
    n.take_back(std::slice::from_ref(&path));
    match prove(n.cfg, cri).await {
        Ok(how) => Verdict::Trusted(format!("{name}: {path}; {how}")),
        Err(e) if not_found(&e) => Verdict::Waiting(format!(
            "{path} written; the probe image is not in the registry yet"
        )),
        Err(e) => Verdict::untrusted(
            format!("{path} written, but a pull through the CRI failed: {e}"),
            "check the node reaches the registry",
        ),
    }
}

/// `kreg node-agent --ready`: the readiness probe (the agent image has no shell).
pub fn ready() -> u8 {
    u8::from(!Path::new(DONE).exists())
}

/// The agent's stdout is its protocol: the pod log `kreg up/status/down` read (no Printer, no
/// reporter: there is no person at the other end).
#[allow(clippy::print_stdout)]
fn emit(line: &str) {
    println!("{line}");
}

/// `kreg node-agent`: passes until stopped (`once`: a single pass, exit 0 only when good).
pub async fn run(once: bool) -> Result<u8> {
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            let v = Verdict::untrusted(
                format!("{e:#}"),
                "run kreg up again; do not edit kreg's DaemonSet",
            );
            emit(&v.line());
            if once {
                return Ok(1);
            }
            // Stay up without a verdict the readiness probe accepts.
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
    };
    loop {
        let started = Instant::now();
        let v = pass(&cfg).await;
        emit(&v.line());
        if v.good() {
            let _ = fs::write(DONE, b"");
        } else {
            let _ = fs::remove_file(DONE);
        }
        if once {
            return Ok(if v.good() { 0 } else { 1 });
        }
        // A bad verdict is re-checked soon (the probe image may just not be pushed yet); a good
        // one every period (files deleted by hand come back). Removal is one pass.
        let every = if cfg.remove && v.good() {
            Duration::from_secs(3600)
        } else if v.good() {
            cfg.period
        } else {
            Duration::from_secs(5)
        };
        // Passes start every period, however long the last one took (a slow pull must not
        // stretch the time until deleted files come back).
        tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_failures_are_retried() {
        // containerd 2.1.9's words when the Service had no ready endpoint on the path.
        let refused = r#"failed to do request: Head "https://10.213.0.2:30401/v2/kreg/probe/manifests/sha256:d7": dial tcp 10.213.0.2:30401: connect: connection refused"#;
        assert!(transient(refused));
        assert!(transient(
            "read tcp 10.0.0.3:4711->10.0.0.2:30401: read: connection reset by peer"
        ));
        assert!(transient("dial tcp 10.0.0.2:30401: i/o timeout"));
        for final_ in [
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
            "dial tcp: lookup registry.10.0.0.2.nip.io: no such host",
            "unexpected status from HEAD request: 401 Unauthorized",
            "not found",
        ] {
            assert!(!transient(final_), "{final_}");
        }
    }

    #[test]
    fn registry_names_that_can_reach_a_path_are_refused() {
        for ok in [
            "registry.10.0.0.1.nip.io:31234",
            "localhost:5000",
            "[fd00::1]:5000",
            "r.example",
        ] {
            assert!(valid_registry(ok), "{ok}");
        }
        for bad in [
            "",
            "../etc",
            "a/b",
            "R.example",
            "[FD00::1]:5000",
            "a..b",
            "-a",
            "a:b:c",
            "x\"y",
            "h:123456",
        ] {
            assert!(!valid_registry(bad), "{bad}");
        }
    }

    #[test]
    fn verdict_lines_are_what_kreg_reads() {
        let v = Verdict::untrusted("r", "m");
        assert_eq!(v.line(), "kreg-node-trust: untrusted: r | remedy: m");
        assert_eq!(
            crate::cluster::last_verdict(&v.line()).as_deref(),
            Some("r | remedy: m")
        );
        assert_eq!(
            crate::cluster::last_verdict(&Verdict::Waiting("w".into()).line()),
            None
        );
    }

    #[test]
    fn files_under_a_root_cover_registry_and_caches() {
        let cfg = Config {
            node: "n".into(),
            registry: "r.example:443".into(),
            dial: None,
            http: false,
            remove: false,
            allow_restart: false,
            period: Duration::from_secs(60),
            ca_pem: "PEM".into(),
            mirrors: vec![MirrorSpec {
                upstream: "docker.io".into(),
                url: "https://registry-1.docker.io".into(),
                address: "10.96.0.9:443".into(),
            }],
            probe_image: None,
            pull_auth: None,
            install: "kreg-system".into(),
            restart_forbidden: false,
            endpoint: None,
            lease: false,
            restart_wait: Duration::from_secs(60),
            state_dir: "/var/lib/kreg".into(),
        };
        let names: Vec<String> = cfg.certs_d_files().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            names,
            [
                "r.example:443/ca.crt",
                "r.example:443/hosts.toml",
                "docker.io/kreg-ca.crt",
                "docker.io/hosts.toml"
            ]
        );
    }
}

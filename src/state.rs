//! What `kreg up` recorded: one typed record, stored in ConfigMap `kreg-state`.
//!
//! [`InstalledState`] is the only shape of that record. [`InstalledState::to_data`] is its one
//! writer and [`InstalledState::from_data`] its one reader; `up` writes it, `status`, `down`,
//! `push`, `port-forward`, `trust-local` and the next `up` read it. The ConfigMap holds the
//! whole record as JSON under [`KEY`]; a few plain keys (`ca.crt`, `registry`, `host`, `port`,
//! `address`, `expose`) are copies for people and scripts (`kubectl ... jsonpath='{.data.ca\.crt}'`)
//! and are never read back, except from an installation made before the record was typed
//! ([`InstalledState::from_data`] migrates it).
//!
//! Two rules live here because they are about the record, not about the cluster:
//!
//! - **Sticky choices** ([`resolve`]): a later `up` without a flag keeps what the last `up` chose
//!   (auth, pull-secret namespaces, storage, caches, gc schedule, exposure, host, DNS suffix,
//!   replicas, the CA: `--ca-secret`, whose switch on an installed registry [`check_ca_switch`]
//!   guards). Changing or dropping one takes an explicit flag and is reported as a [`Change`];
//!   dropping `--auth` is a security downgrade that `up` confirms before applying. A change of
//!   the registry's name ([`rename`]: another exposure, host or DNS suffix) is said in the plan
//!   and confirmed on a terminal.
//! - **Ownership** ([`InstalledState::created`]): the UIDs of the objects `up` created (its
//!   namespace, PVCs, Secrets `kreg-ca` and `kreg-auth`). `down --purge` deletes those by UID
//!   and nothing else of that kind, so a namespace or object kreg found already there is never
//!   deleted or taken over. `down` without `--purge` keeps the record (marked not installed),
//!   so the kept PVC, CA and namespace stay known as kreg's.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::detect::Flavor;
use crate::error::hint;
use crate::plan::{Address, Expose, GcSchedule, IssuerRef, Mirror, Plan, Request, Storage};

/// The ConfigMap key holding the record as JSON.
pub const KEY: &str = "state.json";
/// The record's format; a reader refuses a newer one instead of guessing.
pub const VERSION: u32 = 1;

/// One pull-through cache as `up -o json` reports it and the record keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct MirrorRecord {
    pub upstream: String,
    pub url: String,
    pub name: String,
    /// The ClusterIP nodes pull from (`https://<address>/v2/...`).
    pub address: String,
    /// The Secret with the upstream's login (`--mirror-credentials`), kept by a later `up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// The node whose address names a NodePort registry: kept while that node exists, so the
/// registry's name does not follow whichever node the API lists first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeAddress {
    pub node: String,
    pub ip: String,
}

/// Everything `up` chose and made, as the next `up`, `status` and `down` read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstalledState {
    pub version: u32,
    /// False once `kreg down` removed the registry but kept its data (PVC, CA, namespace).
    pub installed: bool,
    pub flavor: Flavor,
    pub expose: Expose,
    /// `--public`: a LoadBalancer reachable from outside the cloud network.
    #[serde(default)]
    pub public: bool,
    /// `--lb-source-ranges`: who may reach the LoadBalancer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lb_source_ranges: Vec<String>,
    /// `--allow-anonymous-push`: the user accepted a public registry without authentication.
    #[serde(default)]
    pub allow_anonymous_push: bool,
    pub address: String,
    /// The registry's name (`registry.<ip>.nip.io`, an ELB name, or `user_host`).
    pub host: String,
    /// `--host`, when the user gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_address: Option<NodeAddress>,
    pub port: u16,
    /// The registry's NodePort, kept while it is exposed otherwise (see `Plan::node_port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
    pub registry: String,
    pub image: String,
    pub dns_suffix: String,
    pub node_trust: bool,
    /// kreg's entry for the registry's name in the cluster's CoreDNS (`--no-dns-entry`: off).
    /// Records from before it are on: the next `up` adds the entry unless told not to.
    #[serde(default = "yes")]
    pub dns_entry: bool,
    pub allow_runtime_restart: bool,
    pub ca_pem: String,
    /// `--ca-secret`: the CA is the user's, read from this `kubernetes.io/tls` Secret in kreg's
    /// namespace (kreg never writes or deletes it); absent: kreg's own CA in Secret `kreg-ca`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<String>,
    /// During a `--rotate-ca` to the user's CA: its Secret, whose certificate `ca_pem` already
    /// holds beside the one the registry serves under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_next: Option<String>,
    /// `--issuer`: cert-manager's issuer signs the serving certificate (Certificate
    /// `kreg-registry`, Secret `kreg-tls`); `ca_pem` is that issuer's CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerRef>,
    pub auth: bool,
    #[serde(default)]
    pub pull_secret_namespaces: Vec<String>,
    /// `None` only in a record migrated from before the typed state (storage was not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    pub replicas: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc_schedule: Option<GcSchedule>,
    #[serde(default)]
    pub mirrors: Vec<MirrorRecord>,
    /// `Kind/name` -> UID of each object `up` created (see the module docs).
    #[serde(default)]
    pub created: BTreeMap<String, String>,
    /// Read from an installation made before the record was typed (not written back).
    #[serde(skip)]
    pub migrated: bool,
}

impl InstalledState {
    /// The ConfigMap data: the record under [`KEY`] plus the plain copies for people.
    pub fn to_data(&self) -> Result<BTreeMap<String, String>> {
        let json = serde_json::to_string_pretty(self)?;
        let mut data = BTreeMap::from([(KEY.to_string(), json)]);
        if self.installed {
            for (k, v) in [
                ("ca.crt", self.ca_pem.clone()),
                ("registry", self.registry.clone()),
                ("host", self.host.clone()),
                ("port", self.port.to_string()),
                ("address", self.address.clone()),
                ("expose", self.expose.to_string()),
            ] {
                data.insert(k.to_string(), v);
            }
        }
        Ok(data)
    }

    /// Reads the record; migrates one written before the typed state (plain keys only).
    pub fn from_data(data: &BTreeMap<String, String>) -> Result<InstalledState> {
        if let Some(json) = data.get(KEY) {
            let v: serde_json::Value =
                serde_json::from_str(json).context("ConfigMap kreg-state: state.json")?;
            let version = v["version"].as_u64().unwrap_or(0);
            if version > u64::from(VERSION) {
                return Err(hint(
                    format!("kreg-state was written by a newer kreg (record version {version})"),
                    "use that kreg version (or newer) for this installation",
                ));
            }
            return serde_json::from_value(v).context("ConfigMap kreg-state: state.json");
        }
        legacy(data)
    }

    /// The UID `up` recorded for an object it created.
    pub fn created_uid(&self, kind: &str, name: &str) -> Option<&str> {
        self.created
            .get(&format!("{kind}/{name}"))
            .map(String::as_str)
    }

    /// Whether the live object with this UID is one kreg created. A migrated record knows no
    /// UIDs: there objects carrying kreg's label count as kreg's, except namespaces (the old
    /// `up` labelled a namespace it found, so the label proves nothing there).
    pub fn owns(&self, kind: &str, name: &str, uid: Option<&str>, labelled: bool) -> bool {
        match self.created_uid(kind, name) {
            Some(recorded) => uid == Some(recorded),
            None => self.migrated && labelled && kind != "Namespace",
        }
    }
}

/// The plain keys of an installation made before the typed record.
fn legacy(data: &BTreeMap<String, String>) -> Result<InstalledState> {
    let get = |k: &str| data.get(k).cloned().unwrap_or_default();
    let need = |k: &str| {
        data.get(k)
            .cloned()
            .ok_or_else(|| anyhow!("ConfigMap kreg-state has no {k}"))
    };
    let flag = |k: &str| data.get(k).is_some_and(|v| v == "true");
    let list = |k: &str| -> Vec<String> {
        get(k)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let gc = get("gcSchedule");
    Ok(InstalledState {
        version: VERSION,
        installed: true,
        flavor: get("flavor").parse().unwrap_or(Flavor::Generic),
        expose: need("expose")?.parse()?,
        public: false,
        lb_source_ranges: vec![],
        allow_anonymous_push: false,
        address: get("address"),
        host: get("host"),
        user_host: None,
        node_address: None,
        port: get("port").parse().unwrap_or(443),
        node_port: None,
        dns_entry: true,
        registry: need("registry")?,
        image: get("image"),
        dns_suffix: "nip.io".into(),
        node_trust: flag("nodeTrust"),
        allow_runtime_restart: flag("allowRuntimeRestart"),
        ca_pem: get("ca.crt"),
        ca_secret: None,
        ca_secret_next: None,
        issuer: None,
        auth: flag("auth"),
        pull_secret_namespaces: list("pullSecretNamespaces"),
        storage: None,
        replicas: 1,
        // The old record kept the schedule but not the image: `keep` asks for it again.
        gc_schedule: (!gc.is_empty()).then(|| GcSchedule {
            cron: gc,
            image: String::new(),
            prune: None,
        }),
        mirrors: data
            .get("mirrors")
            .filter(|m| !m.is_empty())
            .map(|m| serde_json::from_str(m))
            .transpose()
            .context("ConfigMap kreg-state: mirrors")?
            .unwrap_or_default(),
        created: BTreeMap::new(),
        migrated: true,
    })
}

/// The sticky choices as the command line gave them: `None` where no flag was given, which
/// [`resolve`] resolves once against the last `up`'s record (on a first `up`: the default the
/// [`Request`] arrives with). `Some(false)`, `Some(vec![])` and `Some(None)` are the `--no-…`
/// flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sticky {
    /// `--expose`.
    pub expose: Option<Expose>,
    /// `--public` or `--no-public`.
    pub public: Option<bool>,
    /// `--lb-source-ranges`.
    pub lb_source_ranges: Option<Vec<String>>,
    /// `--host`.
    pub host: Option<String>,
    /// `--dns-suffix`.
    pub dns_suffix: Option<String>,
    /// `--storage`, `--size`, `--storage-class` or an S3 flag.
    pub storage: Option<Storage>,
    /// `--replicas`.
    pub replicas: Option<u32>,
    /// `--auth` or `--no-auth`.
    pub auth: Option<bool>,
    /// `--pull-secret-namespaces` or `--no-pull-secret-namespaces`.
    pub pull_secret_namespaces: Option<Vec<String>>,
    /// `--gc-schedule` (with `--gc-image`) or `--no-gc-schedule`.
    pub gc_schedule: Option<Option<GcSchedule>>,
    /// `--ca-secret` or `--no-ca-secret`.
    pub ca_secret: Option<Option<String>>,
    /// `--issuer` (with `--issuer-kind`) or `--no-issuer`.
    pub issuer: Option<Option<IssuerRef>>,
    /// `--no-mirror UPSTREAM`: the caches to drop.
    pub no_mirrors: Vec<String>,
    /// `--dns-entry` or `--no-dns-entry`.
    pub dns_entry: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Sticky {
    /// A first `up`: what was asked over the defaults the request arrives with.
    fn apply(&self, req: &mut Request) {
        if let Some(e) = self.expose {
            req.expose = Some(e);
        }
        if let Some(v) = self.public {
            req.public = v;
        }
        if let Some(v) = &self.lb_source_ranges {
            req.lb_source_ranges = v.clone();
        }
        if let Some(v) = &self.host {
            req.host = Some(v.clone());
        }
        if let Some(v) = &self.dns_suffix {
            req.dns_suffix = v.clone();
        }
        if let Some(v) = &self.storage {
            req.storage = v.clone();
        }
        if let Some(v) = self.replicas {
            req.replicas = v;
        }
        if let Some(v) = self.auth {
            req.auth = v;
        }
        if let Some(v) = &self.pull_secret_namespaces {
            req.pull_secret_namespaces = v.clone();
        }
        if let Some(v) = &self.gc_schedule {
            req.gc_schedule = v.clone();
        }
        if let Some(v) = &self.ca_secret {
            req.ca_secret = v.clone();
        }
        if let Some(v) = self.dns_entry {
            req.dns_entry = v;
        }
        if let Some(v) = &self.issuer {
            req.issuer = v.clone();
        }
    }
}

/// One choice the new `up` changes against the last one; printed with the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub what: String,
    pub from: String,
    pub to: String,
    /// Dropping protection (`--no-auth`): `up` asks, or needs `--yes`.
    pub downgrade: bool,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} -> {}", self.what, self.from, self.to)
    }
}

/// Resolves the sticky choices once: each is what the flags asked ([`Sticky`]), else what the
/// last `up` recorded, else the default `req` arrives with; and lists what the flags change.
/// Pure: `up` prints the changes and confirms a downgrade.
pub fn resolve(
    req: &mut Request,
    asked: &Sticky,
    prev: Option<&InstalledState>,
) -> Result<Vec<Change>> {
    for u in &asked.no_mirrors {
        if req.mirrors.iter().any(|m| &m.upstream == u) {
            bail!("--mirror {u} and --no-mirror {u} contradict each other");
        }
    }
    let Some(prev) = prev else {
        if let Some(u) = asked.no_mirrors.first() {
            bail!("--no-mirror {u}: kreg is not installed here, so there is no cache to drop");
        }
        asked.apply(req);
        return Ok(vec![]);
    };
    let mut changes = Vec::new();
    let mut change = |what: &str, from: String, to: String, downgrade: bool| {
        if from != to {
            changes.push(Change {
                what: what.into(),
                from,
                to,
                downgrade,
            });
        }
    };
    let on_off = |b: bool| if b { "on" } else { "off" }.to_string();

    // Authentication first: dropping it also drops the pull secrets it fed.
    req.auth = asked.auth.unwrap_or(prev.auth);
    change(
        "authentication",
        on_off(prev.auth),
        on_off(req.auth),
        prev.auth && !req.auth,
    );
    if let Some(namespaces) = &asked.pull_secret_namespaces {
        req.pull_secret_namespaces = namespaces.clone();
        change(
            "pull-secret namespaces",
            list_text(&prev.pull_secret_namespaces),
            list_text(&req.pull_secret_namespaces),
            false,
        );
    } else if req.auth {
        req.pull_secret_namespaces = prev.pull_secret_namespaces.clone();
    } else if !prev.pull_secret_namespaces.is_empty() {
        // --no-auth: without a password there is nothing to hand out.
        req.pull_secret_namespaces.clear();
        change(
            "pull-secret namespaces",
            list_text(&prev.pull_secret_namespaces),
            "none (--no-auth)".into(),
            false,
        );
    }

    let expose = asked.expose.unwrap_or(prev.expose);
    req.expose = Some(expose);
    change(
        "exposure",
        prev.expose.to_string(),
        expose.to_string(),
        false,
    );
    req.public = asked.public.unwrap_or(prev.public);
    change(
        "load balancer",
        public_text(prev.public),
        public_text(req.public),
        false,
    );
    req.lb_source_ranges = asked
        .lb_source_ranges
        .clone()
        .unwrap_or_else(|| prev.lb_source_ranges.clone());
    change(
        "load balancer source ranges",
        list_text(&prev.lb_source_ranges),
        list_text(&req.lb_source_ranges),
        false,
    );
    if !req.allow_anonymous_push {
        req.allow_anonymous_push = prev.allow_anonymous_push;
    }
    match &asked.host {
        Some(host) => {
            req.host = Some(host.clone());
            change(
                "host",
                prev.user_host
                    .clone()
                    .unwrap_or_else(|| "(from the address)".into()),
                host.clone(),
                false,
            );
        }
        None => req.host = prev.user_host.clone(),
    }
    req.dns_suffix = asked
        .dns_suffix
        .clone()
        .unwrap_or_else(|| prev.dns_suffix.clone());
    change(
        "DNS suffix",
        prev.dns_suffix.clone(),
        req.dns_suffix.clone(),
        false,
    );

    if let Some(s) = &asked.storage {
        req.storage = s.clone();
    }
    match (&prev.storage, asked.storage.is_some()) {
        (Some(prev_storage), true) => {
            // The plan fills in the default class; compare what the user can see.
            let same = match (prev_storage, &req.storage) {
                (Storage::Pvc { size: a, class: ca }, Storage::Pvc { size: b, class: cb }) => {
                    a == b && (cb.is_none() || ca == cb)
                }
                (a, b) => a == b,
            };
            if !same {
                change(
                    "storage",
                    storage_text(prev_storage),
                    storage_text(&req.storage),
                    false,
                );
            }
        }
        (Some(prev_storage), false) => req.storage = prev_storage.clone(),
        (None, _) => {}
    }
    req.replicas = asked.replicas.unwrap_or(prev.replicas);
    change(
        "replicas",
        prev.replicas.to_string(),
        req.replicas.to_string(),
        false,
    );

    if let Some(gc) = &asked.gc_schedule {
        req.gc_schedule = gc.clone();
        change(
            "gc schedule",
            gc_text(prev.gc_schedule.as_ref()),
            gc_text(req.gc_schedule.as_ref()),
            false,
        );
    } else if let Some(g) = &prev.gc_schedule {
        if g.image.is_empty() {
            return Err(hint(
                format!(
                    "the last `up` scheduled gc ({:?}) but an older kreg did not record its image",
                    g.cron
                ),
                "pass --gc-schedule and --gc-image again to keep it, or --no-gc-schedule to drop it",
            ));
        }
        req.gc_schedule = Some(g.clone());
    }

    req.dns_entry = asked.dns_entry.unwrap_or(prev.dns_entry);
    change(
        "DNS entry",
        on_off(prev.dns_entry),
        on_off(req.dns_entry),
        false,
    );

    req.ca_secret = asked
        .ca_secret
        .clone()
        .unwrap_or_else(|| prev.ca_secret.clone());
    change(
        "CA",
        ca_text(prev.ca_secret.as_deref()),
        ca_text(req.ca_secret.as_deref()),
        false,
    );
    req.issuer = asked.issuer.clone().unwrap_or_else(|| prev.issuer.clone());
    change(
        "certificate issuer",
        issuer_text(prev.issuer.as_ref()),
        issuer_text(req.issuer.as_ref()),
        false,
    );

    // Caches: the recorded ones stay unless --no-mirror names them; a --mirror for a recorded
    // upstream replaces its URL or login.
    let given = std::mem::take(&mut req.mirrors);
    for u in &asked.no_mirrors {
        if !prev.mirrors.iter().any(|m| &m.upstream == u) {
            return Err(hint(
                format!("--no-mirror {u}: there is no cache for {u}"),
                format!(
                    "caches now: {}",
                    list_text(
                        &prev
                            .mirrors
                            .iter()
                            .map(|m| m.upstream.clone())
                            .collect::<Vec<_>>()
                    )
                ),
            ));
        }
        change(
            &format!("cache {u}"),
            "on".into(),
            "dropped (--no-mirror)".into(),
            false,
        );
    }
    for m in &prev.mirrors {
        if asked.no_mirrors.contains(&m.upstream) {
            continue;
        }
        match given.iter().find(|g| g.upstream == m.upstream) {
            Some(g) => {
                let was = format!("{}{}", m.url, login_text(m.credentials.as_deref()));
                let now = format!("{}{}", g.url, login_text(g.credentials.as_deref()));
                change(&format!("cache {}", m.upstream), was, now, false);
                req.mirrors.push(g.clone());
            }
            None => {
                let kept = Mirror::new(&m.upstream, &m.url, m.credentials.clone());
                if kept.login_in_clear() {
                    // An older kreg accepted this; keeping it would go on sending the
                    // upstream's password unencrypted, and dropping the login silently would
                    // change what the cache can pull. The user decides.
                    return Err(hint(
                        format!(
                            "the cache for {u} that the last `up` recorded has a login (Secret {s}) with the plain-HTTP upstream URL {url}; kreg no longer sends credentials unencrypted",
                            u = m.upstream,
                            s = m.credentials.as_deref().unwrap_or_default(),
                            url = m.url
                        ),
                        format!(
                            "pass --mirror {u}=https://... --mirror-credentials {u}={s} to keep the login over TLS, --mirror {u}={url} to keep the cache without it, or --no-mirror {u}",
                            u = m.upstream,
                            s = m.credentials.as_deref().unwrap_or_default(),
                            url = m.url
                        ),
                    ));
                }
                req.mirrors.push(kept);
            }
        }
    }
    for g in given {
        if !prev.mirrors.iter().any(|m| m.upstream == g.upstream) {
            req.mirrors.push(g);
        }
    }
    Ok(changes)
}

/// A change of the registry's name (host and port), known before anything is applied: every
/// image reference, login and trust setting that names the old one stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub from: String,
    /// `None`: named after an address the cluster gives once the new exposure exists.
    pub to: Option<String>,
}

impl std::fmt::Display for Rename {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.to {
            Some(to) => write!(f, "registry name: {} -> {to}", self.from),
            None => write!(
                f,
                "registry name: {} -> a name from the address the new exposure gets",
                self.from
            ),
        }
    }
}

/// Whether this `up` renames the registry the last one recorded. The name follows from the
/// exposure, the host and the DNS suffix (all sticky, so only a flag changes them); with all
/// three as recorded the registry keeps its name (the NodePort node, the load balancer and the
/// port are kept). Otherwise the new name, where it does not wait on an address still to come.
/// Pure; `up` says it in the plan and, on a terminal, asks.
pub fn rename(prev: &InstalledState, plan: &Plan) -> Option<Rename> {
    if prev.expose == plan.expose
        && prev.user_host == plan.host
        && prev.dns_suffix == plan.dns_suffix
    {
        return None;
    }
    let port = match plan.expose {
        _ if plan.expose == prev.expose => Some(prev.port),
        e if e.is_node_port() => plan.node_port,
        _ => None,
    };
    // The address is known now only when the exposure stays (the kept node or load balancer);
    // a Service of another type gets its address once applied.
    let address = match (&plan.host, plan.expose.is_localhost()) {
        (Some(_), _) | (None, true) => Some(Address::Hostname(String::new())),
        (None, false) if plan.expose == prev.expose => Some(
            prev.address
                .parse::<std::net::IpAddr>()
                .map(Address::Ip)
                .unwrap_or_else(|_| Address::Hostname(prev.address.clone())),
        ),
        (None, false) => None,
    };
    let to = match (plan.expose, address) {
        (Expose::LoadBalancer | Expose::Ingress | Expose::Gateway, Some(a)) => {
            Some(crate::plan::endpoint(plan, &a, None).registry())
        }
        (_, Some(a)) => port.map(|p| crate::plan::endpoint(plan, &a, Some(p)).registry()),
        (_, None) => None,
    };
    (to.as_deref() != Some(prev.registry.as_str())).then(|| Rename {
        from: prev.registry.clone(),
        to,
    })
}

fn ca_text(secret: Option<&str>) -> String {
    match secret {
        Some(s) => format!("your CA (Secret {s})"),
        None => "kreg's own CA".into(),
    }
}

/// Which CA signs is never changed under an installed registry by accident: `up` keeps the
/// last one (see [`resolve`]); an explicit switch to the user's CA (`--ca-secret` on kreg's own
/// CA, or another `--ca-secret`) needs `--rotate-ca`, which gives every node the old and the
/// new CA before the registry switches; going back to kreg's own CA (`--no-ca-secret`) on an
/// installed registry is not built (after `kreg down`, where no node trusts the old CA through
/// kreg, any switch is an ordinary `up`). `--rotate-ca` without a switch rotates only kreg's
/// own CA: the user's is theirs to replace. `in_flight` is the rotation `kreg-ca-next` holds
/// (its target: the user's Secret, or None for a new CA of kreg's own).
///
/// Returns the CA the registry serves under until a switch completes (the user's Secret, or
/// None for kreg's own). Pure; `up` calls it before anything is applied.
pub fn check_ca_switch(
    prev: Option<&InstalledState>,
    req: &Request,
    rotate: bool,
    in_flight: Option<&Option<String>>,
) -> Result<Option<String>> {
    let Some(prev) = prev.filter(|p| p.installed) else {
        return Ok(req.ca_secret.clone());
    };
    let current = prev.ca_secret.clone();
    if current == req.ca_secret {
        if let (true, Some(s)) = (rotate, &current) {
            return Err(hint(
                format!("--rotate-ca replaces kreg's own CA, and this registry signs with yours (Secret {s}); nothing was changed"),
                format!("to move to a new CA of yours, put it in a new Secret and run `kreg up --ca-secret NEW --rotate-ca`; renewing your CA in Secret {s} itself (same key) needs only `kreg up`"),
            ));
        }
        return Ok(current);
    }
    let (from, to) = (
        ca_text(current.as_deref()),
        ca_text(req.ca_secret.as_deref()),
    );
    let Some(target) = &req.ca_secret else {
        return Err(hint(
            format!("the registry serves under {from} and every node trusts only that one; going back to {to} on an installed registry is not supported yet; nothing was changed"),
            format!("run `kreg down` (images, CA and password are kept), then `kreg up --no-ca-secret` (nodes trust the new CA before `up` ends), then `kreg trust-local` on each workstation; or leave the flag out to keep {from}"),
        ));
    };
    match (in_flight, rotate) {
        // The rotation to it is under way: this `up` continues it.
        (Some(Some(t)), _) if t == target => Ok(current),
        (None, true) => Ok(current),
        (Some(_), _) => Err(hint(
            format!("another CA rotation is under way (Secret kreg-ca-next); switching to {to} now would leave nodes without the CA the registry serves under; nothing was changed"),
            "run `kreg up` to finish it first, then switch",
        )),
        (None, false) => Err(hint(
            format!("the registry serves under {from} and every node trusts only that one; switching to {to} needs --rotate-ca; nothing was changed"),
            format!("run `kreg up --ca-secret {target} --rotate-ca`: every node trusts both CAs before the registry switches; then `kreg trust-local` on each workstation"),
        )),
    }
}

fn issuer_text(i: Option<&IssuerRef>) -> String {
    match i {
        Some(i) => format!("cert-manager {i}"),
        None => "kreg".into(),
    }
}

/// `--issuer` changed on an installed registry (on, off, or another issuer): every node trusts
/// only the CA the registry serves under now, so the switch is made after `kreg down` (images,
/// CA and password are kept), where no node depends on the old CA. Pure; `up` calls it before
/// anything is applied.
pub fn check_issuer_switch(prev: Option<&InstalledState>, req: &Request) -> Result<()> {
    let Some(prev) = prev.filter(|p| p.installed) else {
        return Ok(());
    };
    if prev.issuer == req.issuer {
        return Ok(());
    }
    let (from, to) = (
        issuer_text(prev.issuer.as_ref()),
        issuer_text(req.issuer.as_ref()),
    );
    let again = match &req.issuer {
        Some(i) => format!("kreg up --issuer {i}"),
        None => "kreg up --no-issuer".into(),
    };
    Err(hint(
        format!("the registry's certificate is signed by {from} and every node trusts only that CA; switching to {to} on an installed registry is not supported; nothing was changed"),
        format!("run `kreg down` (images, CA and password are kept), then `{again}` (nodes trust the new CA before `up` ends), then `kreg trust-local` on each workstation; or leave the flag out to keep {from}"),
    ))
}

fn list_text(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

fn public_text(public: bool) -> String {
    if public { "public" } else { "internal" }.into()
}

fn login_text(secret: Option<&str>) -> String {
    secret
        .map(|s| format!(" (login from Secret {s})"))
        .unwrap_or_default()
}

fn gc_text(g: Option<&GcSchedule>) -> String {
    g.map(|g| {
        let prune = g
            .prune
            .as_ref()
            .map(|p| format!(", pruning first ({})", p.args().join(" ")))
            .unwrap_or_default();
        format!("{:?} with {}{prune}", g.cron, g.image)
    })
    .unwrap_or_else(|| "none".into())
}

fn storage_text(s: &Storage) -> String {
    match s {
        Storage::Pvc { size, class } => format!(
            "PVC {size} ({})",
            class.as_deref().unwrap_or("default class")
        ),
        Storage::S3 { bucket, region, .. } => format!("S3 bucket {bucket} in {region}"),
        Storage::EmptyDir => "emptyDir".into(),
    }
}

/// A record for the tests of the modules that read one.
#[cfg(test)]
pub fn sample() -> InstalledState {
    InstalledState {
        version: VERSION,
        installed: true,
        flavor: Flavor::Eks,
        expose: Expose::LoadBalancer,
        public: false,
        lb_source_ranges: vec!["10.0.0.0/8".into()],
        allow_anonymous_push: false,
        address: "203.0.113.7".into(),
        host: "registry.203.0.113.7.nip.io".into(),
        user_host: None,
        node_address: None,
        port: 443,
        node_port: None,
        registry: "registry.203.0.113.7.nip.io".into(),
        image: "registry:2".into(),
        dns_suffix: "nip.io".into(),
        node_trust: true,
        dns_entry: true,
        allow_runtime_restart: false,
        ca_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
        ca_secret: None,
        ca_secret_next: None,
        issuer: None,
        auth: true,
        pull_secret_namespaces: vec!["team-a".into(), "team-b".into()],
        storage: Some(Storage::Pvc {
            size: "10Gi".into(),
            class: Some("standard".into()),
        }),
        replicas: 1,
        gc_schedule: Some(GcSchedule {
            cron: "0 3 * * 0".into(),
            image: "mirror.example/kubectl:1.30".into(),
            prune: Some(crate::plan::PrunePolicy {
                keep: Some(3),
                older_than: None,
            }),
        }),
        mirrors: vec![MirrorRecord {
            upstream: "docker.io".into(),
            url: "https://registry-1.docker.io".into(),
            name: "kreg-mirror-docker-io".into(),
            address: "10.96.0.20".into(),
            credentials: Some("hub-login".into()),
        }],
        created: BTreeMap::from([
            ("Namespace/kreg-system".into(), "uid-ns".into()),
            (
                "PersistentVolumeClaim/kreg-registry-data".into(),
                "uid-pvc".into(),
            ),
            ("Secret/kreg-ca".into(), "uid-ca".into()),
        ]),
        migrated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        crate::plan::sample_request()
    }

    #[test]
    fn the_record_round_trips() {
        let s = sample();
        let data = s.to_data().unwrap();
        assert_eq!(InstalledState::from_data(&data).unwrap(), s);
        assert_eq!(data["ca.crt"], s.ca_pem, "kubectl's jsonpath copy");
        assert_eq!(data["registry"], s.registry);
        insta::assert_snapshot!("state_json", data[KEY]);
    }

    #[test]
    fn a_removed_installation_keeps_only_the_record() {
        let mut s = sample();
        s.installed = false;
        let data = s.to_data().unwrap();
        assert_eq!(data.keys().collect::<Vec<_>>(), [KEY]);
        assert!(!InstalledState::from_data(&data).unwrap().installed);
    }

    #[test]
    fn a_newer_record_is_refused_not_guessed() {
        let mut data = sample().to_data().unwrap();
        let newer = data[KEY].replace("\"version\": 1", "\"version\": 9");
        data.insert(KEY.into(), newer);
        let e = InstalledState::from_data(&data).unwrap_err();
        assert!(e.to_string().contains("newer kreg"), "{e}");
    }

    #[test]
    fn an_old_record_is_migrated_and_owns_only_labelled_non_namespaces() {
        let data = BTreeMap::from(
            [
                ("expose", "nodeport"),
                ("registry", "registry.10.0.0.2.nip.io:31000"),
                ("port", "31000"),
                ("auth", "true"),
                ("pullSecretNamespaces", "a,b"),
                ("gcSchedule", "0 3 * * *"),
                ("nodeTrust", "true"),
                ("ca.crt", "PEM"),
                (
                    "mirrors",
                    r#"[{"upstream":"docker.io","url":"https://registry-1.docker.io","name":"kreg-mirror-docker-io","address":"10.96.0.9"}]"#,
                ),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let s = InstalledState::from_data(&data).unwrap();
        assert!(s.migrated && s.auth && s.node_trust && s.installed);
        assert_eq!((s.expose, s.port), (Expose::NodePort, 31000));
        assert_eq!(s.pull_secret_namespaces, ["a", "b"]);
        assert_eq!(s.mirrors[0].upstream, "docker.io");
        assert!(s.owns(
            "PersistentVolumeClaim",
            "kreg-registry-data",
            Some("x"),
            true
        ));
        assert!(!s.owns(
            "PersistentVolumeClaim",
            "kreg-registry-data",
            Some("x"),
            false
        ));
        assert!(!s.owns("Namespace", "team-apps", Some("x"), true));
    }

    #[test]
    fn ownership_is_by_recorded_uid() {
        let s = sample();
        assert!(s.owns("Namespace", "kreg-system", Some("uid-ns"), false));
        assert!(!s.owns("Namespace", "kreg-system", Some("other"), true));
        assert!(!s.owns("Secret", "kreg-auth", Some("uid-x"), true));
    }

    #[test]
    fn a_plain_up_keeps_every_choice() {
        let prev = sample();
        let mut r = request();
        let changes = resolve(&mut r, &Sticky::default(), Some(&prev)).unwrap();
        assert_eq!(changes, vec![]);
        assert!(r.auth);
        assert_eq!(r.pull_secret_namespaces, ["team-a", "team-b"]);
        assert_eq!(r.expose, Some(Expose::LoadBalancer));
        assert_eq!(r.lb_source_ranges, ["10.0.0.0/8"]);
        assert_eq!(r.storage, prev.storage.clone().unwrap());
        assert_eq!(r.gc_schedule, prev.gc_schedule);
        assert_eq!(r.mirrors.len(), 1);
        assert_eq!(r.mirrors[0].credentials.as_deref(), Some("hub-login"));
    }

    #[test]
    fn dropping_auth_is_a_downgrade_and_takes_the_pull_secrets_along() {
        let prev = sample();
        let mut r = request();
        let e = Sticky {
            auth: Some(false),
            ..Default::default()
        };
        let changes = resolve(&mut r, &e, Some(&prev)).unwrap();
        assert!(!r.auth && r.pull_secret_namespaces.is_empty());
        assert!(changes[0].downgrade, "{changes:?}");
        assert_eq!(changes[0].to_string(), "authentication: on -> off");
        assert!(changes.iter().any(|c| c.what == "pull-secret namespaces"));
        assert_eq!(changes.iter().filter(|c| c.downgrade).count(), 1);
    }

    #[test]
    fn caches_are_dropped_only_by_name_and_changes_are_named() {
        let prev = sample();
        let mut r = request();
        r.mirrors = vec![Mirror::new("ghcr.io", "https://ghcr.io", None)];
        let changes = resolve(&mut r, &Sticky::default(), Some(&prev)).unwrap();
        let ups: Vec<_> = r.mirrors.iter().map(|m| m.upstream.as_str()).collect();
        assert_eq!(ups, ["docker.io", "ghcr.io"], "a new --mirror adds one");
        assert!(changes.is_empty());

        let mut r = request();
        let e = Sticky {
            no_mirrors: vec!["docker.io".into()],
            ..Default::default()
        };
        let changes = resolve(&mut r, &e, Some(&prev)).unwrap();
        assert!(r.mirrors.is_empty());
        assert_eq!(
            changes[0].to_string(),
            "cache docker.io: on -> dropped (--no-mirror)"
        );

        let mut r = request();
        let e = Sticky {
            no_mirrors: vec!["quay.io".into()],
            ..Default::default()
        };
        assert!(resolve(&mut r, &e, Some(&prev)).is_err());
    }

    #[test]
    fn explicit_storage_and_replicas_changes_are_named() {
        let prev = sample();
        let mut r = request();
        let e = Sticky {
            storage: Some(Storage::EmptyDir),
            replicas: Some(1),
            gc_schedule: Some(None),
            ..Default::default()
        };
        let changes = resolve(&mut r, &e, Some(&prev)).unwrap();
        let text: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        assert!(
            text.contains(&"storage: PVC 10Gi (standard) -> emptyDir".to_string()),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.starts_with("gc schedule: ")),
            "{text:?}"
        );
        assert!(r.gc_schedule.is_none());

        // --size alone with the same size and no class is no change.
        let mut r = request();
        let e = Sticky {
            storage: Some(r.storage.clone()),
            ..Default::default()
        };
        assert!(resolve(&mut r, &e, Some(&prev)).unwrap().is_empty());
    }

    #[test]
    fn an_old_gc_schedule_without_its_image_is_asked_for_again() {
        let mut prev = sample();
        prev.gc_schedule.as_mut().unwrap().image.clear();
        let e = resolve(&mut request(), &Sticky::default(), Some(&prev)).unwrap_err();
        assert!(crate::error::hint_of(&e)
            .unwrap()
            .contains("--no-gc-schedule"));
    }

    #[test]
    fn a_recorded_login_over_plain_http_is_not_kept() {
        // Written by a kreg that still accepted credentials for an http:// upstream.
        let mut prev = sample();
        prev.mirrors[0].url = "http://10.0.0.9:5000".into();
        let e = resolve(&mut request(), &Sticky::default(), Some(&prev)).unwrap_err();
        assert!(
            e.to_string().contains("cache for docker.io")
                && e.to_string()
                    .contains("plain-HTTP upstream URL http://10.0.0.9:5000"),
            "{e}"
        );
        let h = crate::error::hint_of(&e).unwrap();
        assert!(
            h.contains("--mirror docker.io=https://")
                && h.contains("--mirror docker.io=http://10.0.0.9:5000")
                && h.contains("--no-mirror docker.io"),
            "{h}"
        );
        // `--mirror docker.io=http://...` without the login replaces it, and is kept.
        let mut r = request();
        r.mirrors = vec![Mirror::new("docker.io", "http://10.0.0.9:5000", None)];
        resolve(&mut r, &Sticky::default(), Some(&prev)).unwrap();
        assert_eq!(r.mirrors[0].credentials, None);
        assert!(r.mirrors.iter().all(|m| !m.login_in_clear()));
    }

    #[test]
    fn the_ca_is_kept_and_switched_only_by_a_rotation() {
        let mut own = sample();
        let mut theirs = sample();
        theirs.ca_secret = Some("corp-ca".into());
        let corp = Some("corp-ca".to_string());
        // A plain `up` keeps whichever CA the last one used: never a silent change.
        let mut r = request();
        assert!(resolve(&mut r, &Sticky::default(), Some(&theirs))
            .unwrap()
            .is_empty());
        assert_eq!(r.ca_secret, corp);
        assert_eq!(
            check_ca_switch(Some(&theirs), &r, false, None).unwrap(),
            corp
        );
        let mut r = request();
        resolve(&mut r, &Sticky::default(), Some(&own)).unwrap();
        assert_eq!(r.ca_secret, None);
        assert_eq!(check_ca_switch(Some(&own), &r, false, None).unwrap(), None);
        assert_eq!(check_ca_switch(Some(&own), &r, true, None).unwrap(), None);

        let with = |name: Option<&str>| {
            let e = Sticky {
                ca_secret: Some(name.map(String::from)),
                ..Default::default()
            };
            (request(), e)
        };
        // kreg's own -> the user's: only with --rotate-ca, which starts from the current CA.
        let (mut r, e) = with(Some("corp-ca"));
        let changes = resolve(&mut r, &e, Some(&own)).unwrap();
        assert_eq!(
            changes[0].to_string(),
            "CA: kreg's own CA -> your CA (Secret corp-ca)"
        );
        let err = check_ca_switch(Some(&own), &r, false, None).unwrap_err();
        assert!(err.to_string().contains("needs --rotate-ca"), "{err}");
        let h = crate::error::hint_of(&err).unwrap();
        assert!(h.contains("kreg up --ca-secret corp-ca --rotate-ca"), "{h}");
        assert_eq!(check_ca_switch(Some(&own), &r, true, None).unwrap(), None);
        // Its second pass (and a resumed one) continues the rotation kreg-ca-next holds...
        assert_eq!(
            check_ca_switch(Some(&own), &r, false, Some(&corp)).unwrap(),
            None
        );
        // ...but not another one.
        for other in [None, Some("corp-ca-2".to_string())] {
            let err = check_ca_switch(Some(&own), &r, true, Some(&other)).unwrap_err();
            assert!(err.to_string().contains("another CA rotation"), "{err}");
        }
        // The user's -> another of theirs: the same; back to kreg's own: not built.
        let (mut r, e) = with(Some("corp-ca-2"));
        resolve(&mut r, &e, Some(&theirs)).unwrap();
        assert!(check_ca_switch(Some(&theirs), &r, false, None).is_err());
        assert_eq!(
            check_ca_switch(Some(&theirs), &r, true, None).unwrap(),
            corp
        );
        let (mut r, e) = with(None);
        let changes = resolve(&mut r, &e, Some(&theirs)).unwrap();
        assert_eq!(changes[0].to, "kreg's own CA");
        for rotate in [false, true] {
            let err = check_ca_switch(Some(&theirs), &r, rotate, None).unwrap_err();
            assert!(err.to_string().contains("not supported yet"), "{err}");
            assert!(crate::error::hint_of(&err)
                .unwrap()
                .contains("--no-ca-secret"));
        }
        // --rotate-ca on the user's CA without a new one: theirs to replace.
        let mut r = request();
        r.ca_secret = corp.clone();
        let err = check_ca_switch(Some(&theirs), &r, true, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("--rotate-ca replaces kreg's own CA"),
            "{err}"
        );
        // After `kreg down` nothing trusts the old CA through kreg: the switch is plain.
        own.installed = false;
        let (mut r, e) = with(Some("corp-ca"));
        resolve(&mut r, &e, Some(&own)).unwrap();
        assert_eq!(check_ca_switch(Some(&own), &r, false, None).unwrap(), corp);
        assert_eq!(check_ca_switch(None, &r, false, None).unwrap(), corp);
    }

    #[test]
    fn a_first_up_takes_what_was_asked_over_the_defaults() {
        let mut r = request();
        let e = Sticky {
            expose: Some(Expose::Ingress),
            host: Some("registry.example".into()),
            auth: Some(true),
            replicas: Some(2),
            ..Default::default()
        };
        assert!(resolve(&mut r, &e, None).unwrap().is_empty());
        assert_eq!(r.expose, Some(Expose::Ingress));
        assert_eq!(r.host.as_deref(), Some("registry.example"));
        assert!(r.auth && r.replicas == 2);
        assert_eq!(r.storage, request().storage, "not asked: the default");
    }

    #[test]
    fn a_given_flag_equal_to_the_record_is_no_change_and_a_host_is_kept() {
        let mut prev = sample();
        prev.user_host = Some("registry.example".into());
        let mut r = request();
        let e = Sticky {
            expose: Some(Expose::LoadBalancer),
            auth: Some(true),
            ..Default::default()
        };
        assert!(resolve(&mut r, &e, Some(&prev)).unwrap().is_empty());
        assert_eq!(r.host.as_deref(), Some("registry.example"));
    }

    #[test]
    fn the_name_changes_only_with_the_exposure_host_or_dns_suffix_and_is_said() {
        use crate::plan::sample as plan_of;
        // The record: a NodePort registry on 10.0.0.5:30461.
        let mut prev = sample();
        prev.expose = Expose::NodePort;
        prev.address = "10.0.0.5".into();
        prev.host = "registry.10.0.0.5.nip.io".into();
        prev.port = 30461;
        prev.registry = "registry.10.0.0.5.nip.io:30461".into();
        prev.user_host = None;
        let storage = prev.storage.clone().unwrap();
        let plan = |expose, host: Option<&str>, suffix: &str| {
            let mut p = plan_of(expose, storage.clone());
            p.host = host.map(String::from);
            p.dns_suffix = suffix.into();
            p
        };
        // Same exposure, host and suffix: the same name, nothing said.
        assert_eq!(rename(&prev, &plan(Expose::NodePort, None, "nip.io")), None);
        // Another suffix on the same node and port: known now.
        let r = rename(&prev, &plan(Expose::NodePort, None, "sslip.io")).unwrap();
        assert_eq!(r.to.as_deref(), Some("registry.10.0.0.5.sslip.io:30461"));
        // An Ingress with --host: the host on 443.
        let r = rename(
            &prev,
            &plan(Expose::Ingress, Some("registry.try.test"), "nip.io"),
        );
        assert_eq!(
            r.unwrap().to_string(),
            "registry name: registry.10.0.0.5.nip.io:30461 -> registry.try.test"
        );
        // A load balancer: its address is not known before the Service exists.
        let r = rename(&prev, &plan(Expose::LoadBalancer, None, "nip.io")).unwrap();
        assert_eq!(r.to, None);
        assert!(r.to_string().contains("a name from the address"), "{r}");
        // Back to NodePort from an Ingress: the kept port, the node's address yet to be read.
        let mut away = prev.clone();
        away.expose = Expose::Ingress;
        away.user_host = Some("registry.try.test".into());
        away.registry = "registry.try.test".into();
        let mut back = plan(Expose::NodePort, None, "nip.io");
        back.node_port = Some(30461);
        assert_eq!(rename(&away, &back).unwrap().to, None);
        // A --host that names the registry as it is already named is no rename.
        let mut named = plan(Expose::Ingress, Some("registry.try.test"), "nip.io");
        named.host = Some("registry.try.test".into());
        let mut same = away.clone();
        same.user_host = None;
        assert_eq!(rename(&same, &named), None);
    }

    #[test]
    fn the_dns_suffix_is_kept_like_the_host() {
        let mut prev = sample();
        prev.dns_suffix = "sslip.io".into();
        let mut r = request();
        assert!(resolve(&mut r, &Sticky::default(), Some(&prev))
            .unwrap()
            .is_empty());
        assert_eq!(r.dns_suffix, "sslip.io");
        let e = Sticky {
            dns_suffix: Some("nip.io".into()),
            ..Default::default()
        };
        let changes = resolve(&mut r, &e, Some(&prev)).unwrap();
        assert_eq!(changes[0].to_string(), "DNS suffix: sslip.io -> nip.io");
    }

    #[test]
    fn a_first_up_keeps_nothing() {
        let mut r = request();
        assert!(resolve(&mut r, &Sticky::default(), None)
            .unwrap()
            .is_empty());
        assert!(!r.auth && r.expose.is_none());
        let e = Sticky {
            no_mirrors: vec!["docker.io".into()],
            ..Default::default()
        };
        assert!(resolve(&mut request(), &e, None).is_err());
    }

    #[test]
    fn the_issuer_is_sticky_and_switched_only_after_down() {
        let ca = Some(IssuerRef::parse("ClusterIssuer/corp-ca", None).unwrap());
        let mut prev = sample();
        prev.issuer = ca.clone();
        // Kept without the flag, and no change is said.
        let mut r = request();
        let changes = resolve(&mut r, &Sticky::default(), Some(&prev)).unwrap();
        assert_eq!(r.issuer, ca);
        assert!(!changes.iter().any(|c| c.what == "certificate issuer"));
        check_issuer_switch(Some(&prev), &r).unwrap();
        // --no-issuer on the installed registry: said, and refused before any write.
        let mut r = request();
        let off = Sticky {
            issuer: Some(None),
            ..Default::default()
        };
        let changes = resolve(&mut r, &off, Some(&prev)).unwrap();
        assert!(changes
            .iter()
            .any(|c| c.to_string()
                == "certificate issuer: cert-manager ClusterIssuer/corp-ca -> kreg"));
        let e = check_issuer_switch(Some(&prev), &r).unwrap_err();
        assert!(e.to_string().contains("nothing was changed"), "{e}");
        let h = crate::error::hint_of(&e).unwrap();
        assert!(
            h.contains("kreg down") && h.contains("kreg up --no-issuer"),
            "{h}"
        );
        // After `kreg down` no node trusts the old CA through kreg: any switch is an `up`.
        prev.installed = false;
        check_issuer_switch(Some(&prev), &r).unwrap();
        // On a first `up`, the flag alone.
        let mut r = request();
        let on = Sticky {
            issuer: Some(ca.clone()),
            ..Default::default()
        };
        assert!(resolve(&mut r, &on, None).unwrap().is_empty());
        assert_eq!(r.issuer, ca);
        check_issuer_switch(None, &r).unwrap();
    }
}

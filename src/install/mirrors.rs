//! Pull-through caches (`kreg up --mirror UPSTREAM[=URL]`): the part of `up`, `status` and
//! `down` that concerns them, kept here so the three verbs only call in.
//!
//! Per upstream: a registry Deployment in proxy mode with its own storage, a ClusterIP Service
//! and a serving certificate from kreg's CA naming the ClusterIP; the node-trust DaemonSet
//! writes `<config_path>/<upstream>/hosts.toml` pointing containerd at the cache first, the
//! upstream last. The state ConfigMap records the caches (`mirrors`, JSON) for `status`; `down`
//! finds every cache object by its role label, so caches an earlier `up` made are found too.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde::Serialize;
use tokio::time::Instant;

use crate::cluster::{Applied, Cluster, Object};
use crate::detect::{self, Flavor, PolicyEnforcer};
use crate::error::hint;
use crate::manifests::NodeMirror;
use crate::plan::{names, Endpoint, Mirror, Plan};
use crate::probe;
use crate::validate;

pub use crate::state::MirrorRecord;

/// One cache as `status` sees it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MirrorStatus {
    pub upstream: String,
    pub url: String,
    pub address: String,
    pub healthy: bool,
    pub replicas_ready: i32,
    pub replicas_desired: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// Who can reach the caches: `up -o json` and `status -o json` report it as `mirror_access`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct MirrorAccess {
    /// The NetworkPolicy that admits only the nodes to every cache pod.
    pub network_policy: String,
    /// The source addresses it admits: each node's InternalIPs and known overlay addresses.
    pub allowed_sources: Vec<String>,
    /// The network plugin found that enforces NetworkPolicy, and what showed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforced_by: Option<String>,
    /// No plugin known to enforce NetworkPolicy was found, so kreg cannot vouch for the
    /// policy: any Pod may reach the caches, and pull through one with `--mirror-credentials`
    /// the upstream account's private images.
    pub open_to_pods: bool,
}

impl MirrorAccess {
    pub fn new(sources: &[IpAddr], enforcer: Option<&PolicyEnforcer>) -> MirrorAccess {
        MirrorAccess {
            network_policy: names::MIRROR_POLICY.into(),
            allowed_sources: sources.iter().map(IpAddr::to_string).collect(),
            enforced_by: enforcer.map(|e| format!("{} ({})", e.plugin, e.evidence)),
            open_to_pods: enforcer.is_none(),
        }
    }
}

/// What `up` and `status` say about [`MirrorAccess`]: (warnings, notes). A warning when a
/// cache with credentials may be open to every Pod (said once, naming those caches), and when
/// Cilium is the enforcer (its ipBlocks do not select other nodes by default).
pub fn access_notes(
    access: &MirrorAccess,
    enforcer: Option<&PolicyEnforcer>,
    with_login: &[String],
) -> (Vec<String>, Vec<String>) {
    let (mut warnings, mut notes) = (Vec::new(), Vec::new());
    let policy = &access.network_policy;
    match enforcer {
        None if !with_login.is_empty() => warnings.push(format!(
            "caches with credentials ({}): NetworkPolicy {policy} admits only the nodes, but no network plugin known to enforce NetworkPolicy was found (kreg recognises Calico, Canal, Cilium, Antrea, kube-router, Weave Net, Azure NPM, kube-network-policies and k3s); where it is not enforced, every Pod can pull the upstream account's private images through the cache",
            with_login.join(", ")
        )),
        None => notes.push(format!(
            "NetworkPolicy {policy} admits only the nodes to the caches; enforced only where the network plugin implements NetworkPolicy (none recognised here)"
        )),
        Some(e) => {
            notes.push(format!(
                "NetworkPolicy {policy} admits only the nodes to the caches (enforced by {}: {})",
                e.plugin, e.evidence
            ));
            if e.plugin == "Cilium" {
                warnings.push(format!(
                    "Cilium: an ipBlock selects other nodes only with policy-cidr-match-mode=nodes; without it only the node running a cache pod pulls through it and the other nodes fall back to the upstream (NetworkPolicy {policy})"
                ));
            }
        }
    }
    if access.allowed_sources.is_empty() {
        notes.push(format!(
            "no node address found: NetworkPolicy {policy} admits nothing but each cache pod's own node"
        ));
    }
    (warnings, notes)
}

/// The upstreams whose cache has a login.
fn with_login<'a>(mirrors: impl Iterator<Item = (&'a str, bool)>) -> Vec<String> {
    mirrors
        .filter(|(_, login)| *login)
        .map(|(u, _)| u.to_string())
        .collect()
}

/// `up`: the nodes' addresses and the enforcing plugin, read before anything is applied
/// (also for `--dry-run`), and said once in the plan. `None` without caches.
pub async fn access(
    ctx: &crate::context::Ctx,
    cluster: &Cluster,
    plan: &Plan,
) -> Result<Option<MirrorAccess>> {
    if plan.mirrors.is_empty() {
        return Ok(None);
    }
    let (sources, daemonsets) =
        tokio::join!(cluster.node_sources(), cluster.network_plugin_daemonsets());
    let sources = sources?;
    let enforcer = detect::policy_enforcer(plan.flavor, &daemonsets);
    let access = MirrorAccess::new(&sources, enforcer.as_ref());
    let login = with_login(
        plan.mirrors
            .iter()
            .map(|m| (m.upstream.as_str(), m.credentials.is_some())),
    );
    let (warnings, notes) = access_notes(&access, enforcer.as_ref(), &login);
    for n in notes {
        ctx.reporter.info(&n);
    }
    for w in warnings {
        ctx.reporter.warn(&w);
    }
    Ok(Some(access))
}

/// The policy's sources as `up` applies them.
pub fn sources_of(access: Option<&MirrorAccess>) -> Vec<IpAddr> {
    access
        .map(|a| {
            a.allowed_sources
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `--mirror` and `--mirror-credentials`, validated; credentials for an upstream that has no
/// `--mirror` are refused (a typo would otherwise be silently ignored).
pub fn requested(specs: &[String], credentials: &[String]) -> Result<Vec<Mirror>> {
    let mut creds: Vec<(String, String)> = Vec::new();
    for spec in credentials {
        let (upstream, secret) = validate::mirror_credentials(spec)?;
        if creds.iter().any(|(u, _)| *u == upstream) {
            anyhow::bail!("--mirror-credentials {upstream} is given twice");
        }
        creds.push((upstream, secret));
    }
    let mut mirrors = Vec::new();
    for spec in specs {
        let (upstream, url) = validate::mirror(spec)?;
        let secret = creds
            .iter()
            .find(|(u, _)| *u == upstream)
            .map(|(_, s)| s.clone());
        let m = Mirror::new(&upstream, &url, secret);
        if m.login_in_clear() {
            return Err(clear_login_refused(&m));
        }
        mirrors.push(m);
    }
    if let Some((u, _)) = creds
        .iter()
        .find(|(u, _)| !mirrors.iter().any(|m: &Mirror| &m.upstream == u))
    {
        return Err(hint(
            format!("--mirror-credentials {u}: there is no --mirror {u}"),
            format!("add --mirror {u}, or drop the credentials"),
        ));
    }
    Ok(mirrors)
}

/// `--mirror-credentials` for an upstream reached over plain HTTP: the cache would send the
/// upstream account's password (HTTP basic auth or a token request) unencrypted to whoever is
/// on the path, so it is refused before anything is applied.
fn clear_login_refused(m: &Mirror) -> anyhow::Error {
    hint(
        format!(
            "--mirror-credentials {u}: the upstream URL {url} is plain HTTP, and the cache would send the login from Secret {s} unencrypted",
            u = m.upstream,
            url = m.url,
            s = m.credentials.as_deref().unwrap_or_default()
        ),
        format!(
            "use the upstream's https:// URL (--mirror {u}=https://...), or drop --mirror-credentials {u}",
            u = m.upstream
        ),
    )
}

/// The plan's caches, for `up`'s plan summary.
pub fn describe(ctx: &crate::context::Ctx, plan: &Plan) {
    for m in &plan.mirrors {
        ctx.reporter.info(&format!(
            "pull-through cache: {} from {}{} (Deployment {})",
            m.upstream,
            m.url,
            m.credentials
                .as_deref()
                .map(|s| format!(", login from Secret {s}"))
                .unwrap_or_default(),
            m.name
        ));
    }
    if !plan.mirrors.is_empty() && !plan.node_trust {
        ctx.reporter.warn(
            "--no-node-trust: the caches run, but no node is pointed at them; write <config_path>/<upstream>/hosts.toml yourself",
        );
    }
}

/// Every credentials Secret exists and has `username` and `password`: checked before anything
/// is applied, so a missing Secret never leaves a cache crash-looping.
pub async fn check_credentials(cluster: &Cluster, plan: &Plan) -> Result<()> {
    for m in &plan.mirrors {
        let Some(name) = &m.credentials else { continue };
        let flag = format!("--mirror-credentials {}", m.upstream);
        let keys = [("username", "USER"), ("password", "TOKEN")];
        super::require_secret(cluster, &plan.namespace, &flag, name, &keys).await?;
    }
    Ok(())
}

/// Where nodes reach each cache, once its Service has a ClusterIP: the address for the
/// nodes' hosts.toml and the endpoint its certificate names.
pub async fn locate(cluster: &Cluster, plan: &Plan) -> Result<Vec<(NodeMirror, Endpoint)>> {
    let mut out = Vec::new();
    for m in &plan.mirrors {
        let ip = cluster
            .get::<Service>(&m.name)
            .await?
            .and_then(|s| s.spec?.cluster_ip)
            .filter(|ip| !ip.is_empty() && ip != "None")
            .with_context(|| format!("Service {} has no ClusterIP", m.name))?;
        let endpoint = endpoint(plan, m, &ip)?;
        // Nodes use the IP: their host network resolves no cluster DNS names.
        let address = match endpoint.ips[0] {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        let node = NodeMirror {
            mirror: m.clone(),
            address,
        };
        out.push((node, endpoint));
    }
    Ok(out)
}

/// Where nodes and `status` reach a cache: its ClusterIP on 443, the certificate naming the
/// IP and the Service's DNS name.
fn endpoint(plan: &Plan, m: &Mirror, cluster_ip: &str) -> Result<Endpoint> {
    let ip = cluster_ip.parse().with_context(|| {
        format!(
            "Service {} has a ClusterIP kreg cannot read: {cluster_ip:?}",
            m.name
        )
    })?;
    Ok(Endpoint {
        host: m.service_host(&plan.namespace),
        port: 443,
        ips: vec![ip],
    })
}

/// Deletes the caches of upstreams this `up` no longer lists (Deployment, Service,
/// certificate; the PVC stays until `down --purge`). The nodes drop their hosts.toml for them
/// at the DaemonSet's next pass, because it only keeps the caches it is given.
pub async fn prune(
    cluster: &Cluster,
    plan: &Plan,
    track: &mut dyn FnMut(String, Applied),
) -> Result<()> {
    if plan.mirrors.is_empty() {
        for name in labelled_names::<NetworkPolicy>(cluster).await? {
            if cluster.delete::<NetworkPolicy>(&name).await? {
                track(
                    format!("NetworkPolicy/{name} (removed: no cache left)"),
                    Applied::Updated,
                );
            }
        }
    }
    let keep: Vec<&str> = plan.mirrors.iter().map(|m| m.name.as_str()).collect();
    for name in labelled_names::<Deployment>(cluster).await? {
        if keep.contains(&name.as_str()) {
            continue;
        }
        for (kind, deleted) in [
            ("Deployment", cluster.delete::<Deployment>(&name).await?),
            ("Service", cluster.delete::<Service>(&name).await?),
            (
                "Secret",
                cluster.delete::<Secret>(&format!("{name}-tls")).await?,
            ),
        ] {
            if deleted {
                track(
                    format!("{kind}/{name} (removed: no longer a --mirror)"),
                    Applied::Updated,
                );
            }
        }
    }
    Ok(())
}

/// Names of the objects of kind `K` that carry the cache role label.
async fn labelled_names<K: Object>(cluster: &Cluster) -> Result<Vec<String>> {
    let selector = format!("{}={}", names::MIRROR_LABEL.0, names::MIRROR_LABEL.1);
    let found = cluster.list::<K>(&selector).await?;
    Ok(found.iter().filter_map(|o| o.meta().name.clone()).collect())
}

/// Waits for every cache's rollout.
pub async fn wait(cluster: &Cluster, mirrors: &[NodeMirror], deadline: Instant) -> Result<()> {
    for m in mirrors {
        cluster
            .wait_rollout(
                &m.mirror.name,
                deadline.saturating_duration_since(Instant::now()),
            )
            .await
            .with_context(|| format!("the pull-through cache for {}", m.mirror.upstream))?;
    }
    Ok(())
}

/// What `up` reports and records.
pub fn records(mirrors: &[NodeMirror]) -> Vec<MirrorRecord> {
    mirrors
        .iter()
        .map(|m| MirrorRecord {
            upstream: m.mirror.upstream.clone(),
            url: m.mirror.url.clone(),
            name: m.mirror.name.clone(),
            address: m.address.clone(),
            credentials: m.mirror.credentials.clone(),
        })
        .collect()
}

/// `status`: every cache the last `up` recorded, its pods and a probe of `/v2/` over TLS
/// trusting only kreg's CA, from this machine to the ClusterIP.
pub async fn status(
    cluster: &Cluster,
    records: &[MirrorRecord],
    ca_pem: Option<&str>,
) -> Result<Vec<MirrorStatus>> {
    let mut out = Vec::new();
    for rec in records.iter().cloned() {
        let mut s = MirrorStatus {
            upstream: rec.upstream.clone(),
            url: rec.url.clone(),
            address: rec.address.clone(),
            healthy: false,
            replicas_ready: 0,
            replicas_desired: 0,
            probe: None,
            problems: vec![],
        };
        match cluster.get::<Deployment>(&rec.name).await? {
            None => s.problems.push(format!(
                "Deployment {} is missing (run `kreg up`)",
                rec.name
            )),
            Some(d) => {
                s.replicas_desired = d.spec.replicas.unwrap_or(1);
                s.replicas_ready = d
                    .status
                    .as_ref()
                    .and_then(|s| s.ready_replicas)
                    .unwrap_or(0);
                if s.replicas_ready < s.replicas_desired {
                    s.problems.push(format!(
                        "{} of {} cache pods ready",
                        s.replicas_ready, s.replicas_desired
                    ));
                }
            }
        }
        let ip = rec
            .address
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>();
        if let (Some(ca), Ok(ip)) = (ca_pem, ip) {
            let ep = Endpoint {
                host: ip.to_string(),
                port: 443,
                ips: vec![ip],
            };
            match probe::probe_until(&ep, Some(ip), Some(ca), Duration::from_secs(3)).await {
                Ok(code) => s.probe = Some(format!("GET /v2/ answered {code} over TLS")),
                // A machine outside the cluster network cannot reach a ClusterIP at all (the
                // nodes can): ask the cache through the API server's service proxy instead,
                // which proves it serves, though not with which certificate.
                Err(e) => match via_service_proxy(cluster, &rec.name).await {
                    Some(()) => {
                        s.probe = Some(format!(
                            "GET /v2/ answered through the API server's service proxy \
(this machine cannot reach {}: {e:#})",
                            rec.address
                        ))
                    }
                    None => {
                        s.probe = Some(format!("{e:#}"));
                        s.problems.push(format!("probe failed: {e:#}"));
                    }
                },
            }
        }
        s.healthy = s.problems.is_empty();
        out.push(s);
    }
    Ok(out)
}

/// `status`: the live NetworkPolicy in front of the caches, checked against the nodes there
/// are now. Returns the access (`None` without caches) and adds to `problems` (the policy is
/// missing: every Pod can reach the caches) and `warnings` (nodes the policy does not admit
/// yet, or no enforcing plugin while a cache has credentials).
pub async fn status_access(
    cluster: &Cluster,
    flavor: Flavor,
    records: &[MirrorRecord],
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<Option<MirrorAccess>> {
    if records.is_empty() {
        return Ok(None);
    }
    let (live, nodes, daemonsets) = tokio::join!(
        cluster.get::<NetworkPolicy>(names::MIRROR_POLICY),
        cluster.node_sources(),
        cluster.network_plugin_daemonsets()
    );
    let enforcer = detect::policy_enforcer(flavor, &daemonsets);
    let Some(live) = live? else {
        problems.push(format!(
            "NetworkPolicy {} is missing: every Pod can reach the caches (run `kreg up`)",
            names::MIRROR_POLICY
        ));
        let mut access = MirrorAccess::new(&[], enforcer.as_ref());
        access.open_to_pods = true;
        return Ok(Some(access));
    };
    let admitted = policy_sources(&live);
    let access = MirrorAccess::new(&admitted, enforcer.as_ref());
    let login = with_login(
        records
            .iter()
            .map(|r| (r.upstream.as_str(), r.credentials.is_some())),
    );
    let (w, _) = access_notes(&access, enforcer.as_ref(), &login);
    warnings.extend(w);
    // Only a listing that worked can show a node missing.
    if let Ok(nodes) = nodes {
        let missing: Vec<String> = nodes
            .iter()
            .filter(|ip| !admitted.contains(ip))
            .map(IpAddr::to_string)
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "NetworkPolicy {} does not admit {} (nodes added since the last `kreg up`): those nodes pull from the upstream directly until `kreg up` runs again",
                names::MIRROR_POLICY,
                missing.join(", ")
            ));
        }
    }
    Ok(Some(access))
}

/// The single addresses a NetworkPolicy admits (`/32` and `/128` ipBlocks).
fn policy_sources(np: &NetworkPolicy) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = np
        .spec
        .iter()
        .flat_map(|s| s.ingress.iter().flatten())
        .flat_map(|rule| rule.from.iter().flatten())
        .filter_map(|peer| peer.ip_block.as_ref())
        .filter_map(|b| b.cidr.split_once('/').and_then(|(ip, _)| ip.parse().ok()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `GET /v2/` of the cache through the API server (`services/https:<name>:https/proxy`);
/// `Some` when it answered as a registry does (200, or 401 with an auth challenge).
async fn via_service_proxy(cluster: &Cluster, name: &str) -> Option<()> {
    match tokio::time::timeout(
        Duration::from_secs(5),
        cluster.service_proxy_get(name, "https", "https", "/v2/"),
    )
    .await
    {
        Ok(Ok(_)) => Some(()),
        _ => None,
    }
}

/// `down`: deletes every cache object kreg made (found by label), the PVCs only with `purge`.
/// Returns (removed, kept) as `Kind/name`.
pub async fn remove(cluster: &Cluster, purge: bool) -> Result<(Vec<String>, Vec<String>)> {
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for name in labelled_names::<Deployment>(cluster).await? {
        if cluster.delete::<Deployment>(&name).await? {
            removed.push(format!("Deployment/{name}"));
        }
    }
    for name in labelled_names::<Service>(cluster).await? {
        if cluster.delete::<Service>(&name).await? {
            removed.push(format!("Service/{name}"));
        }
        // The certificate Secret is named after the Service (see `Mirror::tls_secret`).
        let tls = format!("{name}-tls");
        if cluster.delete::<Secret>(&tls).await? {
            removed.push(format!("Secret/{tls}"));
        }
    }
    for name in labelled_names::<NetworkPolicy>(cluster).await? {
        if cluster.delete::<NetworkPolicy>(&name).await? {
            removed.push(format!("NetworkPolicy/{name}"));
        }
    }
    for name in labelled_names::<PersistentVolumeClaim>(cluster).await? {
        if !purge {
            kept.push(format!("PersistentVolumeClaim/{name} (a mirror's cache)"));
        } else if cluster.delete::<PersistentVolumeClaim>(&name).await? {
            removed.push(format!("PersistentVolumeClaim/{name}"));
        }
    }
    Ok((removed, kept))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::manifests;

    fn parse(args: &[&str]) -> Result<Vec<Mirror>> {
        let cli = Cli::try_parse_from([&["kreg", "up"], args].concat()).unwrap();
        let Command::Up(a) = cli.command else {
            unreachable!()
        };
        requested(&a.install.mirrors, &a.install.mirror_credentials)
    }

    #[test]
    fn credentials_attach_to_their_upstream() {
        let m = parse(&[
            "--mirror",
            "docker.io",
            "--mirror",
            "ghcr.io=https://ghcr.example",
            "--mirror-credentials",
            "docker.io=hub",
        ])
        .unwrap();
        assert_eq!(m[0].credentials.as_deref(), Some("hub"));
        assert_eq!(m[0].url, "https://registry-1.docker.io");
        assert_eq!(
            (m[1].credentials.as_deref(), m[1].url.as_str()),
            (None, "https://ghcr.example")
        );
        assert!(parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn stray_or_repeated_credentials_are_refused() {
        let e = parse(&["--mirror", "docker.io", "--mirror-credentials", "quay.io=q"]).unwrap_err();
        assert!(
            e.to_string().contains("there is no --mirror quay.io"),
            "{e}"
        );
        let e = parse(&[
            "--mirror",
            "docker.io",
            "--mirror-credentials",
            "docker.io=a",
            "--mirror-credentials",
            "docker.io=b",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
    }

    #[test]
    fn a_login_that_may_be_open_to_pods_is_warned_about_once() {
        let ips: Vec<IpAddr> = vec!["10.0.0.11".parse().unwrap()];
        let login = vec!["docker.io".to_string()];
        let open = MirrorAccess::new(&ips, None);
        assert!(open.open_to_pods && open.enforced_by.is_none());
        let (w, _) = access_notes(&open, None, &login);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("docker.io") && w[0].contains("every Pod can pull"),
            "{w:?}"
        );
        // Without a login: said, not warned.
        let (w, n) = access_notes(&open, None, &[]);
        assert!(
            w.is_empty() && n[0].contains("enforced only where"),
            "{n:?}"
        );

        let calico = PolicyEnforcer {
            plugin: "Calico",
            evidence: "DaemonSet calico-node".into(),
        };
        let shut = MirrorAccess::new(&ips, Some(&calico));
        assert!(!shut.open_to_pods);
        assert_eq!(
            shut.enforced_by.as_deref(),
            Some("Calico (DaemonSet calico-node)")
        );
        assert!(access_notes(&shut, Some(&calico), &login).0.is_empty());
        let cilium = PolicyEnforcer {
            plugin: "Cilium",
            evidence: "DaemonSet cilium".into(),
        };
        let (w, _) = access_notes(&shut, Some(&cilium), &login);
        assert!(w[0].contains("policy-cidr-match-mode=nodes"), "{w:?}");
        assert_eq!(
            policy_sources(&manifests::mirror_network_policy("ns", &ips)),
            ips
        );
    }

    #[test]
    fn credentials_need_an_https_upstream() {
        let e = parse(&[
            "--mirror",
            "registry.corp:5000=http://10.0.0.9:5000",
            "--mirror-credentials",
            "registry.corp:5000=corp-login",
        ])
        .unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains("--mirror-credentials registry.corp:5000")
                && text.contains("http://10.0.0.9:5000 is plain HTTP"),
            "{text}"
        );
        let hint = crate::error::hint_of(&e).unwrap_or_default();
        assert!(
            hint.contains("https://") && hint.contains("drop --mirror-credentials"),
            "{hint}"
        );
        // The same cache without a login, or with an https:// URL, is fine.
        parse(&["--mirror", "registry.corp:5000=http://10.0.0.9:5000"]).unwrap();
        let m = parse(&[
            "--mirror",
            "registry.corp:5000=https://10.0.0.9:5000",
            "--mirror-credentials",
            "registry.corp:5000=corp-login",
        ])
        .unwrap();
        assert_eq!(m[0].credentials.as_deref(), Some("corp-login"));
    }
}

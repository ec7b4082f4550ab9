//! Pull-through caches (`kreg up --mirror UPSTREAM[=URL]`): the part of `up`, `status` and
//! `down` that concerns them, kept here so the three verbs only call in.
//!
//! Per upstream: a registry Deployment in proxy mode with its own storage, a ClusterIP Service
//! and a serving certificate from kreg's CA naming the ClusterIP; the node-trust DaemonSet
//! writes `<config_path>/<upstream>/hosts.toml` pointing containerd at the cache first, the
//! upstream last. The state ConfigMap records the caches (`mirrors`, JSON) for `status`; `down`
//! finds every cache object by its role label, so caches an earlier `up` made are found too.

use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret, Service};
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use serde::Serialize;
use tokio::time::Instant;

use crate::cli::UpArgs;
use crate::cluster::{Applied, Cluster};
use crate::error::hint;
use crate::manifests::{self, NodeMirror};
use crate::pki::{self, KeyPairPem};
use crate::plan::{names, Endpoint, Mirror, Plan};
use crate::probe;
use crate::validate;

pub use crate::state::MirrorRecord;

/// One cache as `status` sees it.
#[derive(Debug, Clone, Serialize)]
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

/// `--mirror` and `--mirror-credentials`, validated; credentials for an upstream that has no
/// `--mirror` are refused (a typo would otherwise be silently ignored).
pub fn requested(a: &UpArgs) -> Result<Vec<Mirror>> {
    let mut creds: Vec<(String, String)> = Vec::new();
    for spec in &a.mirror_credentials {
        let (upstream, secret) = validate::mirror_credentials(spec)?;
        if creds.iter().any(|(u, _)| *u == upstream) {
            anyhow::bail!("--mirror-credentials {upstream} is given twice");
        }
        creds.push((upstream, secret));
    }
    let mut mirrors = Vec::new();
    for spec in &a.mirrors {
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
pub fn describe(ctx: &super::Ctx, plan: &Plan) {
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

/// The caches' objects for `up --dry-run` (certificates are issued during `up`).
pub fn dry_run_objects(plan: &Plan, pending: &str) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for m in &plan.mirrors {
        if let Some(p) = manifests::mirror_pvc(plan, m) {
            out.push(serde_json::to_value(p)?);
        }
        out.push(serde_json::to_value(manifests::mirror_service(plan, m))?);
        out.push(serde_json::to_value(manifests::placeholder_secret(
            &plan.namespace,
            &m.tls_secret(),
            "kubernetes.io/tls",
            &["tls.crt", "tls.key", "ca.crt"],
        ))?);
        out.push(serde_json::to_value(manifests::mirror_deployment(
            plan, m, pending,
        ))?);
    }
    Ok(out)
}

/// Every credentials Secret exists and has `username` and `password`: checked before anything
/// is applied, so a missing Secret never leaves a cache crash-looping.
pub async fn check_credentials(cluster: &Cluster, plan: &Plan) -> Result<()> {
    let secrets: Api<Secret> = cluster.ns_api();
    for m in &plan.mirrors {
        let Some(name) = &m.credentials else { continue };
        let create = format!(
            "create it first (after `kubectl create namespace {ns}` if the namespace is new): kubectl -n {ns} create secret generic {name} --from-literal=username=USER --from-literal=password=TOKEN",
            ns = plan.namespace
        );
        let Some(s) = cluster.get(&secrets, name).await? else {
            return Err(hint(
                format!(
                    "--mirror-credentials {}: Secret {name} does not exist in namespace {}",
                    m.upstream, plan.namespace
                ),
                create,
            ));
        };
        for key in ["username", "password"] {
            if manifests::secret_text(&s, key).is_none_or(|v| v.is_empty()) {
                return Err(hint(
                    format!(
                        "--mirror-credentials {}: Secret {name} has no {key}",
                        m.upstream
                    ),
                    create,
                ));
            }
        }
    }
    Ok(())
}

/// Applies every cache of the plan (PVC, Service, certificate, Deployment) and returns where
/// nodes reach each. `track` records what changed, as `up` does for its own objects.
pub async fn apply(
    cluster: &Cluster,
    plan: &Plan,
    ca: &KeyPairPem,
    track: &mut dyn FnMut(String, Applied),
) -> Result<Vec<NodeMirror>> {
    let svcs: Api<Service> = cluster.ns_api();
    let secrets: Api<Secret> = cluster.ns_api();
    let mut out = Vec::new();
    for m in &plan.mirrors {
        if let Some(pvc) = manifests::mirror_pvc(plan, m) {
            track(
                format!("PersistentVolumeClaim/{}", m.name),
                cluster
                    .apply(&cluster.ns_api::<PersistentVolumeClaim>(), &pvc)
                    .await?,
            );
        }
        track(
            format!("Service/{}", m.name),
            cluster
                .apply(&svcs, &manifests::mirror_service(plan, m))
                .await?,
        );
        let ip = cluster
            .get(&svcs, &m.name)
            .await?
            .and_then(|s| s.spec?.cluster_ip)
            .filter(|ip| !ip.is_empty() && ip != "None")
            .with_context(|| format!("Service {} has no ClusterIP", m.name))?;
        let endpoint = endpoint(plan, m, &ip)?;
        let (leaf, changed) =
            super::up::ensure_leaf(cluster, &secrets, plan, ca, &endpoint, &m.tls_secret()).await?;
        if changed {
            track(format!("Secret/{}", m.tls_secret()), Applied::Updated);
        }
        track(
            format!("Deployment/{}", m.name),
            cluster
                .apply(
                    &cluster.ns_api::<Deployment>(),
                    &manifests::mirror_deployment(plan, m, &pki::cert_sha256(&leaf.cert_pem)?),
                )
                .await?,
        );
        // Nodes use the IP: their host network resolves no cluster DNS names.
        let address = match endpoint.ips[0] {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        out.push(NodeMirror {
            mirror: m.clone(),
            address,
        });
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
    let keep: Vec<&str> = plan.mirrors.iter().map(|m| m.name.as_str()).collect();
    for name in labelled_names::<Deployment>(cluster).await? {
        if keep.contains(&name.as_str()) {
            continue;
        }
        for (kind, deleted) in [
            (
                "Deployment",
                cluster
                    .delete(&cluster.ns_api::<Deployment>(), &name)
                    .await?,
            ),
            (
                "Service",
                cluster.delete(&cluster.ns_api::<Service>(), &name).await?,
            ),
            (
                "Secret",
                cluster
                    .delete(&cluster.ns_api::<Secret>(), &format!("{name}-tls"))
                    .await?,
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
async fn labelled_names<K>(cluster: &Cluster) -> Result<Vec<String>>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let lp = ListParams::default().labels(&format!(
        "{}={}",
        names::MIRROR_LABEL.0,
        names::MIRROR_LABEL.1
    ));
    let list =
        cluster.ns_api::<K>().list(&lp).await.map_err(|e| {
            crate::cluster::api_error(e, &format!("listing kreg's {}s", K::kind(&())))
        })?;
    Ok(list.items.iter().map(|o| o.name_any()).collect())
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
    let deploys: Api<Deployment> = cluster.ns_api();
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
        match cluster.get(&deploys, &rec.name).await? {
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
            match probe::probe_until(&ep, Some(ip), ca, Duration::from_secs(3)).await {
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

/// `GET /v2/` of the cache through the API server (`services/https:<name>:https/proxy`);
/// `Some` when it answered as a registry does (200, or 401 with an auth challenge).
async fn via_service_proxy(cluster: &Cluster, name: &str) -> Option<()> {
    let path = format!(
        "/api/v1/namespaces/{}/services/https:{name}:https/proxy/v2/",
        cluster.namespace
    );
    let req = http::Request::get(path).body(Vec::new()).ok()?;
    let client = cluster.client();
    match tokio::time::timeout(Duration::from_secs(5), client.request_text(req)).await {
        Ok(Ok(_)) => Some(()),
        _ => None,
    }
}

/// `down`: deletes every cache object kreg made (found by label), the PVCs only with `purge`.
/// Returns (removed, kept) as `Kind/name`.
pub async fn remove(cluster: &Cluster, purge: bool) -> Result<(Vec<String>, Vec<String>)> {
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for name in labelled_names::<Deployment>(cluster).await? {
        if cluster
            .delete(&cluster.ns_api::<Deployment>(), &name)
            .await?
        {
            removed.push(format!("Deployment/{name}"));
        }
    }
    for name in labelled_names::<Service>(cluster).await? {
        if cluster.delete(&cluster.ns_api::<Service>(), &name).await? {
            removed.push(format!("Service/{name}"));
        }
        // The certificate Secret is named after the Service (see `Mirror::tls_secret`).
        let tls = format!("{name}-tls");
        if cluster.delete(&cluster.ns_api::<Secret>(), &tls).await? {
            removed.push(format!("Secret/{tls}"));
        }
    }
    for name in labelled_names::<PersistentVolumeClaim>(cluster).await? {
        if !purge {
            kept.push(format!("PersistentVolumeClaim/{name} (a mirror's cache)"));
        } else if cluster
            .delete(&cluster.ns_api::<PersistentVolumeClaim>(), &name)
            .await?
        {
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

    fn parse(args: &[&str]) -> Result<Vec<Mirror>> {
        let cli = Cli::try_parse_from([&["kreg", "up"], args].concat()).unwrap();
        let Command::Up(a) = cli.command else {
            unreachable!()
        };
        requested(&a)
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

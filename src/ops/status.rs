//! `kreg status`'s work: reads, never writes; the report says whether the registry is healthy
//! and why not (`health::problems` decides which observation is a problem).

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret, Service};
use serde::Serialize;

use crate::cluster::{Cluster, NodeVerdict};
use crate::context::Ctx;
use crate::health;
use crate::install::auth::{self, AuthReport};
use crate::pki;
use crate::plan::{names, Address, Endpoint, Expose};
use crate::probe;

/// `kreg status -o json`.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct StatusReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub installed: bool,
    pub healthy: bool,
    pub namespace: String,
    /// Why it is not healthy, one line each.
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// `up --ca-secret`: the Secret holding the user's CA (absent: kreg's own CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<String>,
    /// `up --issuer`: the cert-manager issuer that signs the serving certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_not_after: Option<String>,
    pub cert_matches_address: bool,
    pub replicas_ready: i32,
    pub replicas_desired: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Bytes the registry's volume uses (kubelet stats; absent when not readable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_used_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_trusted: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_total: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untrusted_nodes: Vec<NodeVerdict>,
    /// `--auth`: the user, the Secret, the login command; the password only with
    /// `--show-password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pull_secret_namespaces: Vec<String>,
    /// Pushes are refused: a `kreg gc` is running or was interrupted.
    pub read_only: bool,
    /// `--gc-schedule`: when the garbage-collection CronJob runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_schedule: Option<String>,
    /// Pull-through caches (`up --mirror`); an unhealthy one makes the whole status unhealthy.
    pub mirrors: Vec<crate::install::mirrors::MirrorStatus>,
    /// Who can reach the caches (absent without caches); `open_to_pods` when no plugin known
    /// to enforce the NetworkPolicy was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror_access: Option<crate::install::mirrors::MirrorAccess>,
    /// No password is needed: whoever reaches the registry can push, overwrite and delete.
    pub anonymous_access: bool,
    /// kreg's entry for the registry's name in the cluster's CoreDNS (`up --no-dns-entry`:
    /// none), as the Corefile holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_entry: Option<crate::install::dns::DnsEntryStatus>,
    /// Said, but not a health problem (anonymous access is a choice).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What `kreg status` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Put the registry's password into the report (`--show-password`).
    pub show_password: bool,
}

/// Reads the installation in the settings' namespace and says how it is.
pub(crate) async fn status(ctx: &Ctx, opts: &Options) -> Result<StatusReport> {
    let cluster = Cluster::connect(&ctx.settings.target, &ctx.settings.namespace).await?;
    collect(&cluster, opts.show_password).await
}

async fn collect(cluster: &Cluster, show_password: bool) -> Result<StatusReport> {
    let mut r = StatusReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        namespace: cluster.namespace.clone(),
        ..Default::default()
    };
    let Some(state) = cluster.read_state().await?.filter(|s| s.installed) else {
        r.problems.push(format!(
            "kreg is not installed in namespace {} (run `kreg up`)",
            cluster.namespace
        ));
        return Ok(r);
    };
    r.installed = true;
    r.flavor = Some(state.flavor.to_string());
    r.expose = Some(state.expose.to_string());
    r.address = Some(state.address.clone());
    r.host = Some(state.host.clone());
    r.registry = Some(state.registry.clone());
    r.ca_pem = Some(state.ca_pem.clone()).filter(|p| !p.is_empty());
    r.gc_schedule = state.gc_schedule.as_ref().map(|g| g.cron.clone());
    r.ca_sha256 = r.ca_pem.as_deref().and_then(|p| pki::cert_sha256(p).ok());
    r.ca_secret = state.ca_secret.clone();
    r.issuer = state.issuer.as_ref().map(ToString::to_string);
    r.anonymous_access = !state.auth;
    if !state.auth {
        r.warnings.push(crate::plan::anonymous_warning(
            &crate::plan::anonymous_reach(
                state.expose,
                state.flavor,
                state.public,
                &state.lb_source_ranges,
            ),
        ));
    }
    let dns = crate::install::dns::read(cluster, &cluster.namespace).await;
    if let Some(w) = crate::install::dns::status_warning(&state, &dns) {
        r.warnings.push(w);
    }
    r.dns_entry = Some(dns);
    let port = state.port;
    let expose = Some(state.expose);

    let (deploy, svc, tls, pvc, trust, used) = tokio::try_join!(
        cluster.get::<Deployment>(names::REGISTRY),
        cluster.get::<Service>(names::REGISTRY),
        cluster.get::<Secret>(names::TLS_SECRET),
        cluster.get::<PersistentVolumeClaim>(names::DATA_PVC),
        cluster.node_trust_report(),
        async { Ok(cluster.registry_storage_used().await) },
    )?;
    r.storage_used_bytes = used;
    let used_text = match used {
        Some(b) => format!(", {:.1} MiB used", b as f64 / (1024.0 * 1024.0)),
        None => ", usage not readable".to_string(),
    };

    // What is observed goes into `seen`; which of it is a problem is `health::problems`.
    let mut seen = health::Observed {
        registry: None,
        read_only: None,
        service: svc.is_some(),
        address_recorded: r.address.clone(),
        address_now: None,
        certificate: health::Certificate::PlainHttp,
        volume_phase: None,
        credentials: health::Credentials::Off,
        node_trust: None,
        probe: None,
        storage: None,
    };
    let mut pull = None;
    if let Some(d) = &deploy {
        r.read_only = crate::gc::is_readonly(d);
        if r.read_only {
            let turn = cluster
                .gc_lease_turn()
                .await
                .unwrap_or(crate::gc::Turn::Free);
            seen.read_only = Some(crate::gc::readonly_reason(&turn));
        }
        r.replicas_desired = d.spec.replicas.unwrap_or(1);
        r.replicas_ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        // Never more than the pods that are ready right now (see `Cluster::ready_pods`).
        if let Ok(now) = cluster.ready_pods(names::REGISTRY).await {
            r.replicas_ready = r.replicas_ready.min(now);
        }
        seen.registry = Some(health::Replicas {
            desired: r.replicas_desired,
            ready: r.replicas_ready,
        });
    }

    // The address the cluster gives now, to compare with what the certificate names.
    let current = match (expose, &svc) {
        (_, None) => None,
        (Some(Expose::LoadBalancer), Some(s)) => crate::cluster::lb_address(Some(s)),
        (_, Some(_)) => r.address.as_deref().map(|a| {
            a.parse::<IpAddr>()
                .map(Address::Ip)
                .unwrap_or(Address::Hostname(a.to_string()))
        }),
    };
    seen.address_now = current.as_ref().map(|a| a.to_string());
    let ips: Vec<IpAddr> = match &current {
        Some(Address::Ip(ip)) => vec![*ip],
        _ => vec![],
    };
    let host = r.host.clone().unwrap_or_default();
    let endpoint = Endpoint {
        host: host.clone(),
        port,
        ips: ips.clone(),
    };

    // `--expose localhost` is plain HTTP by design: no certificate to check.
    if expose.is_some_and(|e| !e.serves_tls()) {
        r.cert_matches_address = true;
    } else {
        seen.certificate = match tls
            .as_ref()
            .and_then(|s| crate::manifests::secret_text(s, "tls.crt"))
        {
            None => health::Certificate::Missing,
            Some(pem) => match pki::inspect(&pem) {
                Ok(info) => {
                    r.cert_not_after = info
                        .not_after
                        .format(&time::format_description::well_known::Rfc3339)
                        .ok();
                    let now = time::OffsetDateTime::now_utc();
                    // Only a registry reached at its IP needs it in the certificate; the
                    // IP kept for a localhost name, an Ingress or a Gateway is where the
                    // probe connects (the first `up` of an Ingress learns its controller's IP
                    // after minting).
                    let named = match expose.is_none_or(|e| e.cert_names_address_ip()) {
                        true => &ips[..],
                        false => &[][..],
                    };
                    r.cert_matches_address =
                        pki::leaf_covers(&pem, &host, named, now, time::Duration::ZERO);
                    health::Certificate::Read {
                        covers: r.cert_matches_address,
                    }
                }
                Err(e) => health::Certificate::Unreadable(e.to_string()),
            },
        };
    }

    r.storage = Some(match &pvc {
        Some(p) => {
            let phase = p
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into());
            let cap = p
                .status
                .as_ref()
                .and_then(|s| s.capacity.as_ref()?.get("storage").map(|q| q.0.clone()));
            seen.volume_phase = Some(phase.clone());
            format!(
                "PVC {} {phase}{}{used_text}",
                names::DATA_PVC,
                cap.map(|c| format!(", {c}")).unwrap_or_default()
            )
        }
        None => format!("no PVC (emptyDir or S3){used_text}"),
    });

    if state.auth {
        seen.credentials = match auth::read(cluster).await {
            Ok(Some(users)) => {
                pull = Some(users.pull.clone());
                r.auth = Some(AuthReport::new(
                    &cluster.namespace,
                    r.registry.as_deref().unwrap_or_default(),
                    &users,
                    show_password,
                ));
                health::Credentials::Usable
            }
            Ok(None) => health::Credentials::MissingOrDamaged,
            Err(e) => health::Credentials::Unreadable(format!("{e:#}")),
        };
        r.pull_secret_namespaces = state.pull_secret_namespaces.clone();
    }

    if state.node_trust {
        r.nodes_trusted = Some(trust.trusted);
        r.nodes_total = Some(trust.total);
        r.untrusted_nodes = trust.untrusted.clone();
        seen.node_trust = Some(health::NodeTrust {
            trusted: trust.trusted,
            total: trust.total,
            untrusted: trust.untrusted_names(10),
        });
    }

    if let (Some(ca), true) = (&r.ca_pem, r.replicas_ready > 0) {
        let ip = ips.first().copied().or_else(|| endpoint.host.parse().ok());
        let ca = expose.is_none_or(|e| e.serves_tls()).then_some(ca.as_str());
        seen.probe = Some(
            match probe::probe_until(&endpoint, ip, ca, Duration::from_secs(3)).await {
                Ok(code) => {
                    r.probe = Some(format!("GET /v2/ answered {code} over TLS"));
                    if state.node_trust {
                        seen.storage = read_probe_layer(&endpoint, ip, ca, pull.as_ref()).await;
                    }
                    Ok(())
                }
                Err(e) => {
                    r.probe = Some(format!("{e:#}"));
                    Err(format!("{e:#}"))
                }
            },
        );
    }
    r.problems.extend(health::problems(&seen));
    collect_mirrors(cluster, &mut r, &state.mirrors).await?;
    r.mirror_access = crate::install::mirrors::status_access(
        cluster,
        state.flavor,
        &state.mirrors,
        &mut r.problems,
        &mut r.warnings,
    )
    .await?;
    r.healthy = r.problems.is_empty();
    Ok(r)
}

/// `/v2/` answers without the storage; the probe image's layer (pushed by `up`, pulled by
/// every node agent) is read from it. `None` when it was never pushed.
async fn read_probe_layer(
    endpoint: &crate::plan::Endpoint,
    ip: Option<std::net::IpAddr>,
    ca: Option<&str>,
    pull: Option<&crate::auth::Credentials>,
) -> Option<std::result::Result<(), String>> {
    let probe = crate::node::probe::build();
    let layer = &probe.blobs.first()?.0;
    match probe::read_blob(endpoint, ip, ca, pull, crate::node::probe::REPO, layer).await {
        Ok(true) => Some(Ok(())),
        Ok(false) => None,
        Err(e) => Some(Err(format!("{e:#}"))),
    }
}

/// The pull-through caches the last `up` recorded; each unhealthy one is a problem.
async fn collect_mirrors(
    cluster: &Cluster,
    r: &mut StatusReport,
    recorded: &[crate::install::mirrors::MirrorRecord],
) -> Result<()> {
    r.mirrors = crate::install::mirrors::status(cluster, recorded, r.ca_pem.as_deref()).await?;
    for m in &r.mirrors {
        for p in &m.problems {
            r.problems.push(format!("mirror {}: {p}", m.upstream));
        }
    }
    Ok(())
}

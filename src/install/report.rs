//! What `up` says and writes down: the plan summary on stderr, the `-o json` report, the
//! `--dry-run` document (the rendered list) and the state record.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anyhow::Result;
use serde::Serialize;
use tokio::time::Instant;

use super::auth::AuthReport;
use super::{Converge, Keys, Located, Prepared};
use crate::cluster::Cluster;
use crate::context::Ctx;
use crate::detect::Flavor;
use crate::plan::{self, names, Address, Endpoint, Expose, Plan, Storage, SCHEMA_VERSION};
use crate::render::{Desired, How, Material};
use crate::state::{self, Change, InstalledState, NodeAddress, Rename};

/// `kreg up -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UpReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub flavor: Flavor,
    pub expose: Expose,
    pub namespace: String,
    pub address: String,
    pub host: String,
    pub registry: String,
    pub ca_sha256: String,
    pub ca_pem: String,
    /// `--ca-secret`: the Secret holding the user's CA, which signed the serving certificate
    /// (absent: kreg's own CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<String>,
    /// `--issuer`: the cert-manager issuer that signed the serving certificate
    /// (`ClusterIssuer/NAME` or `Issuer/NAME`); `ca_pem` is its CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub healthy: bool,
    /// Objects created or updated by this run (empty on an idempotent re-run).
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_trusted: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_total: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untrusted_nodes: Vec<crate::cluster::NodeVerdict>,
    /// `--auth`: who logs in and how (never the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthReport>,
    /// Namespaces whose default ServiceAccount pulls with kreg's credentials.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pull_secret_namespaces: Vec<String>,
    /// No password is needed: whoever reaches the registry can push, overwrite and delete.
    pub anonymous_access: bool,
    /// KEP-1755 discovery: `published`, or why `kube-public/local-registry-hosting` was not.
    pub discovery: String,
    /// kreg's entry for the registry's name in the cluster's CoreDNS: `NAME -> IP in
    /// ConfigMap kube-system/coredns`, `none`, or why it was not added.
    pub dns_entry: String,
    /// Pull-through caches (`--mirror`) and the address nodes pull through.
    pub mirrors: Vec<crate::install::mirrors::MirrorRecord>,
    /// Who can reach the caches (absent without caches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror_access: Option<crate::install::mirrors::MirrorAccess>,
    /// API requests this run sent (a watch counts once).
    pub api_requests: usize,
    /// Where the time went: kreg's own work versus waiting on the cluster.
    pub timings_ms: Timings,
}

/// Milliseconds per phase of `up`. `work_ms` is the total minus the waits.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Timings {
    pub total_ms: u128,
    pub work_ms: u128,
    pub wait_address_ms: u128,
    pub wait_rollout_ms: u128,
    pub probe_ms: u128,
    pub wait_node_trust_ms: u128,
    /// Serving kreg's own image to the nodes (`install::bootstrap`); 0 without it.
    pub bootstrap_ms: u128,
}

impl UpReport {
    pub(super) fn set_cost(&mut self, started: Instant, mut t: Timings) {
        t.total_ms = started.elapsed().as_millis();
        let waits = t.wait_address_ms
            + t.wait_rollout_ms
            + t.probe_ms
            + t.wait_node_trust_ms
            + t.bootstrap_ms;
        t.work_ms = t.total_ms.saturating_sub(waits);
        self.timings_ms = t;
        self.api_requests = crate::cluster::requests_made();
    }
}

/// `kreg up --dry-run -o json`: every object `up` would converge, in its order, with
/// placeholders for what it would learn or mint (never a key).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DryRun {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub flavor: Flavor,
    pub expose: Expose,
    pub namespace: String,
    pub objects: Vec<serde_json::Value>,
}

impl DryRun {
    pub fn new(plan: &Plan, desired: &[Desired]) -> Result<DryRun> {
        Ok(DryRun {
            schema_version: SCHEMA_VERSION,
            flavor: plan.flavor,
            expose: plan.expose,
            namespace: plan.namespace.clone(),
            objects: desired
                .iter()
                .map(|d| serde_json::to_value(&d.object))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// What a dry run cannot show as an object: the edits of other namespaces' ServiceAccounts.
pub(super) fn dry_run_notes(desired: &[Desired]) -> Vec<String> {
    desired
        .iter()
        .filter(|d| d.how == How::PullSecret)
        .map(|d| {
            format!(
                "would add {} to the imagePullSecrets of ServiceAccount default in namespace {}",
                names::PULL_SECRET,
                d.object.namespace().unwrap_or_default()
            )
        })
        .collect()
}

/// The report of an install, before the waits fill in health and node trust.
pub(super) fn installed(
    p: &Prepared,
    run: &Converge,
    at: &Located,
    keys: &Keys,
    m: &Material,
    discovery: String,
) -> Result<UpReport> {
    let plan = &p.plan;
    let registry = at.endpoint.registry();
    Ok(UpReport {
        schema_version: SCHEMA_VERSION,
        flavor: plan.flavor,
        expose: plan.expose,
        namespace: plan.namespace.clone(),
        address: at.address.to_string(),
        host: at.endpoint.host.clone(),
        registry: registry.clone(),
        ca_sha256: crate::pki::cert_sha256(&keys.cas.signing.cert_pem)?,
        ca_pem: keys.cas.trust_pem.clone(),
        ca_secret: keys.cas.source.clone(),
        issuer: plan.issuer.as_ref().map(ToString::to_string),
        healthy: false,
        changed: run.changed.clone(),
        nodes_trusted: None,
        nodes_total: None,
        untrusted_nodes: vec![],
        auth: keys
            .users
            .as_ref()
            .map(|u| AuthReport::new(&plan.namespace, &registry, u, false)),
        pull_secret_namespaces: plan.pull_secret_namespaces.clone(),
        anonymous_access: !plan.auth,
        discovery,
        dns_entry: String::new(),
        mirrors: super::mirrors::records(&m.mirrors),
        mirror_access: p.mirror_access.clone(),
        api_requests: 0,
        timings_ms: Timings::default(),
    })
}

/// The state record of this `up`: its choices (kept by the next one), where the registry is,
/// the CA clients trust, and the UIDs of what it created.
pub(super) fn record(
    plan: &Plan,
    at: &Located,
    keys: &Keys,
    m: &Material,
    created: BTreeMap<String, String>,
) -> InstalledState {
    InstalledState {
        version: state::VERSION,
        installed: true,
        flavor: plan.flavor,
        expose: plan.expose,
        public: plan.public,
        lb_source_ranges: plan.lb_source_ranges.clone(),
        allow_anonymous_push: plan.allow_anonymous_push,
        address: at.address.to_string(),
        host: at.endpoint.host.clone(),
        user_host: plan.host.clone(),
        node_address: match (&at.node, &at.address) {
            (Some(node), Address::Ip(ip)) => Some(NodeAddress {
                node: node.clone(),
                ip: ip.to_string(),
            }),
            _ => None,
        },
        port: at.endpoint.port,
        // Pinned ports stay pinned (a re-run must render the same Service); a registry
        // exposed otherwise remembers the port it had.
        node_port: if plan.expose.is_node_port() {
            plan.node_port
        } else {
            plan.node_port_kept
        },
        registry: at.endpoint.registry(),
        image: plan.image.clone(),
        dns_suffix: plan.dns_suffix.clone(),
        node_trust: plan.node_trust,
        dns_entry: plan.dns_entry,
        allow_runtime_restart: plan.allow_runtime_restart,
        ca_pem: keys.cas.trust_pem.clone(),
        ca_secret: keys.cas.source.clone(),
        ca_secret_next: keys.cas.next_source.clone(),
        issuer: plan.issuer.clone(),
        auth: plan.auth,
        pull_secret_namespaces: plan.pull_secret_namespaces.clone(),
        storage: Some(plan.storage.clone()),
        replicas: plan.replicas,
        gc_schedule: plan.gc_schedule.clone(),
        mirrors: super::mirrors::records(&m.mirrors),
        created,
        migrated: false,
    }
}

pub(super) fn describe_plan(ctx: &Ctx, plan: &Plan, changes: &[Change], rename: Option<&Rename>) {
    let r = &ctx.reporter;
    for c in changes {
        if c.downgrade {
            r.warn(&format!("change: {c} (a security downgrade)"));
        } else {
            r.info(&format!("change: {c}"));
        }
    }
    if let Some(rn) = rename {
        r.warn(&format!(
            "change: {rn} (image references and logins that name {} stop working)",
            rn.from
        ));
    }
    r.info(&format!(
        "exposure: {} ({})",
        plan.expose, plan.expose_reason
    ));
    r.info(&format!("namespace: {}", plan.namespace));
    r.info(&format!(
        "storage: {}",
        match &plan.storage {
            Storage::Pvc { size, class } => format!(
                "PVC {size} of StorageClass {}",
                class.as_deref().unwrap_or("(default)")
            ),
            Storage::S3 { bucket, region, .. } => format!("S3 bucket {bucket} in {region}"),
            Storage::EmptyDir => "emptyDir (images lost when the pod moves)".into(),
        }
    ));
    if plan.internal_lb() {
        r.info("load balancer: internal to the cloud network (--public for a public one)");
    }
    if !plan.lb_source_ranges.is_empty() {
        r.info(&format!(
            "load balancer: only from {}",
            plan.lb_source_ranges.join(", ")
        ));
    }
    if let Some(i) = plan
        .ingress
        .as_ref()
        .filter(|i| i.controller == crate::detect::IngressController::Traefik)
    {
        if i.servers_transport {
            r.info("ingress: Traefik verifies the registry through ServersTransport kreg-registry (the CAs nodes trust, the host as server name)");
        } else {
            r.warn("ingress: this cluster serves no Traefik ServersTransport (traefik.io/v1alpha1), so kreg cannot give Traefik its CA: Traefik checks the registry's certificate against its system roots and every request fails, unless Traefik's static configuration sets serversTransport.insecureSkipVerify (the hop inside the cluster is then unverified). Install Traefik's CRDs (providers.kubernetesCRD) and run `kreg up` again");
        }
    }
    if let Some(reach) = plan.anonymous_reach() {
        r.warn(&plan::anonymous_warning(&reach));
    }
    if plan.node_trust {
        r.info("node trust: a privileged DaemonSet writes <config_path>/<registry>/hosts.toml and ca.crt for containerd (or the CRI-O/Docker certs.d file) on every node");
        if plan.allow_runtime_restart {
            r.info("node trust: may set containerd's config_path and restart containerd where it is unset");
        }
    }
}

/// Pushes the probe image (a few KiB) the node agents pull, directly or through a
/// port-forward when this machine cannot reach the registry's address.
#[allow(clippy::too_many_arguments)]
pub(super) async fn push_probe(
    ctx: &Ctx,
    cluster: &Cluster,
    plan: &Plan,
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
    ca_pem: &str,
    creds: Option<crate::auth::Credentials>,
    probe: &crate::node::probe::ProbeImage,
) -> Result<()> {
    let target = crate::registry::Target {
        host: endpoint.host.clone(),
        port: endpoint.port,
        plain_http: plan.expose == Expose::Localhost,
        connect: connect_ip.map(|ip| std::net::SocketAddr::new(ip, endpoint.port)),
    };
    let (client, _forward) = crate::reach::reach(
        ctx,
        cluster,
        target,
        creds,
        ca_pem,
        &endpoint.registry(),
        false,
    )
    .await?;
    crate::node::probe::push(&client, probe).await?;
    let repo = crate::node::probe::REPO;
    ctx.reporter
        .done(&format!("probe image {repo}@{} pushed", probe.digest()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `-o json` contract of `up`: field names and shapes scripts read.
    #[test]
    fn up_json_contract() {
        let users = super::super::auth::Users {
            push: crate::auth::Credentials {
                username: "kreg".into(),
                password: "not-printed".into(),
            },
            pull: crate::auth::Credentials {
                username: "kreg-pull".into(),
                password: "not-printed-either".into(),
            },
            sha256: String::new(),
        };
        let report = UpReport {
            schema_version: SCHEMA_VERSION,
            flavor: Flavor::Kind,
            expose: Expose::NodePort,
            namespace: "kreg-system".into(),
            address: "10.0.0.2".into(),
            host: "registry.10.0.0.2.nip.io".into(),
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            ca_sha256: "ab".repeat(32),
            ca_pem: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".into(),
            ca_secret: None,
            issuer: None,
            healthy: true,
            changed: vec![
                "Namespace/kreg-system".into(),
                "Deployment/kreg-registry".into(),
            ],
            nodes_trusted: Some(1),
            nodes_total: Some(2),
            untrusted_nodes: vec![crate::cluster::NodeVerdict {
                node: "node-b".into(),
                reason: "config_path is not set".into(),
            }],
            auth: Some(AuthReport::new(
                "kreg-system",
                "registry.10.0.0.2.nip.io:31000",
                &users,
                false,
            )),
            pull_secret_namespaces: vec!["team-a".into()],
            anonymous_access: false,
            discovery: "published".into(),
            dns_entry:
                "registry.203.0.113.7.nip.io -> 203.0.113.7 in ConfigMap kube-system/coredns".into(),
            mirrors: vec![super::super::mirrors::MirrorRecord {
                upstream: "docker.io".into(),
                url: "https://registry-1.docker.io".into(),
                name: "kreg-mirror-docker-io".into(),
                address: "10.96.0.20".into(),
                credentials: None,
            }],
            mirror_access: None,
            api_requests: 42,
            timings_ms: Timings {
                total_ms: 9000,
                work_ms: 1000,
                wait_address_ms: 1000,
                wait_rollout_ms: 4000,
                probe_ms: 1000,
                wait_node_trust_ms: 2000,
                bootstrap_ms: 0,
            },
        };
        let json = serde_json::to_value(&report).unwrap();
        assert!(!json.to_string().contains("not-printed"), "no password");
        insta::assert_json_snapshot!("up_json", json);
    }

    /// The `--dry-run -o json` document: every object, secrets as placeholders, and the notes.
    #[test]
    fn dry_run_json_contract() {
        let plan = crate::plan::sample_full();
        let desired = crate::render::render(&plan, &Material::pending(vec![])).unwrap();
        let doc = DryRun::new(&plan, &desired).unwrap();
        let notes = dry_run_notes(&desired);
        let json = serde_json::to_value(&doc).unwrap();
        let text = json.to_string();
        assert!(
            !text.contains("PRIVATE KEY"),
            "no key material in a dry run"
        );
        insta::assert_json_snapshot!("dry_run_json", json);
        assert_eq!(
            notes,
            ["would add kreg-pull to the imagePullSecrets of ServiceAccount default in namespace team-a"]
        );
    }
}

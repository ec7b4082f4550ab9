//! Desired state as data: every object `kreg up` converges, in the order it converges them,
//! from the plan and the [`Material`] `up` gathers on the way (the registry's address, the
//! hashes of the certificate and the passwords it minted). `up` applies this list, `up
//! --dry-run` prints it (with [`Material::pending`]), and each apply's drift check compares
//! an entry with what is live. Nothing here talks to a cluster.
//!
//! The list has three stages. [`Stage::Foundation`] objects depend on the plan alone (a unit
//! test holds this): `up` applies them first, because the registry's address and the caches'
//! ClusterIPs come from their Services. [`Stage::Bootstrap`] objects (only when kreg serves its
//! own image) depend on the plan alone too, and must be serving before anything runs kreg's
//! image. [`Stage::Workload`] objects need the address and the minted keys.

use std::net::IpAddr;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde::Serialize;

use crate::auth::Credentials;
use crate::manifests::{self, NodeAgent, NodeMirror};
use crate::plan::{names, Endpoint, Plan};

/// One object of any kind kreg applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Object {
    Namespace(Namespace),
    Secret(Secret),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Service(Service),
    Deployment(Deployment),
    DaemonSet(DaemonSet),
    ConfigMap(ConfigMap),
    ServiceAccount(ServiceAccount),
    Role(Role),
    RoleBinding(RoleBinding),
    Ingress(Ingress),
    NetworkPolicy(NetworkPolicy),
    Job(Box<Job>),
    /// batch/v1 or batch/v1beta1 (chosen against the server), so JSON: the typed crate knows
    /// one of them only.
    CronJob(serde_json::Value),
    /// An object of a kind a CRD defines, as JSON (the typed crate has none of them): a
    /// Gateway API route or policy of `--expose gateway` (TLSRoute, HTTPRoute,
    /// BackendTLSPolicy), Traefik's ServersTransport of `--expose ingress`.
    Custom(serde_json::Value),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "Namespace",
            Object::Secret(_) => "Secret",
            Object::PersistentVolumeClaim(_) => "PersistentVolumeClaim",
            Object::Service(_) => "Service",
            Object::Deployment(_) => "Deployment",
            Object::DaemonSet(_) => "DaemonSet",
            Object::ConfigMap(_) => "ConfigMap",
            Object::ServiceAccount(_) => "ServiceAccount",
            Object::Role(_) => "Role",
            Object::RoleBinding(_) => "RoleBinding",
            Object::Ingress(_) => "Ingress",
            Object::NetworkPolicy(_) => "NetworkPolicy",
            Object::Job(_) => "Job",
            Object::CronJob(_) => "CronJob",
            Object::Custom(v) => match v["kind"].as_str() {
                Some("TLSRoute") => "TLSRoute",
                Some("HTTPRoute") => "HTTPRoute",
                Some("BackendTLSPolicy") => "BackendTLSPolicy",
                Some("ServersTransport") => "ServersTransport",
                _ => "CustomObject",
            },
        }
    }

    fn meta(&self) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> {
        Some(match self {
            Object::Namespace(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::PersistentVolumeClaim(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::DaemonSet(o) => &o.metadata,
            Object::ConfigMap(o) => &o.metadata,
            Object::ServiceAccount(o) => &o.metadata,
            Object::Role(o) => &o.metadata,
            Object::RoleBinding(o) => &o.metadata,
            Object::Ingress(o) => &o.metadata,
            Object::NetworkPolicy(o) => &o.metadata,
            Object::Job(o) => &o.metadata,
            Object::CronJob(_) | Object::Custom(_) => return None,
        })
    }

    pub fn name(&self) -> String {
        match self {
            Object::CronJob(v) | Object::Custom(v) => {
                v["metadata"]["name"].as_str().unwrap_or_default().into()
            }
            o => o.meta().and_then(|m| m.name.clone()).unwrap_or_default(),
        }
    }

    pub fn namespace(&self) -> Option<String> {
        match self {
            Object::CronJob(v) | Object::Custom(v) => {
                v["metadata"]["namespace"].as_str().map(str::to_string)
            }
            o => o.meta().and_then(|m| m.namespace.clone()),
        }
    }

    /// `Kind/name`, with ` -n NS` when it lives outside `home` (kreg's namespace): how `up`
    /// and `down` name objects in their reports.
    pub fn key(&self, home: &str) -> String {
        match self.namespace() {
            Some(ns) if ns != home => format!("{}/{} -n {ns}", self.kind(), self.name()),
            _ => format!("{}/{}", self.kind(), self.name()),
        }
    }
}

/// The kinds kreg sweeps by label: an object of one of these kinds in kreg's namespace,
/// labelled managed-by=kreg, that the rendered list does not hold is deleted by `up` (it
/// belonged to a mode or an option turned off: an Ingress after `--expose nodeport`, the
/// bootstrap after `--agent-image`) and by `down`. Deleting none of them loses data.
pub const SWEPT_KINDS: &[&str] = &[
    "Ingress",
    "TLSRoute",
    "HTTPRoute",
    "BackendTLSPolicy",
    "ServersTransport",
    "DaemonSet",
    "Deployment",
    "CronJob",
    "Service",
    "NetworkPolicy",
    "ConfigMap",
    "RoleBinding",
    "Role",
    "ServiceAccount",
];

/// The kinds the list holds that no sweep touches, and why. A unit test fails when a kind
/// the list renders is in neither this nor [`SWEPT_KINDS`], so a new kind gets a decision
/// (only that test reads it: nothing is done with a kept kind).
#[cfg(test)]
pub const UNSWEPT_KINDS: &[(&str, &str)] = &[
    (
        "Namespace",
        "it may hold what is not kreg's: only `down --purge` deletes it, by its recorded UID",
    ),
    (
        "Secret",
        "keys and passwords, the CA above all: `down` deletes the serving certificate, `down --purge` the rest, by name",
    ),
    (
        "PersistentVolumeClaim",
        "the images: only `down --purge` deletes them",
    ),
    (
        "Job",
        "runs to completion and is deleted by whoever ran it (`kreg gc`, the probe push)",
    ),
];

/// Objects of swept kinds that are never unwanted: the state record (written after the
/// objects it names, outside the list) and the node-trust DaemonSet, which only goes after it
/// has removed kreg's files from every node (`down`'s first step).
fn outside_the_list(kind: &str, name: &str) -> bool {
    (kind == "ConfigMap" && name == names::STATE)
        || (kind == "DaemonSet" && name == names::NODE_TRUST)
}

/// Which of kreg's labelled objects in its namespace `home` (as `(kind, name)`) the desired
/// list no longer holds: what `up` prunes. `down` passes an empty list.
pub fn unwanted<'a, T>(
    desired: &[Desired],
    home: &str,
    found: &'a [T],
    key: impl Fn(&T) -> (&str, &str),
) -> Vec<&'a T> {
    let wanted: std::collections::BTreeSet<(&str, String)> = desired
        .iter()
        .filter(|d| d.object.namespace().is_none_or(|ns| ns == home))
        .map(|d| (d.object.kind(), d.object.name()))
        .collect();
    found
        .iter()
        .filter(|f| {
            let (kind, name) = key(f);
            SWEPT_KINDS.contains(&kind)
                && !outside_the_list(kind, name)
                && !wanted.contains(&(kind, name.to_string()))
        })
        .collect()
}

/// When `up` converges an entry: see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Foundation,
    /// kreg's own image on every node's loopback (`crate::install::bootstrap`), before the
    /// workload that runs it.
    Bootstrap,
    Workload,
}

/// How `up` converges an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Server-side apply; re-applied when it drifts.
    Apply,
    /// kreg's namespace: created once and recorded by UID; one that exists is used as it is
    /// (never relabelled: it may be someone else's).
    Namespace,
    /// Created once with random content, never rewritten (the replicas' shared HTTP secret).
    CreateOnce,
    /// Minted by `up` from keys it makes or reuses (the CA, serving certificates, passwords):
    /// listed here as a placeholder, never applied from the list.
    Minted,
    /// A pull Secret in another namespace, plus kreg's entry in that namespace's default
    /// ServiceAccount (`--pull-secret-namespaces`).
    PullSecret,
    /// `kube-public/local-registry-hosting`: applied only while absent or kreg's; a failure
    /// is reported, never fatal (the registry works without discovery).
    Discovery,
    /// The Job that pushes the probe image, for `kreg render` alone: `up` pushes the probe
    /// itself once the registry answers (and waits for the pulls), so it skips this entry.
    ProbePush,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub stage: Stage,
    pub how: How,
    pub object: Object,
}

/// What `up` learns while converging, which the workload objects need.
#[derive(Debug, Clone)]
pub struct Material {
    /// The registry's reference (`host:port`) and name as every client uses them.
    pub endpoint: Endpoint,
    /// `IP:port` nodes connect to without DNS, when the address is an IP.
    pub dial: Option<String>,
    /// SHA-256 of the serving certificate (rolls the registry pods when it changes).
    pub tls_sha256: String,
    /// SHA-256 of the users Secret (`--auth`; rolls the gate).
    pub users_sha256: String,
    /// The pull user, for the namespaces' pull Secrets (`--auth`).
    pub pull: Option<Credentials>,
    /// The CA certificates nodes and clients trust (PEM; two during a CA rotation).
    pub trust_pem: String,
    /// The caches with the ClusterIPs nodes reach them on.
    pub mirrors: Vec<NodeMirror>,
    /// Per cache (same order as `mirrors`), the SHA-256 of its serving certificate.
    pub mirror_tls_sha256: Vec<String>,
    /// The sources the caches' NetworkPolicy admits (the nodes' addresses).
    pub mirror_sources: Vec<IpAddr>,
    /// `REGISTRY/kreg/probe@sha256:…`, which every node agent pulls to prove trust.
    pub probe_image: Option<String>,
    /// Nodes whose runtime is never restarted.
    pub restart_skip: Vec<String>,
    /// The CronJob's apiVersion on this server.
    pub cronjob_api: &'static str,
}

/// What stands in for a value `up` learns or mints, in a dry run.
pub const PENDING: &str = "<issued during up>";
/// What stands in for the registry's address before it is known.
pub const PENDING_ADDRESS: &str = "<registry address>";

impl Material {
    /// The material of a dry run: placeholders where `up` would learn or mint something.
    pub fn pending(mirror_sources: Vec<IpAddr>) -> Material {
        Material {
            endpoint: Endpoint {
                host: PENDING_ADDRESS.into(),
                port: 443,
                ips: vec![],
            },
            dial: None,
            tls_sha256: PENDING.into(),
            users_sha256: PENDING.into(),
            pull: None,
            trust_pem: PENDING.into(),
            mirrors: vec![],
            mirror_tls_sha256: vec![],
            mirror_sources,
            probe_image: None,
            restart_skip: vec![],
            // The CronJob's apiVersion is chosen against the server during `up`.
            cronjob_api: "batch/v1",
        }
    }

    fn registry(&self) -> String {
        if self.endpoint.host == PENDING_ADDRESS {
            PENDING_ADDRESS.into()
        } else {
            self.endpoint.registry()
        }
    }
}

/// Every object `up` converges for `plan`, in order. Pure.
pub fn render(plan: &Plan, m: &Material) -> Result<Vec<Desired>> {
    let mut out = List(vec![]);
    foundation(plan, &mut out);
    if plan.agent_bootstrap {
        let (store, service, relay) = manifests::bootstrap(plan);
        let b = Stage::Bootstrap;
        // The Service first: the relays find the store through its variables.
        out.add(b, How::Apply, Object::Service(service));
        out.add(b, How::Apply, Object::Deployment(store));
        out.add(b, How::Apply, Object::DaemonSet(relay));
    }
    registry(plan, m, &mut out)?;
    caches(plan, m, &mut out);
    out.add(
        Stage::Workload,
        How::Discovery,
        Object::ConfigMap(manifests::local_registry_hosting(&manifests::hosting(
            plan.expose,
            &m.endpoint,
            &plan.namespace,
        ))?),
    );
    node_trust(plan, m, &mut out);
    Ok(out.0)
}

struct List(Vec<Desired>);

impl List {
    fn add(&mut self, stage: Stage, how: How, object: Object) {
        self.0.push(Desired { stage, how, object });
    }
}

/// The plan alone: the namespace, the shared HTTP secret, the volumes, the Services.
fn foundation(plan: &Plan, out: &mut List) {
    use How::*;
    let ns = &plan.namespace;
    let f = Stage::Foundation;
    out.add(f, Namespace, Object::Namespace(manifests::namespace(plan)));
    out.add(
        f,
        CreateOnce,
        Object::Secret(manifests::placeholder_secret(
            ns,
            names::HTTP_SECRET,
            "Opaque",
            &["secret"],
        )),
    );
    if let Some(p) = manifests::pvc(plan) {
        out.add(f, Apply, Object::PersistentVolumeClaim(p));
    }
    out.add(f, Apply, Object::Service(manifests::service(plan)));
    for mirror in &plan.mirrors {
        if let Some(p) = manifests::mirror_pvc(plan, mirror) {
            out.add(f, Apply, Object::PersistentVolumeClaim(p));
        }
        out.add(
            f,
            Apply,
            Object::Service(manifests::mirror_service(plan, mirror)),
        );
    }
}

/// The registry: its keys (placeholders), the gc schedule derived from its Deployment, the
/// Deployment, the namespaces' pull Secrets and the Ingress.
fn registry(plan: &Plan, m: &Material, out: &mut List) -> Result<()> {
    use How::*;
    let ns = &plan.namespace;
    let w = Stage::Workload;
    let tls_keys = ["tls.crt", "tls.key", "ca.crt"];
    // `--ca-secret`: the user's CA signs; kreg makes no CA of its own.
    if plan.ca_secret.is_none() {
        out.add(
            w,
            Minted,
            Object::Secret(manifests::placeholder_secret(
                ns,
                names::CA_SECRET,
                "Opaque",
                &["ca.crt", "ca.key"],
            )),
        );
    }
    if plan.serves_tls() {
        let tls =
            manifests::placeholder_secret(ns, names::TLS_SECRET, "kubernetes.io/tls", &tls_keys);
        out.add(w, Minted, Object::Secret(tls));
    }
    let mut deployment = manifests::deployment(plan, &m.tls_sha256);
    if plan.auth {
        let keys = [
            "username",
            "password",
            "htpasswd",
            "pull-username",
            "pull-password",
            "pull-htpasswd",
        ];
        let users = manifests::placeholder_secret(ns, names::AUTH_SECRET, "Opaque", &keys);
        out.add(w, Minted, Object::Secret(users));
        manifests::with_auth(&mut deployment, &m.users_sha256, &plan.agent_image);
    }
    if let Some(g) = &plan.gc_schedule {
        // Derived from the registry Deployment (its volumes and image), so rendered from it.
        let prune = g.prune.as_ref().map(|p| (p, plan.agent_image.as_str()));
        let s = crate::gc::schedule(&deployment, &g.cron, &g.image, prune, m.cronjob_api)?;
        out.add(w, Apply, Object::ServiceAccount(s.service_account));
        out.add(w, Apply, Object::Role(s.role));
        out.add(w, Apply, Object::RoleBinding(s.binding));
        out.add(w, Apply, Object::ConfigMap(s.config));
        out.add(w, Apply, Object::CronJob(s.cronjob));
    }
    out.add(w, Apply, Object::Deployment(deployment));
    let pull = m.pull.clone().unwrap_or_else(|| Credentials {
        username: names::PULL_USER.into(),
        password: String::new(),
    });
    for pulled in &plan.pull_secret_namespaces {
        let secret = manifests::pull_secret(pulled, &m.registry(), &pull);
        let secret = if m.pull.is_some() {
            secret
        } else {
            manifests::redacted(secret)
        };
        out.add(w, PullSecret, Object::Secret(secret));
    }
    let ingress_host = plan.host.clone().unwrap_or_else(|| m.endpoint.host.clone());
    // What verifies the registry before the route that sends traffic to it.
    if let Some(ca) = manifests::backend_ca(plan, &m.trust_pem) {
        out.add(w, Apply, Object::ConfigMap(ca));
    }
    if let Some(t) = manifests::servers_transport(plan, &ingress_host) {
        out.add(w, Apply, Object::Custom(t));
    }
    if let Some(i) = manifests::ingress(plan, &ingress_host) {
        out.add(w, Apply, Object::Ingress(i));
    }
    for route in manifests::gateway_routes(plan, &ingress_host) {
        out.add(w, Apply, Object::Custom(route));
    }
    Ok(())
}

/// The pull-through caches: the policy first, so no cache pod ever runs without it.
fn caches(plan: &Plan, m: &Material, out: &mut List) {
    let w = Stage::Workload;
    if plan.mirrors.is_empty() {
        return;
    }
    let policy = manifests::mirror_network_policy(&plan.namespace, &m.mirror_sources);
    out.add(w, How::Apply, Object::NetworkPolicy(policy));
    for (i, mirror) in plan.mirrors.iter().enumerate() {
        let tls = manifests::placeholder_secret(
            &plan.namespace,
            &mirror.tls_secret(),
            "kubernetes.io/tls",
            &["tls.crt", "tls.key", "ca.crt"],
        );
        out.add(w, How::Minted, Object::Secret(tls));
        let sha = m
            .mirror_tls_sha256
            .get(i)
            .map(String::as_str)
            .unwrap_or(PENDING);
        let d = manifests::mirror_deployment(plan, mirror, sha);
        out.add(w, How::Apply, Object::Deployment(d));
    }
}

/// The node agents: their restart identity (`--allow-runtime-restart`), then the DaemonSet.
fn node_trust(plan: &Plan, m: &Material, out: &mut List) {
    let w = Stage::Workload;
    if !plan.node_trust {
        return;
    }
    if plan.allow_runtime_restart {
        let id = manifests::node_trust_identity(plan);
        out.add(w, How::Apply, Object::ServiceAccount(id.service_account));
        out.add(w, How::Apply, Object::Role(id.role));
        out.add(w, How::Apply, Object::RoleBinding(id.binding));
    }
    let registry = m.registry();
    let agent = NodeAgent {
        registry: &registry,
        dial: m.dial.clone(),
        ca_pem: &m.trust_pem,
        mode: "install",
        mirrors: &m.mirrors,
        probe_image: m.probe_image.clone(),
        restart_skip: m.restart_skip.clone(),
        pull_secret: plan.auth.then_some(names::AUTH_SECRET),
    };
    out.add(
        w,
        How::Apply,
        Object::DaemonSet(manifests::node_trust(plan, &agent)),
    );
    if m.probe_image.is_some() {
        let job = manifests::probe_push_job(plan, &registry);
        out.add(w, How::ProbePush, Object::Job(Box::new(job)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_plan() -> Plan {
        crate::plan::sample_full()
    }

    fn learned() -> Material {
        Material {
            endpoint: Endpoint {
                host: "registry.10.0.0.2.nip.io".into(),
                port: 31000,
                ips: vec!["10.0.0.2".parse().unwrap()],
            },
            dial: Some("10.0.0.2:31000".into()),
            tls_sha256: "aa".repeat(32),
            users_sha256: "bb".repeat(32),
            pull: Some(Credentials {
                username: names::PULL_USER.into(),
                password: "secret".into(),
            }),
            trust_pem: "-----BEGIN CERTIFICATE-----\n".into(),
            mirrors: vec![],
            mirror_tls_sha256: vec![],
            mirror_sources: vec![],
            probe_image: Some("registry.10.0.0.2.nip.io:31000/kreg/probe@sha256:00".into()),
            restart_skip: vec!["cp-1".into()],
            cronjob_api: "batch/v1beta1",
        }
    }

    /// Every kind the list renders, in any exposure, is swept or kept for a stated reason.
    #[test]
    fn every_rendered_kind_is_swept_or_kept_for_a_reason() {
        let mut kinds = std::collections::BTreeSet::new();
        for expose in [
            crate::plan::Expose::NodePort,
            crate::plan::Expose::LoadBalancer,
            crate::plan::Expose::Ingress,
            crate::plan::Expose::Gateway,
            crate::plan::Expose::Localhost,
            crate::plan::Expose::LocalhostTls,
        ] {
            for (bootstrap, mode) in [
                (false, crate::plan::GatewayMode::TlsPassthrough),
                (true, crate::plan::GatewayMode::Https),
            ] {
                let mut plan = full_plan();
                plan.expose = expose;
                plan.agent_bootstrap = bootstrap;
                if expose == crate::plan::Expose::Ingress && bootstrap {
                    plan.host = Some("registry.example.test".into());
                    plan.ingress = Some(crate::plan::IngressChoice {
                        class: "traefik".into(),
                        controller: crate::detect::IngressController::Traefik,
                        servers_transport: true,
                    });
                }
                if expose == crate::plan::Expose::Gateway {
                    plan.host = Some("registry.example.test".into());
                    plan.gateway = Some(crate::plan::GatewayChoice {
                        namespace: "infra".into(),
                        name: "public".into(),
                        listener: "tls".into(),
                        port: 443,
                        mode,
                        address: None,
                    });
                }
                for d in render(&plan, &learned()).unwrap() {
                    kinds.insert(d.object.kind());
                }
            }
        }
        for kind in &kinds {
            let swept = SWEPT_KINDS.contains(kind);
            let kept = UNSWEPT_KINDS.iter().any(|(k, _)| k == kind);
            assert!(swept != kept, "{kind}: swept {swept}, kept {kept}");
        }
        for want in [
            "Ingress",
            "TLSRoute",
            "HTTPRoute",
            "BackendTLSPolicy",
            "ServersTransport",
            "DaemonSet",
        ] {
            assert!(kinds.contains(want), "{want} never rendered: {kinds:?}");
        }
    }

    /// An exposure turned off leaves objects that the new list does not hold: those go, and
    /// nothing the list holds, outside kreg's namespace, or outside the list does.
    #[test]
    fn unwanted_is_what_the_new_list_does_not_hold() {
        let mut plan = full_plan();
        // As the planner makes a NodePort plan: no Ingress or Gateway choice.
        plan.expose = crate::plan::Expose::NodePort;
        plan.ingress = None;
        plan.gateway = None;
        let list = render(&plan, &learned()).unwrap();
        let home = plan.namespace.clone();
        let found = [
            ("Ingress", "kreg-registry"),
            ("TLSRoute", "kreg-registry"),
            ("Deployment", "kreg-registry"),
            ("Service", "kreg-registry"),
            ("DaemonSet", "kreg-bootstrap-relay"),
            ("ConfigMap", names::STATE),
            ("Secret", "kreg-ca"),
            ("PersistentVolumeClaim", "kreg-registry-data"),
        ];
        let gone: Vec<&str> = unwanted(&list, &home, &found, |(k, n)| (*k, *n))
            .into_iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(gone, ["Ingress", "TLSRoute", "DaemonSet"]);
        // `down`: nothing is wanted, but data and the record are still not swept.
        let all: Vec<&str> = unwanted(&[], &home, &found, |(k, n)| (*k, *n))
            .into_iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(
            all,
            ["Ingress", "TLSRoute", "Deployment", "Service", "DaemonSet"]
        );
    }

    /// `up` applies the foundation and the bootstrap before it knows the address: nothing
    /// learned may change them.
    #[test]
    fn foundation_and_bootstrap_objects_depend_on_the_plan_alone() {
        let mut plan = full_plan();
        plan.agent_bootstrap = true;
        for stage in [Stage::Foundation, Stage::Bootstrap] {
            let of = |m: &Material| -> Vec<Desired> {
                render(&plan, m)
                    .unwrap()
                    .into_iter()
                    .filter(|d| d.stage == stage)
                    .collect()
            };
            let before = of(&Material::pending(vec![]));
            assert!(!before.is_empty(), "{stage:?}");
            assert_eq!(before, of(&learned()), "{stage:?}");
        }
    }

    /// The bootstrap: the Service before the store and the relays (they find the store through
    /// its variables), everything from the registry's image, the relays on 127.0.0.1 only, and
    /// no bootstrap at all when the agent image comes from elsewhere.
    #[test]
    fn the_bootstrap_serves_kregs_image_on_loopback_only() {
        let mut plan = full_plan();
        assert!(!render(&plan, &learned())
            .unwrap()
            .iter()
            .any(|d| d.stage == Stage::Bootstrap));
        plan.agent_bootstrap = true;
        let boot: Vec<Desired> = render(&plan, &learned())
            .unwrap()
            .into_iter()
            .filter(|d| d.stage == Stage::Bootstrap)
            .collect();
        let keys: Vec<String> = boot.iter().map(|d| d.object.key(&plan.namespace)).collect();
        assert_eq!(
            keys,
            [
                "Service/kreg-bootstrap",
                "Deployment/kreg-bootstrap",
                "DaemonSet/kreg-bootstrap-relay"
            ]
        );
        let (store, service, relay) = manifests::bootstrap(&plan);
        let yaml = [
            serde_yaml_ng::to_string(&service).unwrap(),
            serde_yaml_ng::to_string(&store).unwrap(),
            serde_yaml_ng::to_string(&relay).unwrap(),
        ]
        .join("---\n");
        insta::assert_snapshot!("bootstrap_objects", yaml);
        assert!(!yaml.contains("hostNetwork"), "{yaml}");
        assert_eq!(
            yaml.matches("image: mirror.example/registry:2.8").count(),
            3
        );
        assert!(yaml.contains("hostIP: 127.0.0.1"), "{yaml}");
    }

    /// The workload carries what was learned: the certificate's hash rolls the registry, the
    /// DaemonSet names the registry and the pull Secret holds the real password.
    #[test]
    fn workload_objects_carry_the_material() {
        let all = render(&full_plan(), &learned()).unwrap();
        let text =
            serde_json::to_string(&all.iter().map(|d| &d.object).collect::<Vec<_>>()).unwrap();
        assert!(
            text.contains(&"aa".repeat(32)),
            "tls hash in the Deployment"
        );
        assert!(text.contains(&"bb".repeat(32)), "users hash in the gate");
        assert!(text.contains("registry.10.0.0.2.nip.io:31000"));
        assert!(
            !text.contains(PENDING),
            "nothing pending once learned: {text}"
        );
        let cron = all.iter().find(|d| d.object.kind() == "CronJob").unwrap();
        assert_eq!(
            serde_json::to_value(&cron.object).unwrap()["apiVersion"],
            "batch/v1beta1"
        );
    }

    /// Keys are never in the list: minted Secrets are placeholders, and a dry run's pull
    /// Secret is redacted.
    #[test]
    fn no_key_material_is_rendered() {
        let all = render(&full_plan(), &Material::pending(vec![])).unwrap();
        let text =
            serde_json::to_string(&all.iter().map(|d| &d.object).collect::<Vec<_>>()).unwrap();
        assert!(!text.contains("PRIVATE KEY"));
        let minted: Vec<_> = all
            .iter()
            .filter(|d| d.how == How::Minted)
            .map(|d| d.object.name())
            .collect();
        assert_eq!(
            minted,
            [names::CA_SECRET, names::TLS_SECRET, names::AUTH_SECRET]
        );
        let pull = all.iter().find(|d| d.how == How::PullSecret).unwrap();
        assert_eq!(
            pull.object.key(&full_plan().namespace),
            format!("Secret/{} -n team-a", names::PULL_SECRET)
        );
        // `--ca-secret`: no CA of kreg's own is made, and the user's Secret is not in the list
        // (kreg only reads it).
        let mut theirs = full_plan();
        theirs.ca_secret = Some("corp-ca".into());
        let all = render(&theirs, &Material::pending(vec![])).unwrap();
        let listed: Vec<String> = all.iter().map(|d| d.object.name().to_string()).collect();
        let has = |n: &str| listed.iter().any(|l| l == n);
        assert!(!has(names::CA_SECRET), "{listed:?}");
        assert!(!has("corp-ca"), "{listed:?}");
        assert!(has(names::TLS_SECRET), "{listed:?}");
    }

    /// Every object has a name, and none appears twice.
    #[test]
    fn keys_are_unique() {
        let plan = full_plan();
        let all = render(&plan, &learned()).unwrap();
        let mut keys: Vec<_> = all.iter().map(|d| d.object.key(&plan.namespace)).collect();
        assert!(keys.iter().all(|k| !k.ends_with('/')), "{keys:?}");
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    /// `kreg render`'s probe Job: there exactly when nodes prove trust with a probe image;
    /// it names the registry and takes the CA and the push user from Secrets by reference.
    #[test]
    fn the_probe_job_refers_to_its_secrets() {
        let plan = full_plan();
        let all = render(&plan, &learned()).unwrap();
        let jobs: Vec<_> = all.iter().filter(|d| d.how == How::ProbePush).collect();
        assert_eq!(jobs.len(), 1);
        let text = serde_json::to_string(&jobs[0].object).unwrap();
        assert!(text.contains("registry.10.0.0.2.nip.io:31000"), "{text}");
        assert!(
            !text.contains("\"secret\""),
            "the pull password leaked: {text}"
        );
        insta::assert_yaml_snapshot!(jobs[0].object);
        let mut m = learned();
        m.probe_image = None;
        let none = render(&plan, &m).unwrap();
        assert!(none.iter().all(|d| d.how != How::ProbePush));
    }
}

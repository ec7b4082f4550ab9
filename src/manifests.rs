//! The objects kreg applies: YAML files in `manifests/`, compiled into the binary, parsed into
//! typed Kubernetes objects, with every value that varies set here in Rust (no text
//! templating, so no value can inject YAML).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, Container, EnvVar, Namespace, PersistentVolumeClaim, PodAffinityTerm,
    PodAntiAffinity, Secret, Service, Volume, WeightedPodAffinityTerm,
};
use k8s_openapi::api::networking::v1::{
    IPBlock, Ingress, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::ByteString;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::detect::IngressController;
use crate::plan::{names, Endpoint, Expose, Mirror, Plan, Storage};

const NAMESPACE: &str = include_str!("../manifests/namespace.yaml");
const PVC: &str = include_str!("../manifests/pvc.yaml");
const SERVICE: &str = include_str!("../manifests/service.yaml");
const DEPLOYMENT: &str = include_str!("../manifests/deployment.yaml");
const INGRESS: &str = include_str!("../manifests/ingress.yaml");
const SECRET: &str = include_str!("../manifests/secret.yaml");
const CONFIGMAP: &str = include_str!("../manifests/configmap.yaml");
const NODE_TRUST_DS: &str = include_str!("../manifests/node-trust-daemonset.yaml");
const NODE_TRUST_RBAC: &str = include_str!("../manifests/node-trust-rbac.yaml");
const HOSTING: &str = include_str!("../manifests/local-registry-hosting.yaml");
const PROBE_PUSH_JOB: &str = include_str!("../manifests/probe-push-job.yaml");
const MIRROR_POLICY: &str = include_str!("../manifests/mirror-networkpolicy.yaml");
const BOOTSTRAP_STORE: &str = include_str!("../manifests/bootstrap-store.yaml");
const BOOTSTRAP_SERVICE: &str = include_str!("../manifests/bootstrap-service.yaml");
const BOOTSTRAP_RELAY: &str = include_str!("../manifests/bootstrap-relay.yaml");

/// Annotation on the Deployment's pod template: changes when the serving certificate does,
/// so the registry restarts and loads it.
pub const TLS_HASH_ANNOTATION: &str = "kreg.dev/tls-sha256";

fn parse<T: DeserializeOwned>(name: &str, text: &str) -> T {
    // The files are part of the binary and covered by tests: a parse failure is a bug in kreg.
    serde_yaml_ng::from_str(text)
        .unwrap_or_else(|e| panic!("embedded manifest {name} is invalid: {e}"))
}

pub fn namespace(plan: &Plan) -> Namespace {
    let mut ns: Namespace = parse("namespace.yaml", NAMESPACE);
    ns.metadata.name = Some(plan.namespace.clone());
    ns
}

/// The PVC, or `None` when storage is not a PVC.
pub fn pvc(plan: &Plan) -> Option<PersistentVolumeClaim> {
    let Storage::Pvc { size, class } = &plan.storage else {
        return None;
    };
    let mut pvc: PersistentVolumeClaim = parse("pvc.yaml", PVC);
    pvc.metadata.namespace = Some(plan.namespace.clone());
    let spec = pvc.spec.as_mut().expect("pvc.yaml has a spec");
    spec.storage_class_name = class.clone();
    spec.resources
        .as_mut()
        .expect("pvc.yaml has resources")
        .requests = Some(BTreeMap::from([(
        "storage".to_string(),
        Quantity(size.clone()),
    )]));
    Some(pvc)
}

pub fn service(plan: &Plan) -> Service {
    let mut svc: Service = parse("service.yaml", SERVICE);
    svc.metadata.namespace = Some(plan.namespace.clone());
    let spec = svc.spec.as_mut().expect("service.yaml has a spec");
    let port = &mut spec.ports.as_mut().expect("service.yaml has ports")[0];
    match plan.expose {
        Expose::LoadBalancer => {
            spec.type_ = Some("LoadBalancer".into());
            if !plan.lb_source_ranges.is_empty() {
                spec.load_balancer_source_ranges = Some(plan.lb_source_ranges.clone());
            }
            if plan.internal_lb() {
                let notes = svc
                    .metadata
                    .annotations
                    .get_or_insert_with(Default::default);
                for (k, v) in crate::plan::internal_lb_annotations(plan.flavor) {
                    notes.insert((*k).into(), (*v).into());
                }
            }
        }
        Expose::Ingress | Expose::Gateway => {
            spec.type_ = Some("ClusterIP".into());
            // Traefik's Ingress provider reads a backend's `service.*` settings from the
            // Service, not the Ingress: speak TLS to the registry, verified by kreg's
            // ServersTransport (see [`servers_transport`]).
            if let Some(i) = plan.ingress.as_ref() {
                if i.controller == IngressController::Traefik {
                    let notes = svc
                        .metadata
                        .annotations
                        .get_or_insert_with(Default::default);
                    notes.insert(TRAEFIK_SCHEME.into(), "https".into());
                    if i.servers_transport {
                        notes.insert(
                            TRAEFIK_TRANSPORT.into(),
                            format!("{}-{}@kubernetescrd", plan.namespace, names::REGISTRY),
                        );
                    }
                }
            }
        }
        Expose::NodePort | Expose::Localhost | Expose::LocalhostTls => {
            spec.type_ = Some("NodePort".into());
            // Port 5000 inside the cluster; the node port is the one the registry had before
            // (`plan.node_port`), else allocated by the API server and kept across re-applies
            // (server-side apply does not own the field then).
            port.port = names::CONTAINER_PORT;
            port.node_port = plan.node_port.map(i32::from);
        }
    }
    svc
}

/// The bootstrap's three objects (see the manifests' comments): the store, its Service and
/// the per-node relays on `127.0.0.1:`[`names::BOOTSTRAP_PORT`], all from the registry's image.
pub fn bootstrap(plan: &Plan) -> (Deployment, Service, DaemonSet) {
    let mut store: Deployment = parse("bootstrap-store.yaml", BOOTSTRAP_STORE);
    store.metadata.namespace = Some(plan.namespace.clone());
    let pod = store.spec.template.spec.as_mut();
    for c in &mut pod.expect("bootstrap-store.yaml has a pod spec").containers {
        c.image = Some(plan.image.clone());
    }
    let mut svc: Service = parse("bootstrap-service.yaml", BOOTSTRAP_SERVICE);
    svc.metadata.namespace = Some(plan.namespace.clone());
    let mut relay: DaemonSet = parse("bootstrap-relay.yaml", BOOTSTRAP_RELAY);
    relay.metadata.namespace = Some(plan.namespace.clone());
    let pod = relay.spec.template.spec.as_mut();
    let c = &mut pod.expect("bootstrap-relay.yaml has a pod spec").containers[0];
    c.image = Some(plan.image.clone());
    debug_assert_eq!(
        c.ports.as_ref().and_then(|p| p[0].host_port),
        Some(i32::from(names::BOOTSTRAP_PORT))
    );
    (store, svc, relay)
}

pub fn deployment(plan: &Plan, tls_sha256: &str) -> Deployment {
    let mut d: Deployment = parse("deployment.yaml", DEPLOYMENT);
    d.metadata.namespace = Some(plan.namespace.clone());
    let spec = &mut d.spec;
    spec.replicas = Some(plan.replicas as i32);
    if matches!(plan.storage, Storage::Pvc { .. }) {
        // A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
        spec.strategy = Some(k8s_openapi::api::apps::v1::DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        });
    }
    let template = &mut spec.template;
    template
        .metadata
        .get_or_insert_with(Default::default)
        .annotations
        .get_or_insert_with(Default::default)
        .insert(TLS_HASH_ANNOTATION.into(), tls_sha256.into());
    let pod = template
        .spec
        .as_mut()
        .expect("deployment.yaml has a pod spec");
    if plan.replicas > 1 {
        pod.affinity = Some(spread_over_nodes());
    }
    let c = &mut pod.containers[0];
    c.image = Some(plan.image.clone());
    if plan.expose == Expose::Localhost {
        // Zero-TLS mode: plain HTTP, no certificate volume.
        c.env
            .get_or_insert_with(Vec::new)
            .retain(|e| !e.name.starts_with("REGISTRY_HTTP_TLS_"));
        c.volume_mounts
            .get_or_insert_with(Vec::new)
            .retain(|m| m.name != "certs");
        for probe in [c.readiness_probe.as_mut(), c.liveness_probe.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(get) = probe.http_get.as_mut() {
                get.scheme = Some("HTTP".into());
            }
        }
        pod.volumes
            .get_or_insert_with(Vec::new)
            .retain(|v| v.name != "certs");
    }
    let c = &mut pod.containers[0];
    let env = c.env.get_or_insert_with(Vec::new);
    let volumes = pod.volumes.get_or_insert_with(Vec::new);
    let data = volumes
        .iter_mut()
        .find(|v| v.name == "data")
        .expect("deployment.yaml has a data volume");
    match &plan.storage {
        Storage::Pvc { .. } => {}
        Storage::EmptyDir => {
            *data = Volume {
                name: "data".into(),
                empty_dir: Some(Default::default()),
                ..Default::default()
            };
        }
        Storage::S3 {
            bucket,
            region,
            endpoint,
            secret,
        } => {
            volumes.retain(|v| v.name != "data");
            c.volume_mounts
                .get_or_insert_with(Vec::new)
                .retain(|m| m.name != "data");
            env.push(plain("REGISTRY_STORAGE", "s3"));
            // The registry serves blobs itself. Distribution otherwise answers a blob GET with
            // a 307 to a presigned URL of the S3 endpoint, which the nodes and workstations
            // must then reach and resolve themselves (an in-cluster MinIO or Garage name, a
            // private endpoint, plain http): kreg promises only the registry's address.
            env.push(plain("REGISTRY_STORAGE_REDIRECT_DISABLE", "true"));
            env.push(plain("REGISTRY_STORAGE_S3_BUCKET", bucket));
            env.push(plain("REGISTRY_STORAGE_S3_REGION", region));
            if let Some(ep) = endpoint {
                env.push(plain("REGISTRY_STORAGE_S3_REGIONENDPOINT", ep));
            }
            env.push(from_secret(
                "REGISTRY_STORAGE_S3_ACCESSKEY",
                secret,
                "accesskey",
            ));
            env.push(from_secret(
                "REGISTRY_STORAGE_S3_SECRETKEY",
                secret,
                "secretkey",
            ));
        }
    }
    d
}

/// Replicas on different nodes where the scheduler can: one node going away then takes one
/// replica, not all of them. Preferred, not required, so a cluster with fewer nodes than
/// replicas still runs them all.
fn spread_over_nodes() -> Affinity {
    Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        label_selector: Some(LabelSelector {
                            match_labels: Some(BTreeMap::from([(
                                "app.kubernetes.io/name".to_string(),
                                names::REGISTRY.to_string(),
                            )])),
                            ..Default::default()
                        }),
                        topology_key: "kubernetes.io/hostname".into(),
                        ..Default::default()
                    },
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Marks an object as part of `m`'s pull-through cache: `app.kubernetes.io/name` is the
/// cache's own (so the main registry's Service never selects it), the role label lets `down`
/// find every cache, the annotation names the upstream.
fn mark_mirror(meta: &mut ObjectMeta, namespace: &str, m: &Mirror) {
    meta.name = Some(m.name.clone());
    meta.namespace = Some(namespace.into());
    let labels = meta.labels.get_or_insert_with(Default::default);
    labels.insert("app.kubernetes.io/name".into(), m.name.clone());
    labels.insert(names::MIRROR_LABEL.0.into(), names::MIRROR_LABEL.1.into());
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(names::UPSTREAM_ANNOTATION.into(), m.upstream.clone());
}

fn mirror_selector(m: &Mirror) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), m.name.clone())])
}

/// The cache's PVC when the registry's storage is a PVC (same class and size): a cache on a
/// volume stays warm across restarts. `None` for emptyDir and S3.
pub fn mirror_pvc(plan: &Plan, m: &Mirror) -> Option<PersistentVolumeClaim> {
    let mut pvc = pvc(plan)?;
    mark_mirror(&mut pvc.metadata, &plan.namespace, m);
    Some(pvc)
}

/// The cache's Service: ClusterIP, port 443. Nodes reach it on its ClusterIP (kube-proxy, or
/// what replaces it, serves ClusterIPs to the host network of every node), so it needs no
/// load balancer, node port or DNS.
pub fn mirror_service(plan: &Plan, m: &Mirror) -> Service {
    let mut svc: Service = parse("service.yaml", SERVICE);
    mark_mirror(&mut svc.metadata, &plan.namespace, m);
    let spec = svc.spec.as_mut().expect("service.yaml has a spec");
    spec.type_ = Some("ClusterIP".into());
    spec.selector = Some(mirror_selector(m));
    svc
}

/// The cache: the registry's own Deployment (same image, storage choice, probes) in proxy mode
/// (`REGISTRY_PROXY_REMOTEURL`), always serving TLS with its own certificate, one replica.
pub fn mirror_deployment(plan: &Plan, m: &Mirror, tls_sha256: &str) -> Deployment {
    // Built from the registry's Deployment so the two never drift. The cache is always TLS
    // (nodes reach it by ClusterIP, never by localhost), and one replica: in proxy mode each
    // replica would fetch from the upstream on its own.
    let mut base = plan.clone();
    if base.expose.is_localhost() {
        base.expose = Expose::NodePort;
    }
    base.replicas = 1;
    let mut d = deployment(&base, tls_sha256);
    mark_mirror(&mut d.metadata, &plan.namespace, m);
    d.spec.selector.match_labels = Some(mirror_selector(m));
    let template = &mut d.spec.template;
    let tmeta = template.metadata.get_or_insert_with(Default::default);
    let labels = tmeta.labels.get_or_insert_with(Default::default);
    labels.insert("app.kubernetes.io/name".into(), m.name.clone());
    labels.insert(names::MIRROR_LABEL.0.into(), names::MIRROR_LABEL.1.into());
    let pod = template
        .spec
        .as_mut()
        .expect("deployment.yaml has a pod spec");
    for v in pod.volumes.get_or_insert_with(Vec::new) {
        if let Some(s) = v.secret.as_mut() {
            s.secret_name = Some(m.tls_secret());
        }
        if let Some(c) = v.persistent_volume_claim.as_mut() {
            c.claim_name = m.name.clone();
        }
    }
    let env = pod.containers[0].env.get_or_insert_with(Vec::new);
    // A cache accepts no deletes from clients; its own expiry does the cleaning.
    env.retain(|e| e.name != "REGISTRY_STORAGE_DELETE_ENABLED");
    env.push(plain("REGISTRY_PROXY_REMOTEURL", &m.url));
    if let Some(secret) = &m.credentials {
        env.push(from_secret("REGISTRY_PROXY_USERNAME", secret, "username"));
        env.push(from_secret("REGISTRY_PROXY_PASSWORD", secret, "password"));
    }
    if matches!(plan.storage, Storage::S3 { .. }) {
        // Same bucket as the registry, under a directory of its own.
        env.push(plain(
            "REGISTRY_STORAGE_S3_ROOTDIRECTORY",
            &format!("/kreg-mirrors/{}", m.name),
        ));
    }
    d
}

/// The NetworkPolicy that admits to every cache pod only `sources` (the nodes' addresses,
/// see `cluster::facts::node_sources`), on the registry's port.
///
/// The nodes' containerd is the caches' only client: a Pod has no business pulling through a
/// cache, and with `--mirror-credentials` it could read the upstream account's private
/// images. Traffic from a cache pod's own node is always allowed by NetworkPolicy; the
/// ipBlocks admit the other nodes. No source means no ingress rule at all: a rule with an
/// empty `from` would admit everyone.
pub fn mirror_network_policy(namespace: &str, sources: &[std::net::IpAddr]) -> NetworkPolicy {
    let mut np: NetworkPolicy = parse("mirror-networkpolicy.yaml", MIRROR_POLICY);
    np.metadata.namespace = Some(namespace.into());
    let spec = np
        .spec
        .as_mut()
        .expect("mirror-networkpolicy.yaml has a spec");
    let mut sources = sources.to_vec();
    sources.sort();
    sources.dedup();
    spec.ingress = Some(if sources.is_empty() {
        vec![]
    } else {
        vec![NetworkPolicyIngressRule {
            from: Some(
                sources
                    .iter()
                    .map(|ip| NetworkPolicyPeer {
                        ip_block: Some(IPBlock {
                            cidr: match ip {
                                std::net::IpAddr::V4(v4) => format!("{v4}/32"),
                                std::net::IpAddr::V6(v6) => format!("{v6}/128"),
                            },
                            except: None,
                        }),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ports: Some(vec![NetworkPolicyPort {
                port: Some(IntOrString::String("https".into())),
                protocol: Some("TCP".into()),
                end_port: None,
            }]),
        }]
    });
    np
}

/// What the node-trust DaemonSet needs to point a node at one cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeMirror {
    pub mirror: Mirror,
    /// `host[:port]` nodes reach the cache on (its ClusterIP).
    pub address: String,
}

fn plain(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(k8s_openapi::api::core::v1::EnvVarSource {
            secret_key_ref: Some(k8s_openapi::api::core::v1::SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..Default::default()
        }),
    }
}

/// The Ingress for `--expose ingress`, with the annotations that stop the known controllers
/// from cutting large layer uploads (413) and long pushes (504).
pub fn ingress(plan: &Plan, host: &str) -> Option<Ingress> {
    let choice = plan.ingress.as_ref()?;
    let mut ing: Ingress = parse("ingress.yaml", INGRESS);
    ing.metadata.namespace = Some(plan.namespace.clone());
    let annotations: &[(&str, &str)] = match choice.controller {
        IngressController::Nginx => &[
            ("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS"),
            ("nginx.ingress.kubernetes.io/proxy-body-size", "0"),
            ("nginx.ingress.kubernetes.io/proxy-request-buffering", "off"),
            ("nginx.ingress.kubernetes.io/proxy-read-timeout", "900"),
            ("nginx.ingress.kubernetes.io/proxy-send-timeout", "900"),
        ],
        // The backend's scheme and transport are the Service's annotations (see `service`).
        IngressController::Traefik => &[("traefik.ingress.kubernetes.io/router.tls", "true")],
        IngressController::Haproxy => &[
            ("haproxy.org/server-ssl", "true"),
            ("haproxy.org/timeout-server", "900s"),
        ],
        IngressController::Other => &[],
    };
    ing.metadata.annotations = Some(
        annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let spec = ing.spec.as_mut().expect("ingress.yaml has a spec");
    spec.ingress_class_name = Some(choice.class.clone());
    spec.tls.as_mut().expect("ingress.yaml has tls")[0].hosts = Some(vec![host.into()]);
    spec.rules.as_mut().expect("ingress.yaml has rules")[0].host = Some(host.into());
    Some(ing)
}

/// A Secret of kreg's with the given type and data. Contents are never printed: see
/// [`redacted`].
pub fn secret(namespace: &str, name: &str, type_: &str, data: &[(&str, &[u8])]) -> Secret {
    let mut s: Secret = parse("secret.yaml", SECRET);
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some(namespace.into());
    s.type_ = Some(type_.into());
    s.data = Some(
        data.iter()
            .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
            .collect(),
    );
    s
}

/// The text of one key of a Secret; `None` when absent or not UTF-8 (a PEM is always text).
pub fn secret_text(s: &Secret, key: &str) -> Option<String> {
    let bytes = s.data.as_ref()?.get(key)?;
    String::from_utf8(bytes.0.clone()).ok()
}

/// The ConfigMap holding the CAs that verify the registry (key `ca.crt`), for a proxy that
/// speaks TLS to it: a Gateway's BackendTLSPolicy, Traefik's ServersTransport.
pub const BACKEND_CA: &str = "kreg-registry-ca";
pub(crate) const GATEWAY_API: &str = "gateway.networking.k8s.io/v1";
pub(crate) const TRAEFIK_API: &str = "traefik.io/v1alpha1";
const TRAEFIK_SCHEME: &str = "traefik.ingress.kubernetes.io/service.serversscheme";
const TRAEFIK_TRANSPORT: &str = "traefik.ingress.kubernetes.io/service.serverstransport";

/// The ConfigMap with the CAs nodes trust (key `ca.crt`) that a proxy verifying the registry
/// reads: through a Gateway's HTTPS listener, or behind Traefik with its CRDs. None otherwise.
pub fn backend_ca(plan: &Plan, trust_pem: &str) -> Option<ConfigMap> {
    let through_gateway = plan
        .gateway
        .as_ref()
        .is_some_and(|g| g.mode == crate::plan::GatewayMode::Https);
    let through_traefik = plan.ingress.as_ref().is_some_and(|i| i.servers_transport);
    (through_gateway || through_traefik).then(|| {
        let data = BTreeMap::from([("ca.crt".to_string(), trust_pem.to_string())]);
        configmap(&plan.namespace, BACKEND_CA, data)
    })
}

/// `--expose ingress` behind Traefik with its CRDs: the `traefik.io/v1alpha1` ServersTransport
/// the Service names (as `NAMESPACE-NAME@kubernetescrd`, Traefik's default naming), which has
/// Traefik verify the registry's certificate against [`BACKEND_CA`] for `host` (the name the
/// certificate carries; Traefik dials the pod IP). None otherwise.
pub fn servers_transport(plan: &Plan, host: &str) -> Option<serde_json::Value> {
    plan.ingress.as_ref().filter(|i| i.servers_transport)?;
    Some(serde_json::json!({
        "apiVersion": TRAEFIK_API,
        "kind": "ServersTransport",
        "metadata": {
            "name": names::REGISTRY,
            "namespace": plan.namespace,
            "labels": {
                names::MANAGED_BY.0: names::MANAGED_BY.1,
                "app.kubernetes.io/name": names::REGISTRY,
            },
        },
        "spec": {
            "serverName": host,
            "rootCAs": [{"configMap": BACKEND_CA}],
        },
    }))
}

/// `--expose gateway`: kreg's route on the chosen Gateway: a TLSRoute through a Passthrough
/// listener; through an HTTPS listener, the BackendTLSPolicy that makes the Gateway speak TLS
/// to the registry and verify its certificate against kreg's CA for `host`, then the
/// HTTPRoute. JSON: the typed Kubernetes crate has no Gateway API types. Empty for every other
/// exposure.
pub fn gateway_routes(plan: &Plan, host: &str) -> Vec<serde_json::Value> {
    use crate::plan::GatewayMode;
    let Some(g) = &plan.gateway else {
        return vec![];
    };
    let meta = serde_json::json!({
        "name": names::REGISTRY,
        "namespace": plan.namespace,
        "labels": {
            names::MANAGED_BY.0: names::MANAGED_BY.1,
            "app.kubernetes.io/name": names::REGISTRY,
        },
    });
    let parent = serde_json::json!([{
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "namespace": g.namespace,
        "name": g.name,
        "sectionName": g.listener,
    }]);
    let backend = serde_json::json!([{"name": names::REGISTRY, "port": 443}]);
    match g.mode {
        GatewayMode::TlsPassthrough => vec![serde_json::json!({
            "apiVersion": GATEWAY_API,
            "kind": "TLSRoute",
            "metadata": meta,
            "spec": {
                "parentRefs": parent,
                "hostnames": [host],
                "rules": [{"backendRefs": backend}],
            },
        })],
        GatewayMode::Https => vec![
            serde_json::json!({
                "apiVersion": GATEWAY_API,
                "kind": "BackendTLSPolicy",
                "metadata": meta,
                "spec": {
                    "targetRefs": [{"group": "", "kind": "Service", "name": names::REGISTRY}],
                    "validation": {
                        "caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": BACKEND_CA}],
                        "hostname": host,
                    },
                },
            }),
            serde_json::json!({
                "apiVersion": GATEWAY_API,
                "kind": "HTTPRoute",
                "metadata": meta,
                "spec": {
                    "parentRefs": parent,
                    "hostnames": [host],
                    "rules": [{
                        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                        "backendRefs": backend,
                        // A layer push is one long request: "0s" turns the Gateway's request
                        // timeouts off (Gateway API: a zero duration disables the timeout).
                        "timeouts": {"request": "0s", "backendRequest": "0s"},
                    }],
                },
            }),
        ],
    }
}

pub fn configmap(namespace: &str, name: &str, data: BTreeMap<String, String>) -> ConfigMap {
    let mut cm: ConfigMap = parse("configmap.yaml", CONFIGMAP);
    cm.metadata.name = Some(name.into());
    cm.metadata.namespace = Some(namespace.into());
    cm.data = Some(data);
    cm
}

/// `--issuer`: the cert-manager Certificate for the registry's serving certificate.
pub const CERTIFICATE: &str = "kreg-registry";
/// The serving certificate's lifetime and when cert-manager renews it: as kreg's own leaf
/// ([`crate::install::tls::LEAF_RENEW_BEFORE`]).
const CERT_DURATION: &str = "8760h";
const CERT_RENEW_BEFORE: &str = "720h";

/// `--issuer`: the `cert-manager.io/v1` Certificate that has the issuer sign the registry's
/// serving certificate into Secret `kreg-tls` (the one the Deployment mounts), for the
/// endpoint's name and IPs. Written complete, with every field cert-manager's webhook would
/// default, so that it is valid on a cluster without the webhook too: an ECDSA P-256 key,
/// rotated at each renewal, usages for a TLS server.
pub fn certificate(
    namespace: &str,
    issuer: &crate::plan::IssuerRef,
    endpoint: &Endpoint,
) -> serde_json::Value {
    let mut dns = vec![];
    let mut ips: Vec<String> = endpoint.ips.iter().map(|ip| ip.to_string()).collect();
    match endpoint.host.parse::<std::net::IpAddr>() {
        Ok(ip) if !ips.contains(&ip.to_string()) => ips.insert(0, ip.to_string()),
        Ok(_) => {}
        Err(_) => dns.push(endpoint.host.clone()),
    }
    let managed = serde_json::json!({ names::MANAGED_BY.0: names::MANAGED_BY.1 });
    let mut spec = serde_json::json!({
        "secretName": names::TLS_SECRET,
        "secretTemplate": { "labels": managed.clone() },
        "duration": CERT_DURATION,
        "renewBefore": CERT_RENEW_BEFORE,
        "privateKey": { "algorithm": "ECDSA", "size": 256, "encoding": "PKCS8", "rotationPolicy": "Always" },
        "usages": ["digital signature", "key encipherment", "server auth"],
        "issuerRef": {
            "group": "cert-manager.io",
            "kind": issuer.kind.as_str(),
            "name": issuer.name,
        },
    });
    if !dns.is_empty() {
        spec["dnsNames"] = dns.into();
    }
    if !ips.is_empty() {
        spec["ipAddresses"] = ips.into();
    }
    serde_json::json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {
            "name": CERTIFICATE,
            "namespace": namespace,
            "labels": managed,
        },
        "spec": spec,
    })
}

/// What the node agents are told; everything they write on nodes derives from it.
#[derive(Debug, Clone)]
pub struct NodeAgent<'a> {
    /// `host[:port]` the images are tagged with.
    pub registry: &'a str,
    /// `IP:port` nodes connect to (no DNS needed), when the registry's address is an IP.
    pub dial: Option<String>,
    pub ca_pem: &'a str,
    /// `install` or `remove`.
    pub mode: &'a str,
    pub mirrors: &'a [NodeMirror],
    /// `REGISTRY/kreg/probe@sha256:…`, pulled by every node to prove trust.
    pub probe_image: Option<String>,
    /// Nodes whose runtime is never restarted (control-plane nodes, unless asked).
    pub restart_skip: Vec<String>,
    /// The Secret holding `username`/`password` for the probe pull (`--auth`).
    pub pull_secret: Option<&'a str>,
}

/// The node-trust DaemonSet: the agent image pinned by digest, its whole input in env.
/// `kreg render`'s Job that pushes the probe image (`up` pushes it itself). It reaches the
/// registry through its Service's ClusterIP, from the variables Kubernetes sets for Services
/// in the Pod's namespace (no DNS needed), and checks the certificate against `registry`'s
/// name with the CA from the serving Secret; with `--auth` it is the push user.
pub fn probe_push_job(plan: &Plan, registry: &str) -> Job {
    let mut job: Job = parse("probe-push-job.yaml", PROBE_PUSH_JOB);
    job.metadata.namespace = Some(plan.namespace.clone());
    let pod = job
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .expect("pod spec");
    let c = &mut pod.containers[0];
    c.image = Some(plan.agent_image.clone());
    let env = c.env.get_or_insert_with(Vec::new);
    env.clear();
    env.push(plain("KREG_REGISTRY", registry));
    if plan.expose == Expose::Localhost {
        env.push(plain("KREG_SCHEME", "http"));
    } else {
        env.push(from_secret("KREG_CA_PEM", names::TLS_SECRET, "ca.crt"));
    }
    if plan.auth {
        env.push(from_secret(
            "KREG_PUSH_USERNAME",
            names::AUTH_SECRET,
            "username",
        ));
        env.push(from_secret(
            "KREG_PUSH_PASSWORD",
            names::AUTH_SECRET,
            "password",
        ));
    }
    job
}

pub fn node_trust(plan: &Plan, agent: &NodeAgent) -> DaemonSet {
    let mirrors: Vec<crate::node::agent::MirrorSpec> = agent
        .mirrors
        .iter()
        .map(|m| crate::node::agent::MirrorSpec {
            upstream: m.mirror.upstream.clone(),
            url: m.mirror.url.clone(),
            address: m.address.clone(),
        })
        .collect();
    let mut ds: DaemonSet = parse("node-trust-daemonset.yaml", NODE_TRUST_DS);
    ds.metadata.namespace = Some(plan.namespace.clone());
    let pod = ds.spec.template.spec.as_mut().expect("pod spec");
    let c = &mut pod.containers[0];
    c.image = Some(plan.agent_image.clone());
    let env = c.env.as_mut().expect("ds env");
    for e in env.iter_mut() {
        match e.name.as_str() {
            "KREG_REGISTRY" => e.value = Some(agent.registry.into()),
            "KREG_MODE" => e.value = Some(agent.mode.into()),
            "KREG_ALLOW_RESTART" => e.value = Some(plan.allow_runtime_restart.to_string()),
            _ => {}
        }
    }
    env.push(plain("KREG_INSTALL", &plan.namespace));
    env.push(plain("KREG_CA_PEM", agent.ca_pem));
    if plan.expose == Expose::Localhost {
        env.push(plain("KREG_SCHEME", "http"));
    }
    if let Some(d) = &agent.dial {
        env.push(plain("KREG_DIAL", d));
    }
    if !mirrors.is_empty() {
        env.push(plain(
            "KREG_MIRRORS",
            &serde_json::to_string(&mirrors).expect("json"),
        ));
    }
    if let Some(p) = &agent.probe_image {
        env.push(plain("KREG_PROBE_IMAGE", p));
    }
    if !agent.restart_skip.is_empty() {
        env.push(plain("KREG_RESTART_SKIP", &agent.restart_skip.join(",")));
    }
    if let Some(secret) = agent.pull_secret {
        // The pull user: an agent reads the probe image and can change nothing.
        env.push(from_secret("KREG_PULL_USERNAME", secret, "pull-username"));
        env.push(from_secret("KREG_PULL_PASSWORD", secret, "pull-password"));
    }
    if plan.allow_runtime_restart {
        // Restarts take turns through a Lease: the only API access the agent ever has.
        pod.service_account_name = Some(names::NODE_TRUST.into());
        pod.automount_service_account_token = Some(true);
        pod.containers[0]
            .env
            .get_or_insert_with(Vec::new)
            .push(plain("KREG_RESTART_LEASE", "true"));
    }
    ds
}

/// A ServiceAccount, its Role and the binding between them, all named `name`, in `namespace`.
pub struct Identity {
    pub service_account: k8s_openapi::api::core::v1::ServiceAccount,
    pub role: k8s_openapi::api::rbac::v1::Role,
    pub binding: k8s_openapi::api::rbac::v1::RoleBinding,
}

/// Binds `role` (rendered from an embedded manifest) to a ServiceAccount of the same name.
pub fn identity(
    namespace: &str,
    name: &str,
    mut role: k8s_openapi::api::rbac::v1::Role,
) -> Identity {
    use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
    let meta = || k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(name.into()),
        namespace: Some(namespace.into()),
        labels: Some(
            [(
                names::MANAGED_BY.0.to_string(),
                names::MANAGED_BY.1.to_string(),
            )]
            .into(),
        ),
        ..Default::default()
    };
    role.metadata.namespace = Some(namespace.into());
    Identity {
        service_account: k8s_openapi::api::core::v1::ServiceAccount {
            metadata: meta(),
            ..Default::default()
        },
        role,
        binding: RoleBinding {
            metadata: meta(),
            role_ref: RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "Role".into(),
                name: name.into(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: name.into(),
                namespace: Some(namespace.into()),
                ..Default::default()
            }]),
        },
    }
}

/// The node agents' identity with `--allow-runtime-restart`: the restart Lease and nothing else.
pub fn node_trust_identity(plan: &Plan) -> Identity {
    identity(
        &plan.namespace,
        names::NODE_TRUST,
        parse("node-trust-rbac.yaml", NODE_TRUST_RBAC),
    )
}

/// Nodes the node-trust DaemonSet does not run on (its nodeSelector and affinity), named with
/// why: virtual-kubelet nodes (no container runtime) and non-Linux nodes. From the nodes kreg
/// read (the first page on big clusters).
pub fn nodes_without_agent(nodes: &[crate::detect::NodeFacts]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| {
            let label = |k: &str| n.labels.get(k).map(String::as_str);
            if label("type") == Some("virtual-kubelet") {
                Some(format!("{} (virtual-kubelet)", n.name))
            } else if label("kubernetes.io/os").is_some_and(|os| os != "linux") {
                Some(format!(
                    "{} ({})",
                    n.name,
                    label("kubernetes.io/os").unwrap_or("")
                ))
            } else {
                None
            }
        })
        .collect()
}

/// The nodes whose runtime `--allow-runtime-restart` leaves alone: control-plane nodes
/// (their runtime runs the API server), unless `--restart-control-plane`.
pub fn restart_skip(
    nodes: &[crate::detect::NodeFacts],
    include_control_plane: bool,
) -> Vec<String> {
    if include_control_plane {
        return vec![];
    }
    nodes
        .iter()
        .filter(|n| {
            n.labels
                .contains_key("node-role.kubernetes.io/control-plane")
                || n.labels.contains_key("node-role.kubernetes.io/master")
        })
        .map(|n| n.name.clone())
        .collect()
}

/// A namespace with every label of [`namespace`] (managed-by kreg and the Pod Security
/// labels): one this version of kreg created. Earlier versions labelled namespaces they found
/// with managed-by only, so that label alone proves nothing.
pub fn created_by_this_kreg(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> bool {
    let labels = meta.labels.clone().unwrap_or_default();
    let ours = parse::<Namespace>("namespace.yaml", NAMESPACE)
        .metadata
        .labels
        .unwrap_or_default();
    ours.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Why a namespace's Pod Security labels would reject the privileged node agent, if they do:
/// `enforce` set to `baseline` or `restricted` (no label: the cluster's default applies, which
/// kreg cannot read; the DaemonSet's events then say so).
pub fn pod_security_blocks_agent(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<String> {
    let level = meta
        .labels
        .as_ref()?
        .get("pod-security.kubernetes.io/enforce")?;
    matches!(level.as_str(), "baseline" | "restricted").then(|| {
        format!(
            "namespace {} enforces Pod Security `{level}`, which rejects kreg's privileged node agent",
            meta.name.as_deref().unwrap_or("?")
        )
    })
}

/// What `--dry-run` shows of a Secret `up` would write: its name, type and keys, each value
/// replaced by a marker (the contents are made during `up` and never printed).
pub fn placeholder_secret(namespace: &str, name: &str, type_: &str, keys: &[&str]) -> Secret {
    let data: Vec<(&str, &[u8])> = keys.iter().map(|k| (*k, &b""[..])).collect();
    redacted(secret(namespace, name, type_, &data))
}

/// A Secret with its data replaced by a marker, for `--dry-run` output.
pub fn redacted(mut s: Secret) -> Secret {
    if let Some(d) = s.data.as_mut() {
        for v in d.values_mut() {
            *v = ByteString(b"<redacted>".to_vec());
        }
    }
    s
}

/// Pod-template annotation carrying the users' htpasswd hash: the gate reads the files at
/// start, so a new password must restart the pod.
pub const AUTH_HASH_ANNOTATION: &str = "kreg.dev/auth-sha256";

/// The registry gate's port on the pod's loopback, where the registry listens with `--auth`.
const GATE_UPSTREAM: &str = "127.0.0.1:5001";

/// `--auth`: the registry moves to the pod's loopback (plain HTTP, no credentials: nothing
/// but the gate can reach it) and kreg's registry gate takes its port, certificate and probes.
/// The gate checks every request against the two htpasswd lines of Secret `kreg-auth` (mounted
/// read-only; only those keys, never a password): the push user may do everything, the pull
/// user only read. Distribution's own htpasswd check cannot make that difference.
pub fn with_auth(d: &mut Deployment, users_sha256: &str, gate_image: &str) {
    let template = &mut d.spec.template;
    template
        .metadata
        .get_or_insert_with(Default::default)
        .annotations
        .get_or_insert_with(Default::default)
        .insert(AUTH_HASH_ANNOTATION.into(), users_sha256.into());
    let pod = template
        .spec
        .as_mut()
        .expect("deployment.yaml has a pod spec");
    let key = |k: &str| k8s_openapi::api::core::v1::KeyToPath {
        key: k.into(),
        path: k.into(),
        ..Default::default()
    };
    pod.volumes.get_or_insert_with(Vec::new).push(Volume {
        name: "auth".into(),
        secret: Some(k8s_openapi::api::core::v1::SecretVolumeSource {
            secret_name: Some(names::AUTH_SECRET.into()),
            items: Some(vec![key("htpasswd"), key("pull-htpasswd")]),
            ..Default::default()
        }),
        ..Default::default()
    });
    let registry = &mut pod.containers[0];
    let env = registry.env.get_or_insert_with(Vec::new);
    env.retain(|e| !e.name.starts_with("REGISTRY_HTTP_TLS_") && e.name != "REGISTRY_HTTP_ADDR");
    env.extend([
        plain("REGISTRY_HTTP_ADDR", GATE_UPSTREAM),
        // Upload locations relative to the request: the client's scheme and host stay.
        plain("REGISTRY_HTTP_RELATIVEURLS", "true"),
    ]);
    registry
        .volume_mounts
        .get_or_insert_with(Vec::new)
        .retain(|m| m.name != "certs");
    let mount = |name: &str, path: &str| k8s_openapi::api::core::v1::VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..Default::default()
    };
    let gate = Container {
        name: "gate".into(),
        image: Some(gate_image.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["/usr/local/bin/kreg".into(), "registry-gate".into()]),
        env: Some(vec![plain("KREG_GATE_UPSTREAM", GATE_UPSTREAM)]),
        // The registry container keeps its port declaration and probes: in the pod's network
        // they reach the gate on 5000, which passes the health check `GET /` to the registry,
        // so they check both. Moving them here would make a server-side apply over an
        // installation without `--auth` leave the registry container half a probe (the
        // defaulted fields nobody owns) and fail validation.
        liveness_probe: registry.liveness_probe.clone().map(|mut p| {
            // By number: a named port resolves in the probed container's own declarations.
            let port = k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(5000);
            if let Some(get) = p.http_get.as_mut() {
                get.port = port.clone();
            }
            if let Some(tcp) = p.tcp_socket.as_mut() {
                tcp.port = port;
            }
            p
        }),
        resources: Some(k8s_openapi::api::core::v1::ResourceRequirements {
            requests: Some(
                [
                    ("cpu".to_string(), Quantity("20m".into())),
                    ("memory".to_string(), Quantity("16Mi".into())),
                ]
                .into(),
            ),
            ..Default::default()
        }),
        volume_mounts: Some(vec![mount("certs", "/certs"), mount("auth", "/auth")]),
        // It reads two mounted files and holds one port above 1024: no privilege at all.
        security_context: Some(k8s_openapi::api::core::v1::SecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(65534),
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(k8s_openapi::api::core::v1::Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    pod.containers.push(gate);
}

/// The `kubernetes.io/dockerconfigjson` Secret `--pull-secret-namespaces` puts in `namespace`.
pub fn pull_secret(namespace: &str, registry: &str, creds: &crate::auth::Credentials) -> Secret {
    secret(
        namespace,
        names::PULL_SECRET,
        "kubernetes.io/dockerconfigjson",
        &[(
            ".dockerconfigjson",
            creds.dockerconfigjson(registry).as_bytes(),
        )],
    )
}

/// The content of KEP-1755's `localRegistryHosting.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hosting {
    /// Where developers' tools push from outside the cluster.
    pub host: String,
    /// The name the nodes' container runtime pulls by.
    pub host_from_container_runtime: String,
    /// The name pods (in-cluster builders) reach it by.
    pub host_from_cluster_network: String,
    pub help: String,
}

/// What tools read: the registry's name from outside, from the nodes and from pods.
pub fn hosting(expose: Expose, endpoint: &Endpoint, namespace: &str) -> Hosting {
    let registry = endpoint.registry();
    let cluster_ip = endpoint.ips.iter().find(|ip| !ip.is_loopback());
    let from_pods = if let (Expose::LocalhostTls, Some(ip)) = (expose, cluster_ip) {
        // localhost on a pod is the pod itself: pods use the ClusterIP the certificate names.
        std::net::SocketAddr::new(*ip, names::CONTAINER_PORT as u16).to_string()
    } else if expose.is_localhost() {
        // localhost on a pod is the pod itself: pods use the Service.
        format!(
            "{}.{namespace}.svc:{}",
            names::REGISTRY,
            names::CONTAINER_PORT
        )
    } else {
        // LoadBalancer, NodePort and Ingress addresses are reachable from pods as well, and
        // the serving certificate names them.
        registry.clone()
    };
    Hosting {
        host: registry.clone(),
        host_from_container_runtime: registry.clone(),
        host_from_cluster_network: from_pods,
        help: format!(
            "kreg registry {registry}: run `kreg trust-local` once to trust its CA, then push to {registry}/<name>:<tag>; `kreg status` shows its health"
        ),
    }
}

/// `kube-public/local-registry-hosting`.
pub fn local_registry_hosting(h: &Hosting) -> Result<ConfigMap> {
    let mut cm: ConfigMap = parse("local-registry-hosting.yaml", HOSTING);
    let text = serde_yaml_ng::to_string(h).context("serializing localRegistryHosting.v1")?;
    cm.data = Some(BTreeMap::from([(
        "localRegistryHosting.v1".to_string(),
        text,
    )]));
    Ok(cm)
}

/// Serializes objects as a kubectl-style multi-document YAML stream.
pub fn to_yaml_stream<T: Serialize>(objects: &[T]) -> Result<String> {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(o).context("serializing a manifest")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosting_ep() -> Endpoint {
        Endpoint {
            host: "registry.10.0.0.9.nip.io".into(),
            port: 443,
            ips: vec!["10.0.0.9".parse().unwrap()],
        }
    }

    #[test]
    fn every_party_uses_the_tls_name_except_pods_in_localhost_mode() {
        let h = hosting(Expose::LoadBalancer, &hosting_ep(), "kreg-system");
        assert_eq!(h.host, hosting_ep().registry());
        assert_eq!(h.host_from_container_runtime, hosting_ep().registry());
        assert_eq!(h.host_from_cluster_network, hosting_ep().registry());
        let local = Endpoint {
            host: "localhost".into(),
            port: 30500,
            ips: vec![],
        };
        let h = hosting(Expose::Localhost, &local, "kreg-system");
        assert_eq!(h.host_from_container_runtime, "localhost:30500");
        assert_eq!(
            h.host_from_cluster_network,
            "kreg-registry.kreg-system.svc:5000"
        );
        // Over TLS, pods use the ClusterIP the certificate names (not the Service's DNS name).
        let tls = Endpoint {
            host: "localhost".into(),
            port: 30500,
            ips: vec![
                "127.0.0.1".parse().unwrap(),
                "::1".parse().unwrap(),
                "10.96.0.20".parse().unwrap(),
            ],
        };
        let h = hosting(Expose::LocalhostTls, &tls, "kreg-system");
        assert_eq!(h.host, "localhost:30500");
        assert_eq!(h.host_from_cluster_network, "10.96.0.20:5000");
    }

    /// `localhost-tls` keeps what plain `localhost` strips: the certificate, HTTPS probes, and
    /// nodes speaking TLS.
    #[test]
    fn localhost_tls_serves_tls_and_nodes_speak_it() {
        for (expose, tls) in [(Expose::Localhost, false), (Expose::LocalhostTls, true)] {
            let p = plan(expose, Storage::EmptyDir);
            let d = serde_json::to_string(&deployment(&p, "sha")).unwrap();
            assert_eq!(d.contains("REGISTRY_HTTP_TLS_CERTIFICATE"), tls, "{expose}");
            assert_eq!(d.contains("\"HTTPS\""), tls, "{expose}: probe scheme");
            let ds = serde_json::to_string(&node_trust(&p, &sample_agent(&[]))).unwrap();
            assert_eq!(ds.contains("KREG_SCHEME"), !tls, "{expose}");
            let svc = service(&p).spec.unwrap();
            assert_eq!(svc.type_.as_deref(), Some("NodePort"), "{expose}");
        }
    }

    fn plan(expose: Expose, storage: Storage) -> Plan {
        crate::plan::sample(expose, storage)
    }

    fn sample_agent(mirrors: &[NodeMirror]) -> NodeAgent<'_> {
        NodeAgent {
            registry: "registry.10.0.0.2.nip.io:31000",
            dial: Some("10.0.0.2:31000".into()),
            ca_pem: "-----CA-----",
            mode: "install",
            mirrors,
            probe_image: Some(format!(
                "registry.10.0.0.2.nip.io:31000/kreg/probe@{}",
                crate::node::probe::build().digest()
            )),
            restart_skip: vec!["cp-1".into()],
            pull_secret: None,
        }
    }

    #[test]
    fn the_agent_runs_kreg_from_a_pinned_image_on_linux_nodes_with_no_configmap() {
        let p = plan(Expose::NodePort, pvc_storage());
        let ds = node_trust(&p, &sample_agent(&[]));
        let pod = ds.spec.template.spec.unwrap();
        let c = &pod.containers[0];
        assert!(c.image.as_deref().unwrap().contains("@sha256:"));
        assert_eq!(c.command.as_ref().unwrap()[1], "node-agent");
        assert!(pod.volumes.is_none(), "nothing editable is mounted");
        assert_eq!(pod.node_selector.unwrap()["kubernetes.io/os"], "linux");
        let env = c.env.as_ref().unwrap();
        let get = |n: &str| {
            env.iter()
                .find(|e| e.name == n)
                .and_then(|e| e.value.clone())
        };
        assert_eq!(get("KREG_CA_PEM").as_deref(), Some("-----CA-----"));
        assert_eq!(get("KREG_DIAL").as_deref(), Some("10.0.0.2:31000"));
        assert_eq!(get("KREG_RESTART_SKIP").as_deref(), Some("cp-1"));
    }

    #[test]
    fn control_plane_nodes_are_skipped_unless_asked() {
        let node = |name: &str, role: Option<&str>| crate::detect::NodeFacts {
            name: name.into(),
            labels: role
                .map(|r| [(format!("node-role.kubernetes.io/{r}"), String::new())].into())
                .unwrap_or_default(),
            ..Default::default()
        };
        let nodes = [
            node("a", Some("control-plane")),
            node("b", None),
            node("c", Some("master")),
        ];
        assert_eq!(restart_skip(&nodes, false), ["a", "c"]);
        assert!(restart_skip(&nodes, true).is_empty());
        let with = |name: &str, k: &str, v: &str| crate::detect::NodeFacts {
            name: name.into(),
            labels: [(k.to_string(), v.to_string())].into(),
            ..Default::default()
        };
        assert_eq!(
            nodes_without_agent(&[
                with("vk", "type", "virtual-kubelet"),
                with("win", "kubernetes.io/os", "windows"),
                with("lin", "kubernetes.io/os", "linux"),
            ]),
            ["vk (virtual-kubelet)", "win (windows)"]
        );
    }

    fn hub() -> Mirror {
        Mirror::new(
            "docker.io",
            "https://registry-1.docker.io",
            Some("hub-login".into()),
        )
    }

    #[test]
    fn mirror_snapshot() {
        let p = plan(Expose::NodePort, pvc_storage());
        let m = NodeMirror {
            mirror: hub(),
            address: "10.96.0.50".into(),
        };
        let ds = node_trust(&p, &sample_agent(std::slice::from_ref(&m)));
        let docs = [
            serde_json::to_value(mirror_pvc(&p, &hub()).unwrap()).unwrap(),
            serde_json::to_value(mirror_service(&p, &hub())).unwrap(),
            serde_json::to_value(mirror_deployment(&p, &hub(), "abc123")).unwrap(),
            serde_json::to_value(ds).unwrap(),
        ];
        insta::assert_yaml_snapshot!("mirror_docker_io", docs);
    }

    #[test]
    fn mirror_policy_snapshot() {
        let ips: Vec<std::net::IpAddr> = ["10.0.0.12", "fd00:10::12", "10.0.0.11", "10.0.0.12"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        insta::assert_yaml_snapshot!(
            "mirror_network_policy",
            mirror_network_policy("kreg-system", &ips)
        );
    }

    #[test]
    fn the_mirror_policy_admits_each_node_address_and_nothing_else() {
        let ips: Vec<std::net::IpAddr> = vec![
            "10.0.0.12".parse().unwrap(),
            "fd00:10::12".parse().unwrap(),
            "10.0.0.11".parse().unwrap(),
            "10.0.0.11".parse().unwrap(),
        ];
        let np = mirror_network_policy("team", &ips);
        assert_eq!(np.metadata.name.as_deref(), Some(names::MIRROR_POLICY));
        assert_eq!(np.metadata.namespace.as_deref(), Some("team"));
        let spec = np.spec.unwrap();
        // Every cache pod carries the role label; the registry's own pods do not.
        let sel = spec.pod_selector.unwrap().match_labels.unwrap();
        let p = plan(Expose::NodePort, pvc_storage());
        let cache_pod = mirror_deployment(&p, &hub(), "x")
            .spec
            .template
            .metadata
            .unwrap();
        let registry_pod = deployment(&p, "x").spec.template.metadata.unwrap();
        for (k, v) in &sel {
            assert_eq!(cache_pod.labels.as_ref().unwrap().get(k), Some(v));
            assert_ne!(registry_pod.labels.as_ref().unwrap().get(k), Some(v));
        }
        assert_eq!(spec.policy_types.unwrap(), ["Ingress"]);
        let rules = spec.ingress.unwrap();
        assert_eq!(rules.len(), 1);
        let cidrs: Vec<String> = rules[0]
            .from
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| {
                assert!(p.pod_selector.is_none() && p.namespace_selector.is_none());
                p.ip_block.as_ref().unwrap().cidr.clone()
            })
            .collect();
        assert_eq!(cidrs, ["10.0.0.11/32", "10.0.0.12/32", "fd00:10::12/128"]);
        let port = &rules[0].ports.as_ref().unwrap()[0];
        assert_eq!(port.port, Some(IntOrString::String("https".into())));

        // No node address: no rule. An empty `from` would admit every source.
        let none = mirror_network_policy("team", &[]).spec.unwrap();
        assert_eq!(none.ingress, Some(vec![]));
        assert_eq!(none.policy_types.unwrap(), ["Ingress"]);
    }

    #[test]
    fn a_mirror_never_selects_or_shares_the_registry() {
        for expose in [Expose::NodePort, Expose::Localhost] {
            let p = plan(expose, pvc_storage());
            let d = mirror_deployment(&p, &hub(), "x");
            let sel = d.spec.selector.match_labels.clone().unwrap();
            assert_eq!(sel["app.kubernetes.io/name"], "kreg-mirror-docker-io");
            assert_eq!(
                mirror_service(&p, &hub()).spec.unwrap().selector.unwrap(),
                sel
            );
            let pod = d.spec.template.spec.unwrap();
            let env = pod.containers[0].env.clone().unwrap();
            let get = |n: &str| env.iter().find(|e| e.name == n).cloned();
            assert_eq!(
                get("REGISTRY_PROXY_REMOTEURL").unwrap().value.as_deref(),
                Some("https://registry-1.docker.io")
            );
            // Always TLS, even when the registry itself is plain HTTP on localhost.
            assert!(get("REGISTRY_HTTP_TLS_CERTIFICATE").is_some(), "{expose}");
            let pw = get("REGISTRY_PROXY_PASSWORD").unwrap();
            assert!(
                pw.value.is_none(),
                "a credential must never be a literal value"
            );
            let vols = pod.volumes.unwrap();
            let names: Vec<String> = vols
                .iter()
                .filter_map(|v| {
                    v.secret
                        .as_ref()
                        .and_then(|s| s.secret_name.clone())
                        .or_else(|| {
                            v.persistent_volume_claim
                                .as_ref()
                                .map(|c| c.claim_name.clone())
                        })
                })
                .collect();
            assert_eq!(
                names,
                ["kreg-mirror-docker-io-tls", "kreg-mirror-docker-io"]
            );
        }
        let empty = plan(Expose::NodePort, Storage::EmptyDir);
        assert!(mirror_pvc(&empty, &hub()).is_none());
    }

    fn pvc_storage() -> Storage {
        Storage::Pvc {
            size: "20Gi".into(),
            class: Some("standard".into()),
        }
    }

    #[test]
    fn only_kreg_labelled_objects_count_as_kreg_managed() {
        let p = plan(Expose::LoadBalancer, pvc_storage());
        assert!(crate::plan::is_kreg_managed(&namespace(&p).metadata));
        let mut foreign = namespace(&p).metadata;
        foreign
            .labels
            .as_mut()
            .unwrap()
            .insert(names::MANAGED_BY.0.into(), "helm".into());
        assert!(!crate::plan::is_kreg_managed(&foreign));
        assert!(!crate::plan::is_kreg_managed(&Default::default()));
    }

    #[test]
    fn every_embedded_manifest_parses_and_carries_managed_by() {
        let p = plan(Expose::LoadBalancer, pvc_storage());
        let labels = [
            namespace(&p).metadata.labels,
            pvc(&p).unwrap().metadata.labels,
            service(&p).metadata.labels,
            deployment(&p, "x").metadata.labels,
            ingress(&p, "r.example").unwrap().metadata.labels,
            secret("ns", "s", "Opaque", &[]).metadata.labels,
            node_trust(&p, &sample_agent(&[])).metadata.labels,
            mirror_service(&p, &hub()).metadata.labels,
            mirror_deployment(&p, &hub(), "x").metadata.labels,
            mirror_pvc(&p, &hub()).unwrap().metadata.labels,
            mirror_network_policy("ns", &[]).metadata.labels,
        ];
        for l in labels {
            assert_eq!(
                l.unwrap()
                    .get("app.kubernetes.io/managed-by")
                    .map(String::as_str),
                Some("kreg")
            );
        }
    }

    #[test]
    fn rendered_objects_snapshot() {
        let p = plan(Expose::NodePort, pvc_storage());
        let ds = node_trust(&p, &sample_agent(&[]));
        let docs = [
            serde_json::to_value(namespace(&p)).unwrap(),
            serde_json::to_value(pvc(&p).unwrap()).unwrap(),
            serde_json::to_value(service(&p)).unwrap(),
            serde_json::to_value(deployment(&p, "abc123")).unwrap(),
            serde_json::to_value(ds).unwrap(),
        ];
        insta::assert_yaml_snapshot!("nodeport_pvc", docs);
    }

    #[test]
    fn load_balancer_and_s3_snapshot() {
        let mut p = plan(
            Expose::LoadBalancer,
            Storage::S3 {
                bucket: "images".into(),
                region: "eu-west-1".into(),
                endpoint: Some("https://minio.example:9000".into()),
                secret: "s3-creds".into(),
            },
        );
        p.replicas = 3;
        let docs = [
            serde_json::to_value(service(&p)).unwrap(),
            serde_json::to_value(deployment(&p, "abc123")).unwrap(),
            serde_json::to_value(ingress(&p, "registry.example.com").unwrap()).unwrap(),
        ];
        insta::assert_yaml_snapshot!("loadbalancer_s3", docs);
    }

    /// Behind Traefik the backend's scheme and transport are on the Service (Traefik reads
    /// `service.*` there); the ServersTransport verifies against kreg's CA for the host.
    #[test]
    fn traefik_ingress_snapshot() {
        use crate::plan::IngressChoice;
        let mut docs = vec![];
        for crds in [true, false] {
            let mut p = plan(Expose::Ingress, pvc_storage());
            p.host = Some("registry.example.test".into());
            p.ingress = Some(IngressChoice {
                class: "traefik".into(),
                controller: IngressController::Traefik,
                servers_transport: crds,
            });
            let svc = service(&p);
            let notes = svc.metadata.annotations.clone().unwrap_or_default();
            assert_eq!(notes.contains_key(TRAEFIK_TRANSPORT), crds, "{notes:?}");
            assert_eq!(notes.get(TRAEFIK_SCHEME).map(String::as_str), Some("https"));
            assert_eq!(servers_transport(&p, "x").is_some(), crds);
            assert_eq!(backend_ca(&p, "x").is_some(), crds);
            if crds {
                docs.push(serde_json::to_value(svc).unwrap());
                docs.push(serde_json::to_value(ingress(&p, "registry.example.test")).unwrap());
                docs.push(
                    serde_json::to_value(backend_ca(&p, "-----BEGIN CERTIFICATE-----")).unwrap(),
                );
                docs.extend(servers_transport(&p, "registry.example.test"));
            }
        }
        insta::assert_yaml_snapshot!("traefik_ingress", docs);
        // Another controller: no Traefik annotation on the Service.
        let p = plan(Expose::Ingress, pvc_storage());
        assert!(service(&p).metadata.annotations.is_none());
    }

    #[test]
    fn gateway_routes_snapshot() {
        use crate::plan::{GatewayChoice, GatewayMode};
        let mut docs = vec![];
        for (mode, listener) in [
            (GatewayMode::TlsPassthrough, "tls"),
            (GatewayMode::Https, "https"),
        ] {
            let mut p = plan(Expose::Gateway, pvc_storage());
            p.host = Some("registry.example.test".into());
            p.gateway = Some(GatewayChoice {
                namespace: "infra".into(),
                name: "public".into(),
                listener: listener.into(),
                port: 443,
                mode,
                address: None,
            });
            assert_eq!(
                service(&p).spec.unwrap().type_.as_deref(),
                Some("ClusterIP")
            );
            if let Some(ca) = backend_ca(&p, "-----BEGIN CERTIFICATE-----") {
                docs.push(serde_json::to_value(ca).unwrap());
            }
            docs.extend(gateway_routes(&p, "registry.example.test"));
        }
        let kinds: Vec<_> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["TLSRoute", "ConfigMap", "BackendTLSPolicy", "HTTPRoute"]
        );
        insta::assert_yaml_snapshot!("gateway_routes", docs);
        let none = plan(Expose::LoadBalancer, pvc_storage());
        assert!(gateway_routes(&none, "x").is_empty() && backend_ca(&none, "x").is_none());
    }

    #[test]
    fn cloud_load_balancer_services_snapshot() {
        use crate::detect::Flavor;
        let mut docs = Vec::new();
        for flavor in [Flavor::Eks, Flavor::Aks, Flavor::Gke, Flavor::K3s] {
            let mut p = plan(Expose::LoadBalancer, pvc_storage());
            p.flavor = flavor;
            docs.push(serde_json::to_value(service(&p)).unwrap());
        }
        let mut p = plan(Expose::LoadBalancer, pvc_storage());
        p.flavor = Flavor::Eks;
        p.public = true;
        p.auth = true;
        p.lb_source_ranges = vec!["203.0.113.0/24".into(), "198.51.100.7/32".into()];
        docs.push(serde_json::to_value(service(&p)).unwrap());
        insta::assert_yaml_snapshot!("cloud_load_balancers", docs);
    }

    #[test]
    fn a_storage_outage_makes_the_registry_unready_but_never_restarts_it() {
        for storage in [
            pvc_storage(),
            Storage::S3 {
                bucket: "b".into(),
                region: "r".into(),
                endpoint: Some("http://garage.example:3900".into()),
                secret: "creds".into(),
            },
        ] {
            let mut d = deployment(&plan(Expose::NodePort, storage), "x");
            let c = &d.spec.template.spec.as_ref().unwrap().containers[0];
            // Readiness asks Distribution, whose `GET /` fails with its storage health check.
            let ready = c.readiness_probe.clone().unwrap();
            assert_eq!(ready.http_get.unwrap().path.as_deref(), Some("/"));
            // Liveness only asks whether the port accepts connections.
            let live = c.liveness_probe.clone().unwrap();
            assert!(live.http_get.is_none(), "{live:?}");
            assert_eq!(
                live.tcp_socket.unwrap().port,
                IntOrString::String("https".into())
            );
            // With --auth, the gate's liveness is its own port, by number.
            with_auth(&mut d, "x", "kreg-agent@sha256:42");
            let gate = &d.spec.template.spec.as_ref().unwrap().containers[1];
            let live = gate.liveness_probe.clone().unwrap();
            assert!(live.http_get.is_none(), "{live:?}");
            assert_eq!(live.tcp_socket.unwrap().port, IntOrString::Int(5000));
        }
    }

    #[test]
    fn replicas_prefer_different_nodes_and_one_replica_has_no_affinity() {
        let mut p = plan(
            Expose::LoadBalancer,
            Storage::S3 {
                bucket: "b".into(),
                region: "r".into(),
                endpoint: None,
                secret: "creds".into(),
            },
        );
        let affinity = |p: &Plan| deployment(p, "x").spec.template.spec.unwrap().affinity;
        assert_eq!(affinity(&p), None);
        p.replicas = 2;
        let anti = affinity(&p)
            .and_then(|a| a.pod_anti_affinity)
            .expect("replicas > 1 spread over nodes");
        assert!(anti
            .required_during_scheduling_ignored_during_execution
            .is_none());
        let term = &anti
            .preferred_during_scheduling_ignored_during_execution
            .unwrap()[0]
            .pod_affinity_term;
        assert_eq!(term.topology_key, "kubernetes.io/hostname");
        let selects = term.label_selector.clone().unwrap().match_labels.unwrap();
        // The registry's own pods, the label its Service selects.
        assert_eq!(selects["app.kubernetes.io/name"], names::REGISTRY);
        // A cache is one replica, whatever the registry's count.
        let cache = mirror_deployment(&p, &hub(), "x");
        assert_eq!(cache.spec.template.spec.unwrap().affinity, None);
    }

    #[test]
    fn s3_has_no_volume_and_credentials_come_from_the_secret() {
        let p = plan(
            Expose::LoadBalancer,
            Storage::S3 {
                bucket: "b".into(),
                region: "r".into(),
                endpoint: None,
                secret: "creds".into(),
            },
        );
        let d = deployment(&p, "x");
        let pod = d.spec.template.spec.unwrap();
        assert!(pod.volumes.unwrap().iter().all(|v| v.name != "data"));
        let env = pod.containers[0].env.clone().unwrap();
        let value = |name: &str| {
            env.iter()
                .find(|e| e.name == name)
                .and_then(|e| e.value.clone())
        };
        assert_eq!(
            value("REGISTRY_STORAGE_REDIRECT_DISABLE").as_deref(),
            Some("true"),
            "blobs are served by the registry, not by a redirect to the bucket"
        );
        let key = env
            .iter()
            .find(|e| e.name == "REGISTRY_STORAGE_S3_SECRETKEY")
            .unwrap();
        assert!(
            key.value.is_none(),
            "a credential must never be a literal value"
        );
        assert_eq!(
            key.value_from
                .as_ref()
                .unwrap()
                .secret_key_ref
                .as_ref()
                .unwrap()
                .name,
            "creds"
        );
    }

    #[test]
    fn emptydir_replaces_the_claim() {
        let d = deployment(&plan(Expose::NodePort, Storage::EmptyDir), "x");
        let vols = d.spec.template.spec.unwrap().volumes.unwrap();
        let data = vols.iter().find(|v| v.name == "data").unwrap();
        assert!(data.empty_dir.is_some() && data.persistent_volume_claim.is_none());
        assert!(pvc(&plan(Expose::NodePort, Storage::EmptyDir)).is_none());
    }

    #[test]
    fn every_port_names_its_protocol() {
        // Server-side apply on 1.20 rejects ports without protocol (see shared facts).
        let p = plan(Expose::NodePort, pvc_storage());
        for port in service(&p).spec.unwrap().ports.unwrap() {
            assert_eq!(port.protocol.as_deref(), Some("TCP"));
        }
        for c in deployment(&p, "x").spec.template.spec.unwrap().containers {
            for port in c.ports.unwrap() {
                assert_eq!(port.protocol.as_deref(), Some("TCP"));
            }
        }
    }

    #[test]
    fn redaction_hides_every_value() {
        let s = redacted(secret("ns", "kreg-ca", "Opaque", &[("ca.key", b"PRIVATE")]));
        let y = serde_yaml_ng::to_string(&s).unwrap();
        assert!(!y.contains("UFJJVkFURQ") && !y.contains("PRIVATE"), "{y}");
    }

    #[test]
    fn auth_puts_the_gate_in_front_of_a_loopback_registry() {
        let mut d = deployment(&plan(Expose::LoadBalancer, pvc_storage()), "x");
        with_auth(&mut d, "abc", "kreg-agent@sha256:42");
        insta::assert_yaml_snapshot!("auth_deployment", d);
        let pod = d.spec.template.spec.unwrap();
        let auth = pod
            .volumes
            .unwrap()
            .into_iter()
            .find(|v| v.name == "auth")
            .unwrap();
        let items = auth.secret.unwrap().items.unwrap();
        let keys: Vec<_> = items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["htpasswd", "pull-htpasswd"],
            "no password key is mounted"
        );
        let (registry, gate) = (&pod.containers[0], &pod.containers[1]);
        let env = registry.env.clone().unwrap();
        let addr = env.iter().find(|e| e.name == "REGISTRY_HTTP_ADDR").unwrap();
        assert_eq!(
            addr.value.as_deref(),
            Some(GATE_UPSTREAM),
            "only the gate reaches it"
        );
        assert!(!env.iter().any(|e| e.name.starts_with("REGISTRY_HTTP_TLS")));
        // Probes and port stay where they were (an upgrade by server-side apply keeps them
        // whole); the port is the gate's in the pod's network.
        assert_eq!(registry.ports.as_ref().unwrap()[0].container_port, 5000);
        assert!(registry.readiness_probe.is_some() && registry.liveness_probe.is_some());
        assert!(gate.ports.is_none() && gate.liveness_probe.is_some());
        assert_eq!(gate.image.as_deref(), Some("kreg-agent@sha256:42"));
    }

    #[test]
    fn pull_secret_is_dockerconfigjson() {
        let creds = crate::auth::Credentials {
            username: "kreg".into(),
            password: "pw".into(),
        };
        let s = pull_secret("team-a", "r.example:443", &creds);
        assert_eq!(s.type_.as_deref(), Some("kubernetes.io/dockerconfigjson"));
        assert_eq!(s.metadata.namespace.as_deref(), Some("team-a"));
        let json = secret_text(&s, ".dockerconfigjson").unwrap();
        assert!(json.contains("r.example:443"), "{json}");
    }

    #[test]
    fn local_registry_hosting_is_kep_1755() {
        let h = Hosting {
            host: "registry.10.0.0.9.nip.io".into(),
            host_from_container_runtime: "registry.10.0.0.9.nip.io".into(),
            host_from_cluster_network: "registry.10.0.0.9.nip.io".into(),
            help: "help text".into(),
        };
        let cm = local_registry_hosting(&h).unwrap();
        assert_eq!(cm.metadata.namespace.as_deref(), Some("kube-public"));
        assert_eq!(cm.metadata.name.as_deref(), Some("local-registry-hosting"));
        insta::assert_yaml_snapshot!("local_registry_hosting", cm);
        let text = &cm.data.unwrap()["localRegistryHosting.v1"];
        let back: Hosting = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn pod_security_that_rejects_the_agent_is_named() {
        let ns = |level: Option<&str>| ObjectMeta {
            name: Some("team".into()),
            labels: level.map(|l| {
                [(
                    "pod-security.kubernetes.io/enforce".to_string(),
                    l.to_string(),
                )]
                .into()
            }),
            ..Default::default()
        };
        assert!(pod_security_blocks_agent(&ns(Some("baseline")))
            .unwrap()
            .contains("baseline"));
        assert!(pod_security_blocks_agent(&ns(Some("restricted"))).is_some());
        assert!(pod_security_blocks_agent(&ns(Some("privileged"))).is_none());
        assert!(pod_security_blocks_agent(&ns(None)).is_none());
        // kreg's own namespace admits it.
        let p = crate::plan::sample(Expose::NodePort, Storage::EmptyDir);
        assert!(pod_security_blocks_agent(&namespace(&p).metadata).is_none());
    }

    #[test]
    fn only_a_namespace_with_all_of_kregs_labels_counts_as_created_by_it() {
        let p = crate::plan::sample(Expose::NodePort, Storage::EmptyDir);
        assert!(created_by_this_kreg(&namespace(&p).metadata));
        // Earlier kregs labelled namespaces they found with managed-by only.
        let old = ObjectMeta {
            labels: Some(
                [(
                    "app.kubernetes.io/managed-by".to_string(),
                    "kreg".to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        };
        assert!(!created_by_this_kreg(&old));
        assert!(!created_by_this_kreg(&ObjectMeta::default()));
    }

    #[test]
    fn the_issuers_certificate_names_the_registry_and_its_address() {
        let cluster = crate::plan::IssuerRef::parse("ClusterIssuer/corp-ca", None).unwrap();
        insta::assert_yaml_snapshot!(
            "certificate_cluster_issuer",
            certificate("kreg-system", &cluster, &hosting_ep())
        );
        // Named by its address (`--dns-suffix none`): an IP SAN only, once.
        let ns = crate::plan::IssuerRef::parse("team-ca", None).unwrap();
        let by_ip = Endpoint {
            host: "10.0.0.9".into(),
            port: 31000,
            ips: vec!["10.0.0.9".parse().unwrap()],
        };
        let c = certificate("registry", &ns, &by_ip);
        assert_eq!(c["spec"]["issuerRef"]["kind"], "Issuer");
        assert_eq!(c["spec"]["ipAddresses"], serde_json::json!(["10.0.0.9"]));
        assert!(c["spec"].get("dnsNames").is_none());
        assert_eq!(c["spec"]["secretName"], names::TLS_SECRET);
    }
}

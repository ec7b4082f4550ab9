//! The plan: what `kreg up` will build on this cluster, decided from the flavour, the cluster's
//! abilities and the user's flags. Pure functions, no I/O.
//!
//! It owns the exposure choice, the storage choice, the object names, and how the registry's
//! host name follows from the address the cluster gives it.

use std::fmt;
use std::net::IpAddr;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::detect::{
    ingress_controller, Flavor, GatewayFact, IngressClassFact, IngressController, ListenerFact,
};
use crate::error::hint;

/// The version of every `-o json|yaml` document kreg prints (`schemaVersion`): raised when a
/// field is renamed or removed, not when one is added.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether an object carries kreg's `app.kubernetes.io/managed-by` label: kreg deletes only
/// what it created (its namespace, the discovery ConfigMap), never a same-named object of
/// someone else's.
pub fn is_kreg_managed(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(names::MANAGED_BY.0))
        .map(String::as_str)
        == Some(names::MANAGED_BY.1)
}

/// Names of everything kreg creates, in one place so `up`, `status` and `down` agree.
pub mod names {
    pub const REGISTRY: &str = "kreg-registry";
    pub const DATA_PVC: &str = "kreg-registry-data";
    pub const CA_SECRET: &str = "kreg-ca";
    /// `--rotate-ca`: the new CA, written before anything switches to it.
    pub const CA_NEXT_SECRET: &str = "kreg-ca-next";
    /// After the switch: the old CA's certificate (no key), still handed out until the next `up`.
    pub const CA_PREVIOUS_SECRET: &str = "kreg-ca-previous";
    pub const TLS_SECRET: &str = "kreg-tls";
    pub const HTTP_SECRET: &str = "kreg-http-secret";
    pub const STATE: &str = "kreg-state";
    pub const NODE_TRUST: &str = "kreg-node-trust";
    /// `--auth`: the generated user, password and htpasswd line.
    pub const AUTH_SECRET: &str = "kreg-auth";
    /// `--pull-secret-namespaces`: the dockerconfigjson Secret in each of those namespaces.
    pub const PULL_SECRET: &str = "kreg-pull";
    /// The user name `--auth` generates a password for.
    pub const AUTH_USER: &str = "kreg";
    /// The user of pull Secrets and node agents: reads only (the registry gate enforces it).
    pub const PULL_USER: &str = "kreg-pull";
    /// KEP-1755's discovery ConfigMap, read by Tilt, Skaffold and ctlptl.
    pub const HOSTING: (&str, &str) = ("kube-public", "local-registry-hosting");
    /// `kreg gc`: the Job that runs the registry's garbage collector.
    pub const GC_JOB: &str = "kreg-gc";
    pub const FIELD_MANAGER: &str = "kreg";
    pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kreg");
    /// Port the registry listens on inside its pod.
    pub const CONTAINER_PORT: i32 = 5000;
    /// Label on every object of a pull-through cache (`--mirror`), so `down` finds them all,
    /// including those of upstreams a later `up` no longer lists.
    pub const MIRROR_LABEL: (&str, &str) = ("kreg.dev/role", "mirror");
    /// Annotation naming the upstream a cache's objects belong to (a label cannot hold ':').
    pub const UPSTREAM_ANNOTATION: &str = "kreg.dev/upstream";
    /// Prefix of every pull-through cache's object names.
    pub const MIRROR_PREFIX: &str = "kreg-mirror-";
    /// The NetworkPolicy that lets only the nodes reach the caches (one for all of them).
    pub const MIRROR_POLICY: &str = "kreg-mirrors";
    /// The bootstrap store (Deployment and Service) and its per-node relays (DaemonSet), where
    /// nodes get kreg's own image before they trust the registry (`crate::install::bootstrap`).
    pub const BOOTSTRAP: &str = "kreg-bootstrap";
    pub const BOOTSTRAP_RELAY: &str = "kreg-bootstrap-relay";
    /// The relays' port on every node's loopback (`manifests/bootstrap-relay.yaml`).
    pub const BOOTSTRAP_PORT: u16 = 5057;
    /// The store's writable port, on its pod's loopback: reached only by a port-forward.
    pub const BOOTSTRAP_STORE_PORT: u16 = 5001;
}

/// One pull-through cache (`--mirror UPSTREAM[=URL]`): a registry in proxy mode that nodes try
/// before the upstream itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mirror {
    /// The registry name as in image references (`docker.io`, `ghcr.io`, `host:port`).
    pub upstream: String,
    /// What the cache pulls from (`https://registry-1.docker.io`).
    pub url: String,
    /// Secret in kreg's namespace with `username` and `password` for the upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// The Deployment, Service and PVC name ([`mirror_name`]).
    pub name: String,
}

impl Mirror {
    pub fn new(upstream: &str, url: &str, credentials: Option<String>) -> Mirror {
        Mirror {
            upstream: upstream.into(),
            url: url.into(),
            credentials,
            name: mirror_name(upstream),
        }
    }

    /// A login (`--mirror-credentials`) with an upstream URL that is not `https://`: the
    /// cache would send the upstream account's password in clear text, so kreg refuses it.
    pub fn login_in_clear(&self) -> bool {
        self.credentials.is_some() && !self.url.starts_with("https://")
    }

    /// The Secret holding the cache's serving certificate.
    pub fn tls_secret(&self) -> String {
        format!("{}-tls", self.name)
    }

    /// The name the cache's certificate carries besides its ClusterIP: the Service's DNS name.
    pub fn service_host(&self, namespace: &str) -> String {
        format!("{}.{namespace}.svc", self.name)
    }
}

/// The object name of the cache for `upstream`: `kreg-mirror-` and the upstream in DNS-1123
/// form (`docker.io` -> `kreg-mirror-docker-io`, `host:5000` -> `kreg-mirror-host-5000`).
///
/// Two upstreams can fold to the same form (`a.b` and `a-b`), and a long one must be cut to
/// stay a valid Service name (63 characters, with room for the `-tls` suffix): then the name
/// ends in 8 hex digits of the upstream's SHA-256, so it stays unique and the same every run.
pub fn mirror_name(upstream: &str) -> String {
    // 63 (a Service name is a DNS label) - "-tls" - the prefix.
    const MAX_SLUG: usize = 63 - 4 - names::MIRROR_PREFIX.len();
    let mut slug = String::new();
    for c in upstream.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_string();
    // Lossless when only '.' and ':' became '-' once each and nothing was cut.
    let lossless = upstream
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == ':')
        && !upstream.contains("..")
        && slug.len() == upstream.len()
        && !upstream.contains('-');
    if lossless && slug.len() <= MAX_SLUG {
        return format!("{}{slug}", names::MIRROR_PREFIX);
    }
    let hash = &crate::pki::sha256_hex(upstream.as_bytes())[..8];
    let keep = MAX_SLUG - 9;
    let head = slug[..slug.len().min(keep)].trim_end_matches('-');
    format!("{}{head}-{hash}", names::MIRROR_PREFIX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Expose {
    LoadBalancer,
    Ingress,
    NodePort,
    /// Plain HTTP on a NodePort that every node's runtime reaches as `localhost:<port>`.
    Localhost,
    /// The same `localhost:<port>` name over TLS: a certificate for localhost, 127.0.0.1, ::1
    /// and the Service's ClusterIP; this machine reaches it through `kreg port-forward`, the
    /// nodes through the ClusterIP, so one image reference works everywhere.
    #[serde(rename = "localhost-tls")]
    LocalhostTls,
    /// A route of kreg's on an existing Gateway API Gateway: a TLSRoute through a Passthrough
    /// listener, else an HTTPRoute with a BackendTLSPolicy through an HTTPS listener.
    Gateway,
}

impl Expose {
    /// Named `localhost:<port>`: reached from this machine through a port-forward.
    pub fn is_localhost(self) -> bool {
        matches!(self, Expose::Localhost | Expose::LocalhostTls)
    }

    /// Served on a NodePort (its port is the registry's).
    pub fn is_node_port(self) -> bool {
        self == Expose::NodePort || self.is_localhost()
    }

    /// Clients reach the registry by its address's IP too (a LoadBalancer or node IP), so
    /// its certificate must name that IP. Not for a localhost name (reached by name and its
    /// ClusterIP), nor for an Ingress or a Gateway route: they route by the host name (SNI,
    /// Host), so the controller's IP is only where to connect.
    pub fn cert_names_address_ip(self) -> bool {
        matches!(self, Expose::LoadBalancer | Expose::NodePort)
    }

    /// Served over TLS with kreg's certificate (all but plain `localhost`).
    pub fn serves_tls(self) -> bool {
        self != Expose::Localhost
    }
}

impl fmt::Display for Expose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expose::LoadBalancer => "loadbalancer",
            Expose::Ingress => "ingress",
            Expose::NodePort => "nodeport",
            Expose::Localhost => "localhost",
            Expose::LocalhostTls => "localhost-tls",
            Expose::Gateway => "gateway",
        })
    }
}

impl std::str::FromStr for Expose {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "loadbalancer" => Ok(Expose::LoadBalancer),
            "ingress" => Ok(Expose::Ingress),
            "nodeport" => Ok(Expose::NodePort),
            "localhost" => Ok(Expose::Localhost),
            "localhost-tls" => Ok(Expose::LocalhostTls),
            "gateway" => Ok(Expose::Gateway),
            other => {
                bail!("unknown exposure {other:?}: expected loadbalancer, ingress, nodeport, localhost, localhost-tls or gateway")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Storage {
    Pvc {
        size: String,
        class: Option<String>,
    },
    S3 {
        bucket: String,
        region: String,
        endpoint: Option<String>,
        secret: String,
    },
    EmptyDir,
}

/// What the user asked for, already validated (see `commands::up`).
#[derive(Debug, Clone)]
pub struct Request {
    pub namespace: String,
    pub flavor: Option<Flavor>,
    pub expose: Option<Expose>,
    /// `--public`: a LoadBalancer reachable from outside the cloud network.
    pub public: bool,
    /// `--lb-source-ranges`: the CIDRs that may reach the LoadBalancer.
    pub lb_source_ranges: Vec<String>,
    /// `--allow-anonymous-push`: a public registry without `--auth`, on purpose.
    pub allow_anonymous_push: bool,
    pub host: Option<String>,
    pub dns_suffix: String,
    pub image: String,
    pub storage: Storage,
    pub replicas: u32,
    pub ingress_class: Option<String>,
    /// `--gateway NS/NAME`: the Gateway of `--expose gateway`.
    pub gateway: Option<String>,
    pub node_trust: bool,
    /// kreg's entry for the registry's name in the cluster's CoreDNS (`--no-dns-entry`: none).
    pub dns_entry: bool,
    pub allow_runtime_restart: bool,
    /// Also restart control-plane nodes' runtimes (with `allow_runtime_restart`).
    pub restart_control_plane: bool,
    /// The node agent's image, pinned by digest.
    pub agent_image: String,
    /// kreg's own image is served to the nodes by the bootstrap (`install::bootstrap`).
    pub agent_bootstrap: bool,
    /// `--auth`: htpasswd authentication with a generated user.
    pub auth: bool,
    /// `--pull-secret-namespaces`: namespaces whose default ServiceAccount gets a pull secret.
    pub pull_secret_namespaces: Vec<String>,
    /// `--gc-schedule` with `--gc-image`.
    pub gc_schedule: Option<GcSchedule>,
    pub mirrors: Vec<Mirror>,
    /// `--ca-secret`: sign with the user's CA from this `kubernetes.io/tls` Secret in the
    /// namespace instead of kreg's own.
    pub ca_secret: Option<String>,
    /// `--issuer`: cert-manager's Issuer or ClusterIssuer signs the serving certificate.
    pub issuer: Option<IssuerRef>,
}

/// When and with which kubectl image the garbage-collection CronJob runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcSchedule {
    pub cron: String,
    pub image: String,
    /// `--prune-keep`/`--prune-older-than`: images the scheduled run deletes before it
    /// collects (absent in records of older kregs: no pruning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<PrunePolicy>,
}

/// The policy of a scheduled prune, as `kreg prune` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<usize>,
    /// An age as `--older-than` takes it (`30d`), checked when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than: Option<String>,
}

impl PrunePolicy {
    /// The arguments of `kreg prune` that apply it.
    pub fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(n) = self.keep {
            a.extend(["--keep".to_string(), n.to_string()]);
        }
        if let Some(o) = &self.older_than {
            a.extend(["--older-than".to_string(), o.clone()]);
        }
        a
    }
}

/// What the cluster offers, read before anything is applied.
#[derive(Debug, Clone, Default)]
pub struct Abilities {
    pub storage_classes: Vec<String>,
    pub default_storage_class: Option<String>,
    pub ingress_classes: Vec<IngressClassFact>,
    /// The server serves `gateway.networking.k8s.io/v1`.
    pub gateway_api: bool,
    /// Its Gateways (empty when unreadable).
    pub gateways: Vec<GatewayFact>,
    /// The server serves Traefik's `traefik.io/v1alpha1` ServersTransport (Traefik's CRDs).
    pub traefik_transports: bool,
}

/// How kreg's route reaches the registry through a Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayMode {
    /// A TLS listener in Passthrough mode and a TLSRoute: the Gateway forwards the TLS stream
    /// by SNI, the registry keeps serving its own certificate, and no proxy buffers a layer.
    TlsPassthrough,
    /// An HTTPS listener (the Gateway terminates TLS with the user's certificate), an
    /// HTTPRoute, and a BackendTLSPolicy that makes the Gateway verify kreg's certificate.
    Https,
}

#[derive(Debug, Clone, Serialize)]
pub struct GatewayChoice {
    pub namespace: String,
    pub name: String,
    /// The listener kreg's route attaches to (`sectionName`).
    pub listener: String,
    pub port: u16,
    pub mode: GatewayMode,
    /// The Gateway's first `status.addresses` value, when a controller filled it.
    #[serde(skip)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngressChoice {
    pub class: String,
    #[serde(skip)]
    pub controller: IngressController,
    /// Traefik with its CRDs: kreg gives it a ServersTransport with kreg's CA and the host as
    /// server name, so it verifies the registry (without one Traefik checks the registry's
    /// certificate against its system roots and the pod IP, and every request fails).
    #[serde(skip)]
    pub servers_transport: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub namespace: String,
    pub flavor: Flavor,
    pub expose: Expose,
    pub expose_reason: String,
    /// A LoadBalancer open beyond the cloud's network (`--public`); false means the
    /// provider's internal load balancer on EKS, AKS and GKE.
    pub public: bool,
    pub lb_source_ranges: Vec<String>,
    pub allow_anonymous_push: bool,
    pub image: String,
    pub storage: Storage,
    pub replicas: u32,
    pub ingress: Option<IngressChoice>,
    pub gateway: Option<GatewayChoice>,
    pub host: Option<String>,
    pub dns_suffix: String,
    pub node_trust: bool,
    /// kreg's entry for the registry's name in the cluster's CoreDNS (`crate::corefile`).
    pub dns_entry: bool,
    pub allow_runtime_restart: bool,
    /// Also restart control-plane nodes' runtimes (with `allow_runtime_restart`).
    pub restart_control_plane: bool,
    /// The node agent's image, pinned by digest.
    pub agent_image: String,
    /// `agent_image` is kreg's own image, pushed by `up` into the bootstrap store and pulled by
    /// the nodes from their loopback (`127.0.0.1:5057/kreg/agent@sha256:…`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub agent_bootstrap: bool,
    /// The NodePort the Service asks for: the one the registry had before it was exposed
    /// otherwise, so that a switch away and back keeps every image reference working. `None`
    /// lets the API server choose (and keep: server-side apply does not own the field then),
    /// as on a registry that was never exposed otherwise. Set from the state record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
    /// The NodePort to remember while the registry is exposed otherwise (the record's
    /// `node_port`).
    #[serde(skip)]
    pub node_port_kept: Option<u16>,
    pub auth: bool,
    pub pull_secret_namespaces: Vec<String>,
    pub gc_schedule: Option<GcSchedule>,
    pub mirrors: Vec<Mirror>,
    /// `--ca-secret`: the Secret holding the user's CA (absent: kreg's own CA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<String>,
    /// `--issuer`: the cert-manager issuer that signs the serving certificate (a `Certificate`
    /// kreg writes); its CA is what nodes and workstations trust.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerRef>,
}

/// The two kinds of cert-manager issuer (`cert-manager.io/v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuerKind {
    /// In kreg's namespace.
    Issuer,
    /// Cluster-scoped.
    ClusterIssuer,
}

impl IssuerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Issuer => "Issuer",
            IssuerKind::ClusterIssuer => "ClusterIssuer",
        }
    }

    /// `Issuer` or `ClusterIssuer`, in any case (`clusterissuer` too, as kubectl accepts).
    pub fn parse(s: &str) -> Result<IssuerKind> {
        match s.to_ascii_lowercase().as_str() {
            "issuer" => Ok(IssuerKind::Issuer),
            "clusterissuer" => Ok(IssuerKind::ClusterIssuer),
            _ => Err(hint(
                format!("unknown issuer kind {s:?}"),
                "kreg works with cert-manager's own kinds: Issuer (in kreg's namespace) or ClusterIssuer",
            )),
        }
    }
}

/// `--issuer [KIND/]NAME`: a cert-manager issuer by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRef {
    pub kind: IssuerKind,
    pub name: String,
}

impl fmt::Display for IssuerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

impl IssuerRef {
    /// `--issuer` (`NAME` or `KIND/NAME`) with `--issuer-kind` (when given). A bare name is an
    /// `Issuer`, as in cert-manager's own `issuerRef`; a kind in both places must agree.
    pub fn parse(value: &str, kind_flag: Option<&str>) -> Result<IssuerRef> {
        let flag_kind = kind_flag.map(IssuerKind::parse).transpose()?;
        let (kind, name) = match value.split_once('/') {
            Some((k, n)) => {
                let k = IssuerKind::parse(k)?;
                if flag_kind.is_some_and(|f| f != k) {
                    return Err(hint(
                        format!(
                            "--issuer {value} names a {} but --issuer-kind says {}",
                            k.as_str(),
                            flag_kind.map(IssuerKind::as_str).unwrap_or_default()
                        ),
                        "give the kind once: --issuer KIND/NAME, or --issuer NAME --issuer-kind KIND",
                    ));
                }
                (k, n)
            }
            None => (flag_kind.unwrap_or(IssuerKind::Issuer), value),
        };
        let dns_subdomain = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !dns_subdomain {
            return Err(hint(
                format!("--issuer {value}: {name:?} is not a valid issuer name"),
                "an issuer's name is a DNS subdomain (lower-case letters, digits, '-' and '.'): kubectl get clusterissuers,issuers -A lists them",
            ));
        }
        Ok(IssuerRef {
            kind,
            name: name.to_string(),
        })
    }
}

/// Decides exposure and storage. Errors here happen before anything is applied.
pub fn make(req: &Request, detected: Flavor, abilities: &Abilities) -> Result<Plan> {
    let flavor = req.flavor.unwrap_or(detected);
    let (expose, mut expose_reason) = match req.expose {
        Some(e) => (e, "chosen with --expose".to_string()),
        None => default_expose(flavor),
    };
    if req.expose.is_none() && abilities.gateway_api && abilities.ingress_classes.is_empty() {
        // Ingress controllers are being retired (ingress-nginx in 2026) for Gateway API: offer
        // the cluster's Gateway instead of an Ingress that no controller would serve.
        expose_reason.push_str(&format!(
            "; this cluster has the Gateway API and no IngressClass: --expose gateway --host NAME routes through {}",
            match abilities.gateways.as_slice() {
                [only] => format!("Gateway {}/{}", only.namespace, only.name),
                _ => "a Gateway (--gateway NAMESPACE/NAME)".to_string(),
            }
        ));
    }
    if let Some(h) = req.host.as_deref() {
        check_routed_host(expose, h)?;
    }
    let ingress = if expose == Expose::Ingress {
        Some(choose_ingress(req.ingress_class.as_deref(), abilities)?)
    } else {
        if req.ingress_class.is_some() {
            bail!("--ingress-class needs --expose ingress");
        }
        None
    };
    let gateway = if expose == Expose::Gateway {
        Some(choose_gateway(
            req.gateway.as_deref(),
            &req.namespace,
            req.host.as_deref(),
            abilities,
        )?)
    } else {
        if req.gateway.is_some() {
            bail!("--gateway needs --expose gateway");
        }
        None
    };
    if expose == Expose::Ingress && req.host.is_none() {
        // An Ingress address can only be known after the controller admits it; without a host
        // the certificate would name an address the user never sees. Ask for a name up front.
        return Err(hint(
            "--expose ingress needs --host: the Ingress routes by host name",
            "pass --host registry.example.com (a DNS name that points at your ingress controller)",
        ));
    }
    if req.replicas == 0 {
        bail!("--replicas must be at least 1");
    }
    let storage = match &req.storage {
        Storage::Pvc { size, class: None } => {
            let class = abilities
                .default_storage_class
                .clone()
                .ok_or_else(|| no_default_class(abilities))?;
            Storage::Pvc {
                size: size.clone(),
                class: Some(class),
            }
        }
        Storage::Pvc { class: Some(c), .. } if !abilities.storage_classes.contains(c) => {
            return Err(hint(
                format!("StorageClass {c:?} does not exist on this cluster"),
                list_classes(abilities),
            ));
        }
        other => other.clone(),
    };
    if req.replicas > 1 && !matches!(storage, Storage::S3 { .. }) {
        return Err(hint(
            format!("--replicas {} needs shared storage", req.replicas),
            "replicas behind one Service must see the same blobs: use --storage s3, or --replicas 1",
        ));
    }
    if !req.pull_secret_namespaces.is_empty() && !req.auth {
        return Err(hint(
            "--pull-secret-namespaces needs --auth: without authentication pods need no pull secret",
            "add --auth, or drop --pull-secret-namespaces",
        ));
    }
    if req.auth && expose == Expose::Localhost {
        // Basic auth sends the password with every request; never over plain HTTP.
        return Err(hint(
            "--auth needs TLS, and --expose localhost is plain HTTP",
            "use --expose localhost-tls (or loadbalancer, nodeport, ingress) with --auth",
        ));
    }
    if req.auth && req.agent_image.is_empty() {
        // The registry gate (who may push, who only pull) is the kreg binary of that image.
        return Err(hint(
            "--auth needs kreg's image (the registry gate runs from it), and none is named",
            "pass --agent-image IMAGE@sha256:DIGEST (or set KREG_AGENT_IMAGE), the image the README says how to build",
        ));
    }
    if req.gc_schedule.as_ref().is_some_and(|g| g.prune.is_some()) && req.agent_image.is_empty() {
        // The scheduled prune is `kreg prune`, run from kreg's own image.
        return Err(hint(
            "--prune-keep/--prune-older-than need kreg's image (the scheduled prune runs kreg from it), and none is named",
            "pass --agent-image IMAGE@sha256:DIGEST (or set KREG_AGENT_IMAGE)",
        ));
    }
    if req.gc_schedule.is_some() && storage_is_emptydir(&req.storage) {
        return Err(hint(
            "--gc-schedule needs --storage pvc or s3: no other pod can see an emptyDir",
            "drop --gc-schedule (an emptyDir empties itself when the pod restarts)",
        ));
    }
    let load_balancer = expose == Expose::LoadBalancer;
    if !load_balancer && (req.public || !req.lb_source_ranges.is_empty()) && req.expose.is_some() {
        return Err(hint(
            format!(
                "--public and --lb-source-ranges go with a LoadBalancer, not --expose {expose}"
            ),
            "drop them, or use --expose loadbalancer",
        ));
    }
    let public = load_balancer && req.public;
    if public && !req.auth && !req.allow_anonymous_push {
        // Anyone on the internet could overwrite the tags every node pulls.
        return Err(hint(
            "--public without --auth would let anyone who reaches the load balancer push, overwrite and delete images",
            "add --auth (pods get pull secrets with --pull-secret-namespaces), or --allow-anonymous-push if that is really meant",
        ));
    }
    let mut pull_secret_namespaces = req.pull_secret_namespaces.clone();
    pull_secret_namespaces.sort();
    pull_secret_namespaces.dedup();
    check_mirrors(&req.mirrors)?;
    if let Some(i) = &req.issuer {
        check_issuer(i, req, expose)?;
    }
    Ok(Plan {
        namespace: req.namespace.clone(),
        flavor,
        expose,
        expose_reason,
        public,
        lb_source_ranges: if load_balancer {
            req.lb_source_ranges.clone()
        } else {
            vec![]
        },
        allow_anonymous_push: req.allow_anonymous_push,
        image: req.image.clone(),
        storage,
        replicas: req.replicas,
        ingress,
        gateway,
        host: req.host.clone(),
        dns_suffix: req.dns_suffix.clone(),
        node_trust: req.node_trust,
        dns_entry: req.dns_entry,
        allow_runtime_restart: req.allow_runtime_restart,
        restart_control_plane: req.restart_control_plane,
        agent_image: req.agent_image.clone(),
        agent_bootstrap: req.agent_bootstrap && !req.agent_image.is_empty(),
        node_port: None,
        node_port_kept: None,
        auth: req.auth,
        pull_secret_namespaces,
        gc_schedule: req.gc_schedule.clone(),
        mirrors: req.mirrors.clone(),
        ca_secret: req.ca_secret.clone(),
        issuer: req.issuer.clone(),
    })
}

fn storage_is_emptydir(s: &Storage) -> bool {
    matches!(s, Storage::EmptyDir)
}

/// Each upstream once; names unique (guaranteed by [`mirror_name`], checked anyway because a
/// clash would make two caches share one Deployment).
/// `--issuer` with what it cannot be combined with, refused before anything is applied.
fn check_issuer(issuer: &IssuerRef, req: &Request, expose: Expose) -> Result<()> {
    if !expose.serves_tls() {
        return Err(hint(
            format!("--issuer {issuer}: --expose {expose} is plain HTTP; there is no certificate to issue"),
            "use --expose localhost-tls (or another exposure) with --issuer, or drop --issuer",
        ));
    }
    if let Some(s) = &req.ca_secret {
        return Err(hint(
            format!("--issuer {issuer} and --ca-secret {s} both name who signs the registry's certificate"),
            "choose one: add --no-ca-secret to sign through cert-manager, or --no-issuer to keep your CA Secret",
        ));
    }
    if !req.mirrors.is_empty() {
        return Err(hint(
            format!("--issuer {issuer}: the pull-through caches (--mirror) are signed by kreg's CA, which nodes do not trust with --issuer"),
            "drop the caches for now (--no-mirror UPSTREAM for each recorded one), or keep kreg's own CA",
        ));
    }
    Ok(())
}

fn check_mirrors(mirrors: &[Mirror]) -> Result<()> {
    for (i, m) in mirrors.iter().enumerate() {
        if let Some(other) = mirrors[..i].iter().find(|o| o.upstream == m.upstream) {
            bail!(
                "--mirror {} is given twice ({} and {}): one cache per upstream",
                m.upstream,
                other.url,
                m.url
            );
        }
        if m.login_in_clear() {
            // `requested` and `state::resolve` refuse this with advice; this is the backstop.
            bail!(
                "--mirror-credentials {}: the upstream URL {} is plain HTTP; credentials go only to an https:// upstream",
                m.upstream,
                m.url
            );
        }
        if mirrors[..i].iter().any(|o| o.name == m.name) {
            bail!(
                "--mirror {}: its object name {} clashes with another mirror's",
                m.upstream,
                m.name
            );
        }
    }
    Ok(())
}

/// The annotations that make a provider's LoadBalancer internal (reachable only from the
/// cloud network), per flavour; empty where kreg knows no such switch (k3s's ServiceLB, MetalLB
/// and bare clusters serve node or LAN addresses anyway).
pub fn internal_lb_annotations(flavor: Flavor) -> &'static [(&'static str, &'static str)] {
    match flavor {
        // The AWS Load Balancer Controller reads the scheme; the in-tree controller the
        // legacy flag.
        Flavor::Eks => &[
            (
                "service.beta.kubernetes.io/aws-load-balancer-scheme",
                "internal",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-internal",
                "true",
            ),
        ],
        Flavor::Aks => &[(
            "service.beta.kubernetes.io/azure-load-balancer-internal",
            "true",
        )],
        Flavor::Gke => &[("networking.gke.io/load-balancer-type", "Internal")],
        Flavor::K3s | Flavor::Kind | Flavor::Minikube | Flavor::Generic => &[],
    }
}

impl Plan {
    /// The wildcard DNS suffix registry names use; `None` with `--dns-suffix none`.
    pub fn wildcard_suffix(&self) -> Option<&str> {
        Some(self.dns_suffix.as_str()).filter(|s| *s != NO_DNS)
    }

    /// The registry serves TLS with kreg's certificate (all but `--expose localhost`, plain HTTP).
    pub fn serves_tls(&self) -> bool {
        self.expose.serves_tls()
    }

    /// Whether the Service gets the provider's internal load balancer.
    pub fn internal_lb(&self) -> bool {
        self.expose == Expose::LoadBalancer
            && !self.public
            && !internal_lb_annotations(self.flavor).is_empty()
    }

    /// Who can reach the registry without a password, or `None` with `--auth`. Said in `up`'s
    /// output and by `status`, because anyone who reaches it can push, overwrite and delete.
    pub fn anonymous_reach(&self) -> Option<String> {
        (!self.auth).then(|| {
            anonymous_reach(
                self.expose,
                self.flavor,
                self.public,
                &self.lb_source_ranges,
            )
        })
    }
}

/// Who reaches a registry exposed this way (see [`Plan::anonymous_reach`]).
pub fn anonymous_reach(expose: Expose, flavor: Flavor, public: bool, ranges: &[String]) -> String {
    let ranges = if ranges.is_empty() {
        String::new()
    } else {
        format!(" in {}", ranges.join(","))
    };
    let internal = !public && !internal_lb_annotations(flavor).is_empty();
    match expose {
        Expose::LoadBalancer if internal => {
            format!("every machine in the cloud network{ranges} (internal load balancer)")
        }
        Expose::LoadBalancer if public => {
            format!("anyone on the internet{ranges} (public load balancer)")
        }
        Expose::LoadBalancer => {
            format!("every machine that reaches the load balancer's address{ranges}")
        }
        Expose::Ingress => "everyone who reaches the ingress controller".into(),
        Expose::Gateway => "everyone who reaches the Gateway".into(),
        Expose::NodePort => "every machine that reaches a node's address".into(),
        Expose::Localhost | Expose::LocalhostTls => {
            "every pod and process on the nodes (localhost NodePort, Service ClusterIP)".into()
        }
    }
}

/// The warning `up` and `status` print for a registry without `--auth`.
pub fn anonymous_warning(reach: &str) -> String {
    format!("no authentication: {reach} can push, overwrite and delete images (`kreg up --auth` turns it on)")
}

fn default_expose(flavor: Flavor) -> (Expose, String) {
    match flavor {
        Flavor::Eks | Flavor::Aks | Flavor::Gke => (
            Expose::LoadBalancer,
            format!("{flavor} provisions cloud load balancers; internal to the cloud network unless --public"),
        ),
        Flavor::K3s => (
            Expose::LoadBalancer,
            "k3s serves LoadBalancers with ServiceLB".into(),
        ),
        Flavor::Kind | Flavor::Minikube | Flavor::Generic => (
            Expose::NodePort,
            format!("{flavor} clusters usually have no load balancer; nodes are reachable"),
        ),
    }
}

fn choose_ingress(requested: Option<&str>, abilities: &Abilities) -> Result<IngressChoice> {
    let classes = &abilities.ingress_classes;
    let found = match requested {
        Some(name) => classes.iter().find(|c| c.name == name),
        None => classes
            .iter()
            .find(|c| c.is_default)
            .or(if classes.len() == 1 {
                classes.first()
            } else {
                None
            }),
    };
    match found {
        Some(c) => {
            let controller = ingress_controller(&c.controller);
            Ok(IngressChoice {
                class: c.name.clone(),
                controller,
                servers_transport: controller == IngressController::Traefik
                    && abilities.traefik_transports,
            })
        }
        None if classes.is_empty() => Err(hint(
            "--expose ingress: this cluster has no IngressClass",
            "install an ingress controller, or use --expose loadbalancer or --expose nodeport",
        )),
        None => Err(hint(
            match requested {
                Some(n) => format!("IngressClass {n:?} does not exist"),
                None => "several IngressClasses exist and none is the default".to_string(),
            },
            format!(
                "pass --ingress-class with one of: {}",
                classes
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// `--expose gateway`: the Gateway (`--gateway NS/NAME`, else the only one) and, from its
/// listeners, how kreg's route attaches: a TLS listener in Passthrough mode wins (the registry
/// keeps its own certificate end to end), else an HTTPS listener. A listener with a hostname
/// must match `--host`; one that admits routes only from its own namespace (the default)
/// cannot take a route from kreg's namespace. Everything is checked before anything is applied.
fn choose_gateway(
    requested: Option<&str>,
    kreg_namespace: &str,
    host: Option<&str>,
    a: &Abilities,
) -> Result<GatewayChoice> {
    if !a.gateway_api {
        return Err(hint(
            "--expose gateway: this cluster does not serve the Gateway API (gateway.networking.k8s.io/v1)",
            "install the Gateway API CRDs and a Gateway controller, or use --expose loadbalancer, nodeport or ingress",
        ));
    }
    let Some(host) = host else {
        return Err(hint(
            "--expose gateway needs --host: the route matches the registry by host name",
            "pass --host registry.example.com (a DNS name that points at your Gateway)",
        ));
    };
    let names = || {
        a.gateways
            .iter()
            .map(|g| format!("{}/{}", g.namespace, g.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let gw = match requested {
        Some(r) => {
            let (ns, name) = r.split_once('/').ok_or_else(|| {
                hint(
                    format!("--gateway {r:?} is not NAMESPACE/NAME"),
                    "pass --gateway NAMESPACE/NAME, e.g. --gateway infra/public",
                )
            })?;
            a.gateways
                .iter()
                .find(|g| g.namespace == ns && g.name == name)
                .ok_or_else(|| {
                    hint(
                        format!("Gateway {r} does not exist"),
                        if a.gateways.is_empty() {
                            "this cluster has no Gateway: create one (with a TLS Passthrough or an HTTPS listener) first".to_string()
                        } else {
                            format!("pass --gateway with one of: {}", names())
                        },
                    )
                })?
        }
        None => match a.gateways.as_slice() {
            [only] => only,
            [] => {
                return Err(hint(
                    "--expose gateway: this cluster has no Gateway",
                    "create a Gateway with a TLS listener in Passthrough mode (or an HTTPS listener) for kreg's route",
                ))
            }
            _ => {
                return Err(hint(
                    "--expose gateway: several Gateways exist",
                    format!("pass --gateway with one of: {}", names()),
                ))
            }
        },
    };
    let fits = |l: &&ListenerFact| {
        l.hostname.as_deref().is_none_or(|h| host_matches(h, host))
            // Unset means Same: only routes from the Gateway's own namespace.
            && (gw.namespace == kreg_namespace
                || l.routes_from.as_deref().unwrap_or("Same") != "Same")
    };
    let passthrough = gw
        .listeners
        .iter()
        .filter(fits)
        .find(|l| l.protocol == "TLS" && l.tls_mode.as_deref() == Some("Passthrough"));
    let https = || {
        gw.listeners
            .iter()
            .filter(fits)
            .find(|l| l.protocol == "HTTPS")
    };
    let (listener, mode) = match (passthrough, https()) {
        (Some(l), _) => (l, GatewayMode::TlsPassthrough),
        (None, Some(l)) => (l, GatewayMode::Https),
        (None, None) => {
            return Err(hint(
                format!(
                    "Gateway {}/{} has no listener kreg's route can use for {host} from namespace {kreg_namespace}",
                    gw.namespace, gw.name
                ),
                "add a listener with protocol TLS and tls.mode Passthrough (or protocol HTTPS), whose hostname matches --host and whose allowedRoutes admit kreg's namespace (from: All or Selector)",
            ))
        }
    };
    Ok(GatewayChoice {
        namespace: gw.namespace.clone(),
        name: gw.name.clone(),
        listener: listener.name.clone(),
        port: listener.port,
        mode,
        address: gw.addresses.first().cloned(),
    })
}

/// An Ingress rule and a Gateway route match the registry by the name clients send (TLS SNI,
/// HTTP Host): an IP there is refused by the API server (Ingress validation; the Gateway
/// API's CEL rule on `hostnames`), so it is refused here, before anything is applied.
fn check_routed_host(expose: Expose, host: &str) -> Result<()> {
    if !matches!(expose, Expose::Ingress | Expose::Gateway) || host.parse::<IpAddr>().is_err() {
        return Ok(());
    }
    Err(hint(
        format!(
            "--expose {expose} routes by host name and --host {host} is an IP address"
        ),
        "pass a DNS name that resolves to the controller's address (--host registry.example.com), or expose the IP itself with --expose loadbalancer or nodeport",
    ))
}

/// A listener hostname (`*.example.com` matches one label or more, as Gateway API says) against
/// the registry's name.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn list_classes(a: &Abilities) -> String {
    if a.storage_classes.is_empty() {
        "this cluster has no StorageClass: install a provisioner, or use --storage emptydir (images are lost when the pod moves) or --storage s3".into()
    } else {
        format!(
            "pass --storage-class with one of: {} (or --storage emptydir, --storage s3)",
            a.storage_classes.join(", ")
        )
    }
}

fn no_default_class(a: &Abilities) -> anyhow::Error {
    hint(
        "this cluster has no default StorageClass, so the registry's PVC would never bind",
        list_classes(a),
    )
}

/// The address the cluster gave the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Address {
    Ip(IpAddr),
    Hostname(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Ip(ip) => write!(f, "{ip}"),
            Address::Hostname(h) => f.write_str(h),
        }
    }
}

/// Where clients reach the registry, and what its certificate must name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// IP SANs: the address itself when it is an IP.
    pub ips: Vec<IpAddr>,
}

impl Endpoint {
    /// What images are tagged with: `host` on 443, `host:port` otherwise.
    pub fn registry(&self) -> String {
        let host = match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => format!("[{}]", self.host),
            _ => self.host.clone(),
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Names the registry: the user's `--host` wins; a load balancer's hostname (EKS's ELBs) is used
/// as is, because ELB IPs change and a name pinned to one of them would break; an IP becomes
/// `registry.<ip>.<suffix>` (nip.io/sslip.io resolve it back to the IP).
pub fn endpoint(plan: &Plan, address: &Address, node_port: Option<u16>) -> Endpoint {
    let port = match plan.expose {
        Expose::NodePort | Expose::Localhost | Expose::LocalhostTls => {
            node_port.unwrap_or(names::CONTAINER_PORT as u16)
        }
        Expose::LoadBalancer | Expose::Ingress => 443,
        Expose::Gateway => plan.gateway.as_ref().map_or(443, |g| g.port),
    };
    let ips = match address {
        Address::Ip(ip) => vec![*ip],
        Address::Hostname(_) => vec![],
    };
    if plan.expose.is_localhost() {
        // The name every party uses: nodes reach it through the Service's ClusterIP (their
        // hosts.toml, see `dial`), this machine through `kreg port-forward`.
        // With TLS the certificate names the loopbacks too (`up` adds the ClusterIP).
        let loopbacks = match plan.expose {
            Expose::LocalhostTls => vec![
                IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ],
            _ => vec![],
        };
        return Endpoint {
            host: "localhost".into(),
            port,
            ips: loopbacks,
        };
    }
    let host = match (&plan.host, address) {
        (Some(h), _) => h.clone(),
        (None, Address::Hostname(h)) => h.clone(),
        // `--dns-suffix none`: the IP itself, for clusters and workstations without wildcard DNS.
        (None, Address::Ip(ip)) if plan.dns_suffix == NO_DNS => ip.to_string(),
        (None, Address::Ip(ip)) => wildcard_name(*ip, &plan.dns_suffix),
    };
    Endpoint { host, port, ips }
}

/// Where nodes connect to reach the registry (`IP:port`), so they need no DNS for its name:
/// the address when it is an IP the registry's certificate carries (LoadBalancer, NodePort).
/// For `--expose localhost`, the Service's ClusterIP (`cluster_ip`) and port: nodes reach it
/// through kube-proxy's ClusterIP rules, which every proxy mode has, while a NodePort on
/// 127.0.0.1 exists only in iptables mode with `route_localnet` (not in nftables or IPVS
/// mode). None for names (ELB hostnames, Ingress hosts).
pub fn dial(
    plan: &Plan,
    address: &Address,
    endpoint: &Endpoint,
    cluster_ip: Option<IpAddr>,
) -> Option<String> {
    if plan.expose.is_localhost() {
        return cluster_ip
            .map(|ip| std::net::SocketAddr::new(ip, names::CONTAINER_PORT as u16).to_string());
    }
    match (plan.expose, address) {
        (Expose::LoadBalancer | Expose::NodePort, Address::Ip(ip)) if endpoint.ips.contains(ip) => {
            Some(std::net::SocketAddr::new(*ip, endpoint.port).to_string())
        }
        _ => None,
    }
}

/// `--dns-suffix none`: name the registry by its IP address.
pub const NO_DNS: &str = "none";

/// `registry.10.1.2.3.nip.io`; IPv6 in sslip.io's dashed form (`registry.2001-db8--1.sslip.io`).
pub fn wildcard_name(ip: IpAddr, suffix: &str) -> String {
    match ip {
        IpAddr::V4(v4) => format!("registry.{v4}.{suffix}"),
        IpAddr::V6(v6) => format!("registry.{}.{suffix}", v6.to_string().replace(':', "-")),
    }
}

/// [`sample`] with everything that adds objects: `--auth`, a pull-secret namespace, a gc
/// schedule (the render and dry-run tests).
#[cfg(test)]
pub fn sample_full() -> Plan {
    let mut plan = sample(
        Expose::NodePort,
        Storage::Pvc {
            size: "10Gi".into(),
            class: None,
        },
    );
    plan.auth = true;
    plan.pull_secret_namespaces = vec!["team-a".into()];
    plan.gc_schedule = Some(GcSchedule {
        cron: "0 3 * * 0".into(),
        image: "bitnami/kubectl@sha256:00".into(),
        prune: Some(PrunePolicy {
            keep: Some(5),
            older_than: Some("30d".into()),
        }),
    });
    plan
}

/// A plan for the tests of the modules that render one (manifests, gc): a kind cluster with an
/// nginx IngressClass and a mirrored registry image.
#[cfg(test)]
pub fn sample(expose: Expose, storage: Storage) -> Plan {
    Plan {
        namespace: "kreg-test".into(),
        flavor: Flavor::Kind,
        expose,
        expose_reason: String::new(),
        public: false,
        lb_source_ranges: vec![],
        allow_anonymous_push: false,
        image: "mirror.example/registry:2.8".into(),
        storage,
        replicas: 1,
        ingress: Some(IngressChoice {
            class: "nginx".into(),
            controller: IngressController::Nginx,
            servers_transport: false,
        }),
        gateway: None,
        host: None,
        dns_suffix: "nip.io".into(),
        node_trust: true,
        dns_entry: true,
        allow_runtime_restart: false,
        restart_control_plane: false,
        agent_image: "kreg-test/kreg-agent@sha256:4242424242424242424242424242424242424242424242424242424242424242".into(),
        agent_bootstrap: false,
        node_port: None,
        node_port_kept: None,
        auth: false,
        pull_secret_namespaces: vec![],
        gc_schedule: None,
        mirrors: vec![],
        ca_secret: None,
        issuer: None,
    }
}

/// A request for the tests of the modules that plan or record one (plan, state).
#[cfg(test)]
pub fn sample_request() -> Request {
    Request {
        namespace: "kreg-system".into(),
        flavor: None,
        expose: None,
        public: false,
        lb_source_ranges: vec![],
        allow_anonymous_push: false,
        host: None,
        dns_suffix: "nip.io".into(),
        image: "registry:2".into(),
        storage: Storage::Pvc {
            size: "10Gi".into(),
            class: None,
        },
        replicas: 1,
        ingress_class: None,
        gateway: None,
        node_trust: true,
        dns_entry: true,
        allow_runtime_restart: false,
        restart_control_plane: false,
        agent_image: "a@sha256:00".into(),
        agent_bootstrap: false,
        auth: false,
        pull_secret_namespaces: vec![],
        gc_schedule: None,
        mirrors: vec![],
        ca_secret: None,
        issuer: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        sample_request()
    }

    fn abilities() -> Abilities {
        Abilities {
            storage_classes: vec!["standard".into(), "fast".into()],
            default_storage_class: Some("standard".into()),
            ingress_classes: vec![],
            gateway_api: false,
            gateways: vec![],
            traefik_transports: false,
        }
    }

    /// Two IngressClasses, neither the default: ingress-nginx's and Traefik's.
    fn nginx_and_traefik() -> Vec<IngressClassFact> {
        [
            ("nginx", "k8s.io/ingress-nginx"),
            ("traefik", "traefik.io/ingress-controller"),
        ]
        .iter()
        .map(|(name, controller)| IngressClassFact {
            name: (*name).into(),
            controller: (*controller).into(),
            is_default: false,
        })
        .collect()
    }

    fn listener(name: &str, protocol: &str, tls_mode: Option<&str>) -> ListenerFact {
        ListenerFact {
            name: name.into(),
            protocol: protocol.into(),
            port: 443,
            hostname: None,
            tls_mode: tls_mode.map(str::to_string),
            routes_from: Some("All".into()),
        }
    }

    fn with_gateway(listeners: Vec<ListenerFact>) -> Abilities {
        Abilities {
            gateway_api: true,
            gateways: vec![GatewayFact {
                namespace: "infra".into(),
                name: "public".into(),
                class: "example".into(),
                listeners,
                addresses: vec!["203.0.113.7".into()],
            }],
            ..abilities()
        }
    }

    fn gateway_req() -> Request {
        let mut r = req();
        r.expose = Some(Expose::Gateway);
        r.host = Some("registry.example.test".into());
        r
    }

    #[test]
    fn gateway_mode_prefers_tls_passthrough_then_https() {
        let https = listener("https", "HTTPS", None);
        let pass = listener("tls", "TLS", Some("Passthrough"));
        let term = listener("tls-term", "TLS", Some("Terminate"));
        let a = with_gateway(vec![https.clone(), term.clone(), pass]);
        let p = make(&gateway_req(), Flavor::Generic, &a).unwrap();
        let g = p.gateway.unwrap();
        assert_eq!(
            (g.mode, g.listener.as_str()),
            (GatewayMode::TlsPassthrough, "tls")
        );
        assert_eq!((g.namespace.as_str(), g.name.as_str()), ("infra", "public"));
        assert_eq!(g.address.as_deref(), Some("203.0.113.7"));
        let a = with_gateway(vec![term, https]);
        let g = make(&gateway_req(), Flavor::Generic, &a)
            .unwrap()
            .gateway
            .unwrap();
        assert_eq!((g.mode, g.listener.as_str()), (GatewayMode::Https, "https"));
        // A TLS listener that terminates is neither: kreg's route needs passthrough or HTTPS.
        let a = with_gateway(vec![listener("tls-term", "TLS", Some("Terminate"))]);
        let e = make(&gateway_req(), Flavor::Generic, &a).unwrap_err();
        assert!(format!("{e:#}").contains("no listener"), "{e:#}");
    }

    #[test]
    fn gateway_listener_must_match_the_host_and_admit_kregs_namespace() {
        let mut other_host = listener("tls", "TLS", Some("Passthrough"));
        other_host.hostname = Some("*.other.test".into());
        let mut wildcard = listener("https", "HTTPS", None);
        wildcard.hostname = Some("*.example.test".into());
        let a = with_gateway(vec![other_host, wildcard]);
        let g = make(&gateway_req(), Flavor::Generic, &a)
            .unwrap()
            .gateway
            .unwrap();
        assert_eq!(
            g.listener, "https",
            "the passthrough listener serves other names"
        );
        // Routes only from the Gateway's own namespace (also the default when unset).
        for from in [None, Some("Same")] {
            let mut same = listener("tls", "TLS", Some("Passthrough"));
            same.routes_from = from.map(str::to_string);
            let e = make(&gateway_req(), Flavor::Generic, &with_gateway(vec![same])).unwrap_err();
            let h = crate::error::hint_of(&e).unwrap_or_default();
            assert!(h.contains("allowedRoutes"), "{e:#}: {h}");
        }
        assert!(host_matches("*.example.test", "registry.example.test"));
        assert!(host_matches("*.example.test", "a.b.example.test"));
        assert!(!host_matches("*.example.test", "example.test"));
        assert!(host_matches(
            "Registry.example.test",
            "registry.example.test"
        ));
    }

    #[test]
    fn gateway_needs_the_api_a_gateway_and_a_host() {
        let e = make(&gateway_req(), Flavor::Generic, &abilities()).unwrap_err();
        assert!(
            format!("{e:#}").contains("does not serve the Gateway API"),
            "{e:#}"
        );
        let none = Abilities {
            gateway_api: true,
            ..abilities()
        };
        let e = make(&gateway_req(), Flavor::Generic, &none).unwrap_err();
        assert!(format!("{e:#}").contains("no Gateway"), "{e:#}");
        let a = with_gateway(vec![listener("tls", "TLS", Some("Passthrough"))]);
        let mut r = gateway_req();
        r.host = None;
        let e = make(&r, Flavor::Generic, &a).unwrap_err();
        assert!(format!("{e:#}").contains("needs --host"), "{e:#}");
        let mut r = gateway_req();
        r.gateway = Some("infra/nope".into());
        let e = make(&r, Flavor::Generic, &a).unwrap_err();
        let h = crate::error::hint_of(&e).unwrap_or_default();
        assert!(h.contains("one of: infra/public"), "{e:#}: {h}");
        r.gateway = Some("nope".into());
        let e = make(&r, Flavor::Generic, &a).unwrap_err();
        assert!(format!("{e:#}").contains("not NAMESPACE/NAME"), "{e:#}");
        let mut r = req();
        r.gateway = Some("infra/public".into());
        assert!(
            make(&r, Flavor::Generic, &a).is_err(),
            "--gateway without --expose gateway"
        );
    }

    #[test]
    fn only_ip_reached_exposures_need_the_ip_in_the_certificate() {
        for (e, named) in [
            (Expose::LoadBalancer, true),
            (Expose::NodePort, true),
            (Expose::Ingress, false),
            (Expose::Gateway, false),
            (Expose::Localhost, false),
            (Expose::LocalhostTls, false),
        ] {
            assert_eq!(e.cert_names_address_ip(), named, "{e}");
        }
    }

    #[test]
    fn ingress_and_gateway_refuse_an_ip_host() {
        let mut a = with_gateway(vec![listener("tls", "TLS", Some("Passthrough"))]);
        a.ingress_classes = vec![IngressClassFact {
            name: "traefik".into(),
            controller: "traefik.io/ingress-controller".into(),
            is_default: true,
        }];
        for expose in [Expose::Gateway, Expose::Ingress] {
            for ip in ["10.213.0.1", "fd00::1"] {
                let mut r = gateway_req();
                r.expose = Some(expose);
                r.host = Some(ip.into());
                let e = make(&r, Flavor::Generic, &a).unwrap_err();
                assert!(format!("{e:#}").contains("is an IP address"), "{e:#}");
                let h = crate::error::hint_of(&e).unwrap_or_default();
                assert!(h.contains("DNS name"), "{h}");
            }
            let mut r = gateway_req();
            r.expose = Some(expose);
            assert!(make(&r, Flavor::Generic, &a).is_ok(), "a name is fine");
        }
        // An IP host stays fine where nothing routes by name.
        let mut r = req();
        r.expose = Some(Expose::LoadBalancer);
        r.host = Some("10.213.0.1".into());
        assert!(make(&r, Flavor::Generic, &a).is_ok());
    }

    #[test]
    fn gateway_is_offered_without_an_ingress_class() {
        let a = with_gateway(vec![listener("tls", "TLS", Some("Passthrough"))]);
        let p = make(&req(), Flavor::Generic, &a).unwrap();
        assert_eq!(p.expose, Expose::NodePort, "offered, not chosen");
        assert!(
            p.expose_reason
                .contains("--expose gateway --host NAME routes through Gateway infra/public"),
            "{}",
            p.expose_reason
        );
        let mut with_class = a.clone();
        with_class.ingress_classes = vec![IngressClassFact {
            name: "nginx".into(),
            controller: "k8s.io/ingress-nginx".into(),
            is_default: true,
        }];
        let p = make(&req(), Flavor::Generic, &with_class).unwrap();
        assert!(!p.expose_reason.contains("gateway"), "{}", p.expose_reason);
        let p = make(&req(), Flavor::Generic, &abilities()).unwrap();
        assert!(!p.expose_reason.contains("gateway"), "{}", p.expose_reason);
    }

    #[test]
    fn pull_secrets_need_auth_and_auth_needs_tls() {
        let mut r = req();
        r.pull_secret_namespaces = vec!["b".into(), "a".into(), "b".into()];
        let e = make(&r, Flavor::Kind, &abilities()).unwrap_err();
        assert!(format!("{e:#}").contains("needs --auth"), "{e:#}");
        r.auth = true;
        let p = make(&r, Flavor::Kind, &abilities()).unwrap();
        assert_eq!(p.pull_secret_namespaces, ["a", "b"], "sorted, once each");
        r.expose = Some(Expose::Localhost);
        let e = make(&r, Flavor::Kind, &abilities()).unwrap_err();
        assert!(format!("{e:#}").contains("plain HTTP"), "{e:#}");
        r.expose = None;
        r.node_trust = false;
        r.agent_image = String::new();
        let e = make(&r, Flavor::Kind, &abilities()).unwrap_err();
        assert!(format!("{e:#}").contains("registry gate"), "{e:#}");
    }

    #[test]
    fn clouds_and_k3s_get_load_balancers_local_clusters_node_ports() {
        for (f, e) in [
            (Flavor::Eks, Expose::LoadBalancer),
            (Flavor::Aks, Expose::LoadBalancer),
            (Flavor::Gke, Expose::LoadBalancer),
            (Flavor::K3s, Expose::LoadBalancer),
            (Flavor::Kind, Expose::NodePort),
            (Flavor::Minikube, Expose::NodePort),
            (Flavor::Generic, Expose::NodePort),
        ] {
            assert_eq!(make(&req(), f, &abilities()).unwrap().expose, e, "{f}");
        }
    }

    #[test]
    fn cloud_load_balancers_are_internal_unless_public_and_public_needs_auth() {
        for f in [Flavor::Eks, Flavor::Aks, Flavor::Gke] {
            let p = make(&req(), f, &abilities()).unwrap();
            assert!(p.internal_lb(), "{f}");
            assert!(p.anonymous_reach().unwrap().contains("internal"), "{f}");
        }
        assert!(!make(&req(), Flavor::K3s, &abilities())
            .unwrap()
            .internal_lb());
        let mut r = req();
        r.public = true;
        let e = make(&r, Flavor::Eks, &abilities()).unwrap_err();
        assert!(e.to_string().contains("--public without --auth"), "{e}");
        assert!(crate::error::hint_of(&e)
            .unwrap()
            .contains("--allow-anonymous-push"));
        r.allow_anonymous_push = true;
        let p = make(&r, Flavor::Eks, &abilities()).unwrap();
        assert!(p.public && !p.internal_lb());
        assert!(p.anonymous_reach().unwrap().contains("internet"));
        r.allow_anonymous_push = false;
        r.auth = true;
        let p = make(&r, Flavor::Eks, &abilities()).unwrap();
        assert_eq!(p.anonymous_reach(), None);
        r.expose = Some(Expose::NodePort);
        let e = make(&r, Flavor::Eks, &abilities()).unwrap_err();
        assert!(e.to_string().contains("go with a LoadBalancer"), "{e}");
    }

    #[test]
    fn flags_override_detection() {
        let mut r = req();
        r.flavor = Some(Flavor::Eks);
        r.expose = Some(Expose::NodePort);
        let p = make(&r, Flavor::Kind, &abilities()).unwrap();
        assert_eq!((p.flavor, p.expose), (Flavor::Eks, Expose::NodePort));
        assert_eq!(p.expose_reason, "chosen with --expose");
    }

    #[test]
    fn default_storage_class_is_filled_in_and_missing_one_is_explained() {
        let p = make(&req(), Flavor::Kind, &abilities()).unwrap();
        assert_eq!(
            p.storage,
            Storage::Pvc {
                size: "10Gi".into(),
                class: Some("standard".into())
            }
        );

        let mut a = abilities();
        a.default_storage_class = None;
        let e = make(&req(), Flavor::Kind, &a).unwrap_err();
        assert!(e.to_string().contains("no default StorageClass"));
        let h = crate::error::hint_of(&e).unwrap();
        assert!(
            h.contains("standard, fast") && h.contains("--storage emptydir"),
            "{h}"
        );

        let mut r = req();
        r.storage = Storage::Pvc {
            size: "1Gi".into(),
            class: Some("nope".into()),
        };
        assert!(make(&r, Flavor::Kind, &abilities())
            .unwrap_err()
            .to_string()
            .contains("\"nope\""));

        r.storage = Storage::EmptyDir;
        assert_eq!(
            make(&r, Flavor::Kind, &a).unwrap().storage,
            Storage::EmptyDir
        );
    }

    #[test]
    fn replicas_need_s3() {
        let mut r = req();
        r.replicas = 3;
        assert!(make(&r, Flavor::Eks, &abilities()).is_err());
        r.storage = Storage::S3 {
            bucket: "b".into(),
            region: "us-east-1".into(),
            endpoint: None,
            secret: "s3".into(),
        };
        assert_eq!(make(&r, Flavor::Eks, &abilities()).unwrap().replicas, 3);
    }

    #[test]
    fn ingress_needs_a_class_and_a_host() {
        let mut r = req();
        r.expose = Some(Expose::Ingress);
        r.host = Some("registry.example.com".into());
        let e = make(&r, Flavor::Generic, &abilities()).unwrap_err();
        assert!(e.to_string().contains("no IngressClass"));

        let mut a = abilities();
        a.ingress_classes = nginx_and_traefik();
        let e = make(&r, Flavor::Generic, &a).unwrap_err();
        assert!(crate::error::hint_of(&e)
            .unwrap()
            .contains("nginx, traefik"));
        r.ingress_class = Some("nginx".into());
        let p = make(&r, Flavor::Generic, &a).unwrap();
        assert_eq!(p.ingress.unwrap().controller, IngressController::Nginx);

        r.host = None;
        assert!(make(&r, Flavor::Generic, &a)
            .unwrap_err()
            .to_string()
            .contains("--host"));
    }

    /// kreg gives Traefik a ServersTransport only where Traefik's CRDs are served, and never
    /// to another controller.
    #[test]
    fn traefik_gets_a_servers_transport_only_with_its_crds() {
        let mut r = req();
        r.expose = Some(Expose::Ingress);
        r.host = Some("registry.example.com".into());
        let mut a = abilities();
        a.ingress_classes = nginx_and_traefik();
        let with = |class: &str, crds: bool| {
            let mut r = r.clone();
            r.ingress_class = Some(class.into());
            let mut a = a.clone();
            a.traefik_transports = crds;
            make(&r, Flavor::Generic, &a).unwrap().ingress.unwrap()
        };
        assert!(with("traefik", true).servers_transport);
        assert!(!with("traefik", false).servers_transport);
        assert!(!with("nginx", true).servers_transport);
    }

    #[test]
    fn host_names_follow_the_address() {
        let p = make(&req(), Flavor::Eks, &abilities()).unwrap();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let e = endpoint(&p, &Address::Ip(ip), None);
        assert_eq!(e.host, "registry.203.0.113.7.nip.io");
        assert_eq!(e.ips, vec![ip]);
        assert_eq!(e.registry(), "registry.203.0.113.7.nip.io");

        let elb = "a1b2-123.elb.us-east-1.amazonaws.com";
        let e = endpoint(&p, &Address::Hostname(elb.into()), None);
        assert_eq!((e.host.as_str(), e.ips.len()), (elb, 0));

        let mut r = req();
        r.host = Some("registry.example.com".into());
        r.dns_suffix = "sslip.io".into();
        let p = make(&r, Flavor::Kind, &abilities()).unwrap();
        let e = endpoint(&p, &Address::Ip(ip), Some(31234));
        assert_eq!(e.registry(), "registry.example.com:31234");
        assert_eq!(
            e.ips,
            vec![ip],
            "the IP stays a SAN even under a custom name"
        );

        assert_eq!(
            wildcard_name("2001:db8::1".parse().unwrap(), "sslip.io"),
            "registry.2001-db8--1.sslip.io"
        );

        let mut r = req();
        r.expose = Some(Expose::Localhost);
        let p = make(&r, Flavor::Kind, &abilities()).unwrap();
        let e = endpoint(&p, &Address::Ip(ip), Some(30500));
        assert_eq!(
            (e.registry(), e.ips.len()),
            ("localhost:30500".to_string(), 0)
        );
    }

    #[test]
    fn mirror_names_are_dns_labels_stable_and_unique() {
        assert_eq!(mirror_name("docker.io"), "kreg-mirror-docker-io");
        assert_eq!(
            mirror_name("registry.k8s.io"),
            "kreg-mirror-registry-k8s-io"
        );
        assert_eq!(
            mirror_name("10.213.0.2:5001"),
            "kreg-mirror-10-213-0-2-5001"
        );
        // Folding would clash: '-' in the upstream, brackets: a hash keeps them apart.
        let a = mirror_name("a-b.io");
        let b = mirror_name("a.b.io");
        assert_ne!(a, b);
        assert!(
            a.starts_with("kreg-mirror-a-b-io-") && a.len() == "kreg-mirror-a-b-io-".len() + 8,
            "{a}"
        );
        assert_eq!(mirror_name("a-b.io"), a, "stable across runs");
        let v6 = mirror_name("[fd00::1]:5000");
        let long = mirror_name(&format!("{}.example.com", "x".repeat(60)));
        for n in [&a, &b, &v6, &long, &mirror_name("docker.io")] {
            let tls = format!("{n}-tls");
            assert!(tls.len() <= 63, "{tls}");
            assert!(
                tls.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !n.ends_with('-')
                    && n.starts_with("kreg-"),
                "{n}"
            );
        }
        assert_ne!(
            long,
            mirror_name(&format!("{}.example.org", "x".repeat(60)))
        );
    }

    #[test]
    fn one_mirror_per_upstream() {
        let mut r = req();
        r.mirrors = vec![
            Mirror::new("docker.io", "https://registry-1.docker.io", None),
            Mirror::new("ghcr.io", "https://ghcr.io", Some("gh".into())),
        ];
        let p = make(&r, Flavor::Kind, &abilities()).unwrap();
        assert_eq!(p.mirrors.len(), 2);
        assert_eq!(p.mirrors[1].tls_secret(), "kreg-mirror-ghcr-io-tls");
        assert_eq!(
            p.mirrors[0].service_host("kreg-system"),
            "kreg-mirror-docker-io.kreg-system.svc"
        );
        r.mirrors
            .push(Mirror::new("docker.io", "https://hub.example", None));
        let e = make(&r, Flavor::Kind, &abilities())
            .unwrap_err()
            .to_string();
        assert!(e.contains("given twice"), "{e}");
        r.mirrors = vec![Mirror::new(
            "corp:5000",
            "http://10.0.0.9:5000",
            Some("corp".into()),
        )];
        let e = make(&r, Flavor::Kind, &abilities())
            .unwrap_err()
            .to_string();
        assert!(e.contains("plain HTTP"), "{e}");
    }

    /// `--dns-suffix none`: the registry is its IP (bracketed for IPv6), and the CA permits no
    /// DNS subtree for a suffix that is not one.
    #[test]
    fn no_dns_names_the_registry_by_its_ip() {
        let mut p = sample(Expose::NodePort, Storage::EmptyDir);
        p.dns_suffix = NO_DNS.into();
        let v4: IpAddr = "10.214.0.10".parse().unwrap();
        assert_eq!(
            endpoint(&p, &Address::Ip(v4), Some(31000)).registry(),
            "10.214.0.10:31000"
        );
        let v6: IpAddr = "fd00::10".parse().unwrap();
        assert_eq!(
            endpoint(&p, &Address::Ip(v6), Some(31000)).registry(),
            "[fd00::10]:31000"
        );
        assert_eq!(p.wildcard_suffix(), None);
        let scope = crate::pki::ca_scope(p.wildcard_suffix(), None, "kreg-system", &[v4]);
        assert!(!scope.dns.iter().any(|d| d == "none"), "{:?}", scope.dns);
        p.dns_suffix = "sslip.io".into();
        assert_eq!(p.wildcard_suffix(), Some("sslip.io"));
    }

    #[test]
    fn localhost_tls_names_localhost_and_the_loopbacks() {
        let p = sample(Expose::LocalhostTls, Storage::EmptyDir);
        let node: IpAddr = "10.214.0.10".parse().unwrap();
        let e = endpoint(&p, &Address::Ip(node), Some(31000));
        assert_eq!(e.registry(), "localhost:31000");
        assert_eq!(
            e.ips,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(p.serves_tls() && Expose::LocalhostTls.is_localhost());
        assert!(!Expose::Localhost.serves_tls());
        assert_eq!(
            "localhost-tls".parse::<Expose>().unwrap(),
            Expose::LocalhostTls
        );
        // Plain localhost names no address: it has no certificate.
        let plain = sample(Expose::Localhost, Storage::EmptyDir);
        assert!(endpoint(&plain, &Address::Ip(node), Some(31000))
            .ips
            .is_empty());
    }

    #[test]
    fn nodes_dial_an_ip_the_certificate_carries_and_never_a_name() {
        let ip: IpAddr = "10.214.0.10".parse().unwrap();
        for (expose, want) in [
            (Expose::LoadBalancer, Some("10.214.0.10:443")),
            (Expose::NodePort, Some("10.214.0.10:31000")),
            (Expose::Localhost, Some("10.96.0.20:5000")),
        ] {
            let p = sample(expose, Storage::EmptyDir);
            let e = endpoint(&p, &Address::Ip(ip), Some(31000));
            let cluster_ip = Some("10.96.0.20".parse().unwrap());
            assert_eq!(
                dial(&p, &Address::Ip(ip), &e, cluster_ip).as_deref(),
                want,
                "{expose}"
            );
        }
        let p = sample(Expose::LoadBalancer, Storage::EmptyDir);
        let name = Address::Hostname("a.elb.example".into());
        assert_eq!(dial(&p, &name, &endpoint(&p, &name, None), None), None);
        // localhost mode without a ClusterIP (a headless Service): the NodePort on localhost.
        let p = sample(Expose::Localhost, Storage::EmptyDir);
        assert_eq!(
            dial(
                &p,
                &Address::Ip(ip),
                &endpoint(&p, &Address::Ip(ip), Some(31000)),
                None
            ),
            None
        );
        // IPv6 clusters: the ClusterIP in brackets.
        let v6 = Some("fd00:10:96::20".parse().unwrap());
        assert_eq!(
            dial(
                &p,
                &Address::Ip(ip),
                &endpoint(&p, &Address::Ip(ip), Some(31000)),
                v6
            )
            .as_deref(),
            Some("[fd00:10:96::20]:5000")
        );
    }

    #[test]
    fn issuer_references_parse_like_cert_manager_names_them() {
        let cases = [
            ("ClusterIssuer/my-ca", None),
            ("clusterissuer/my-ca", None),
            ("Issuer/team.ca", None),
            ("my-ca", None),
            ("my-ca", Some("ClusterIssuer")),
            ("ClusterIssuer/my-ca", Some("ClusterIssuer")),
            ("ClusterIssuer/my-ca", Some("Issuer")),
            ("AWSPCAClusterIssuer/pca", None),
            ("ClusterIssuer/", None),
            ("ClusterIssuer/My_CA", None),
            ("a/b/c", None),
        ];
        let table: Vec<String> = cases
            .iter()
            .map(|(v, k)| {
                let got = match IssuerRef::parse(v, *k) {
                    Ok(r) => format!("{:?} {:?}", r.kind, r.name),
                    Err(e) => format!("error: {e}"),
                };
                format!(
                    "--issuer {v}{} => {got}",
                    k.map(|k| format!(" --issuer-kind {k}")).unwrap_or_default()
                )
            })
            .collect();
        insta::assert_yaml_snapshot!("issuer_references", table);
    }

    #[test]
    fn an_issuer_needs_tls_no_other_ca_and_no_caches() {
        let i = IssuerRef::parse("ClusterIssuer/corp-ca", None).unwrap();
        let abilities = abilities();
        let mut req = sample_request();
        req.issuer = Some(i.clone());
        let p = make(&req, Flavor::Kind, &abilities).unwrap();
        assert_eq!(p.issuer, Some(i));
        let mut plain = req.clone();
        plain.expose = Some(Expose::Localhost);
        assert!(make(&plain, Flavor::Kind, &abilities)
            .unwrap_err()
            .to_string()
            .contains("plain HTTP"));
        let mut both = req.clone();
        both.ca_secret = Some("corp".into());
        let e = make(&both, Flavor::Kind, &abilities).unwrap_err();
        assert!(crate::error::hint_of(&e)
            .unwrap()
            .contains("--no-ca-secret"));
    }
}

//! Which kind of cluster kreg is talking to, decided from facts the caller gathered (nodes,
//! versions, ingress classes, kube-system workload names); plus what runtime a node runs and
//! which ingress controller an IngressClass names.
//!
//! Pure: the caller lists objects, this module only weighs them. Every signal that counted
//! becomes a human-readable evidence line so `kreg up` can say *why* it chose a flavour, and
//! `--flavor` can override a wrong guess.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// The cluster flavours kreg knows how to expose and trust a registry on.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    Kind,
    /// k3s, k3d and rke2 (they share registries.yaml).
    K3s,
    Minikube,
    Eks,
    Aks,
    Gke,
    /// kubeadm and anything unrecognised.
    Generic,
}

impl Flavor {
    /// Every flavour, in the order they are listed to users.
    pub const ALL: [Flavor; 7] = [
        Flavor::Kind,
        Flavor::K3s,
        Flavor::Minikube,
        Flavor::Eks,
        Flavor::Aks,
        Flavor::Gke,
        Flavor::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Kind => "kind",
            Flavor::K3s => "k3s",
            Flavor::Minikube => "minikube",
            Flavor::Eks => "eks",
            Flavor::Aks => "aks",
            Flavor::Gke => "gke",
            Flavor::Generic => "generic",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flavor {
    type Err = anyhow::Error;

    /// Accepts the flavour names (any case) plus the aliases `k3d` and `rke2` (k3s) and
    /// `kubeadm` (generic).
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(f) = Flavor::ALL.into_iter().find(|f| f.as_str() == lower) {
            return Ok(f);
        }
        match lower.as_str() {
            "k3d" | "rke2" => Ok(Flavor::K3s),
            "kubeadm" => Ok(Flavor::Generic),
            _ => anyhow::bail!(
                "unknown --flavor {s:?}: use one of kind, k3s (also k3d, rke2), minikube, eks, \
aks, gke, generic (also kubeadm)"
            ),
        }
    }
}

/// What kreg knows about one node (from its metadata and `status.nodeInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeFacts {
    pub name: String,
    pub provider_id: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub kubelet_version: String,
    pub container_runtime_version: String,
    pub os_image: String,
    /// `status.addresses` of type InternalIP and ExternalIP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// One IngressClass.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IngressClassFact {
    pub name: String,
    pub controller: String,
    pub is_default: bool,
}

/// One Gateway API Gateway: what `--expose gateway` chooses from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GatewayFact {
    pub namespace: String,
    pub name: String,
    pub class: String,
    pub listeners: Vec<ListenerFact>,
    /// `status.addresses[].value`, filled by the Gateway's controller.
    pub addresses: Vec<String>,
}

/// One listener of a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListenerFact {
    pub name: String,
    /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP`.
    pub protocol: String,
    pub port: u16,
    pub hostname: Option<String>,
    /// `tls.mode`: `Terminate` (the default) or `Passthrough`.
    pub tls_mode: Option<String>,
    /// `allowedRoutes.namespaces.from`: `Same` (the default), `All`, `Selector`.
    pub routes_from: Option<String>,
}

/// Everything detection looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterFacts {
    /// A sample of nodes: at most the first page of the list.
    pub nodes: Vec<NodeFacts>,
    /// `gitVersion` from `/version`.
    pub server_version: String,
    pub ingress_classes: Vec<IngressClassFact>,
    /// Names of Deployments and DaemonSets in kube-system.
    pub kube_system_names: Vec<String>,
}

/// The chosen flavour and the reasons, one line per signal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Detection {
    pub flavor: Flavor,
    pub evidence: Vec<String>,
}

/// How much one kind of signal weighs. The distribution's own version suffix is the most
/// certain (k3s on EC2 has an aws:// providerID but is still k3s, and what matters to kreg
/// is how the runtime is configured, which the distribution decides); then labels only the
/// managed service sets; then providerID, which beats anything named by a user (node names);
/// then kube-system workloads, which a user can install anywhere.
mod weight {
    pub const VERSION: u32 = 10;
    pub const LABEL: u32 = 8;
    pub const PROVIDER_ID: u32 = 7;
    pub const KUBE_SYSTEM: u32 = 4;
    pub const NODE_NAME: u32 = 3;
}

/// One kind of signal for one flavour, with the nodes it was seen on. Signals are counted
/// once however many nodes show them: a 50-node EKS cluster is not 50 times more EKS, and the
/// evidence stays one line per signal.
struct Signal {
    flavor: Flavor,
    weight: u32,
    /// Identifies the signal kind within the flavour ("pid", a label key, "kubelet"...).
    key: String,
    /// What was seen first, e.g. "providerID aws:///us-east-1a/i-0abc".
    what: String,
    /// Nodes it was seen on (empty for cluster-wide facts such as the server version).
    nodes: Vec<String>,
}

#[derive(Default)]
struct Signals(Vec<Signal>);

impl Signals {
    /// Records `what` for `flavor`; the same (flavor, key) again only adds the node name.
    fn add(&mut self, flavor: Flavor, weight: u32, key: &str, what: String, node: Option<&str>) {
        if let Some(s) = self
            .0
            .iter_mut()
            .find(|s| s.flavor == flavor && s.key == key)
        {
            s.nodes.extend(node.map(str::to_string));
            return;
        }
        self.0.push(Signal {
            flavor,
            weight,
            key: key.to_string(),
            what,
            nodes: node.map(str::to_string).into_iter().collect(),
        });
    }
}

fn render(s: &Signal) -> String {
    match s.nodes.as_slice() {
        [] => s.what.clone(),
        [one] => format!("node {one}: {}", s.what),
        [first, rest @ ..] => format!(
            "node {first}: {} (and {} more node{})",
            s.what,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// Decides the cluster's flavour. The flavour with the highest total weight wins; a tie at the
/// top, or no signal at all, gives `Generic` with a line saying so. Evidence lists the
/// winner's signals first, then any outweighed ones so a wrong guess is easy to diagnose.
pub fn detect(facts: &ClusterFacts) -> Detection {
    let mut sig = Signals::default();

    for n in &facts.nodes {
        let node = Some(n.name.as_str());
        if let Some(pid) = n.provider_id.as_deref().filter(|p| !p.is_empty()) {
            let by_prefix = [
                ("kind://", Flavor::Kind),
                ("k3s://", Flavor::K3s),
                ("aws://", Flavor::Eks),
                ("azure://", Flavor::Aks),
                ("gce://", Flavor::Gke),
            ];
            if let Some((_, f)) = by_prefix.iter().find(|(p, _)| pid.starts_with(p)) {
                sig.add(
                    *f,
                    weight::PROVIDER_ID,
                    "pid",
                    format!("providerID {pid}"),
                    node,
                );
            }
        }
        for (key, value) in &n.labels {
            let flavor = match key.as_str() {
                "minikube.k8s.io/name" => Some(Flavor::Minikube),
                "eks.amazonaws.com/nodegroup" | "eks.amazonaws.com/compute-type" => {
                    Some(Flavor::Eks)
                }
                "kubernetes.azure.com/cluster" => Some(Flavor::Aks),
                "cloud.google.com/gke-nodepool" => Some(Flavor::Gke),
                "node.kubernetes.io/instance-type" | "beta.kubernetes.io/instance-type"
                    if value == "k3s" || value == "rke2" =>
                {
                    Some(Flavor::K3s)
                }
                _ => None,
            };
            if let Some(f) = flavor {
                sig.add(f, weight::LABEL, key, format!("label {key}={value}"), node);
            }
        }
        if let Some((f, what)) = version_flavor(&n.kubelet_version) {
            sig.add(
                f,
                weight::VERSION,
                "kubelet",
                format!("kubelet {} ({what})", n.kubelet_version),
                node,
            );
        }
        if let Some((f, pattern)) = name_flavor(&n.name) {
            sig.add(
                f,
                weight::NODE_NAME,
                "name",
                format!("name looks like {pattern}"),
                node,
            );
        }
    }

    if let Some((f, what)) = version_flavor(&facts.server_version) {
        sig.add(
            f,
            weight::VERSION,
            "server",
            format!("API server version {} ({what})", facts.server_version),
            None,
        );
    }

    for name in &facts.kube_system_names {
        let flavor = match name.as_str() {
            "kindnet" => Some(Flavor::Kind),
            "traefik" => Some(Flavor::K3s),
            n if n.starts_with("svclb-") => Some(Flavor::K3s),
            "aws-node" => Some(Flavor::Eks),
            "azure-ip-masq-agent" | "cloud-node-manager" => Some(Flavor::Aks),
            "fluentbit-gke" | "gke-metrics-agent" => Some(Flavor::Gke),
            _ => None,
        };
        if let Some(f) = flavor {
            sig.add(
                f,
                weight::KUBE_SYSTEM,
                name,
                format!("kube-system has {name}"),
                None,
            );
        }
    }

    let mut scores: HashMap<Flavor, u32> = HashMap::new();
    for s in &sig.0 {
        *scores.entry(s.flavor).or_default() += s.weight;
    }
    let best = scores.values().copied().max().unwrap_or(0);
    let leaders: Vec<Flavor> = Flavor::ALL
        .into_iter()
        .filter(|f| best > 0 && scores.get(f) == Some(&best))
        .collect();

    let lines_for = |f: Flavor| sig.0.iter().filter(move |s| s.flavor == f).map(render);
    let mut evidence = Vec::new();
    let flavor = match leaders.as_slice() {
        [] => {
            evidence.push(
                "no kind, k3s, minikube, EKS, AKS or GKE signal found: treating the cluster as generic"
                    .to_string(),
            );
            Flavor::Generic
        }
        [one] => {
            evidence.extend(lines_for(*one));
            *one
        }
        many => {
            let names: Vec<&str> = many.iter().map(|f| f.as_str()).collect();
            evidence.push(format!(
                "signals for {} are equally strong: treating the cluster as generic (pass --flavor to choose)",
                names.join(" and ")
            ));
            Flavor::Generic
        }
    };
    for f in Flavor::ALL {
        if f == flavor || !scores.contains_key(&f) {
            continue;
        }
        evidence.extend(lines_for(f).map(|l| format!("also seen, for {f}: {l}")));
    }
    Detection { flavor, evidence }
}

/// The flavour a version string's distribution suffix names, with a short explanation.
fn version_flavor(v: &str) -> Option<(Flavor, &'static str)> {
    if v.contains("+k3s") {
        Some((Flavor::K3s, "k3s build"))
    } else if v.contains("+rke2") {
        Some((Flavor::K3s, "rke2 build, configured like k3s"))
    } else if v.contains("-eks-") {
        Some((Flavor::Eks, "EKS build"))
    } else if v.contains("-gke.") {
        Some((Flavor::Gke, "GKE build"))
    } else {
        None
    }
}

/// The flavour a node's name suggests: the default names the tools give nodes.
fn name_flavor(name: &str) -> Option<(Flavor, &'static str)> {
    if name.starts_with("k3d-") {
        Some((Flavor::K3s, "a k3d node"))
    } else if name == "minikube" || name.starts_with("minikube-m") {
        Some((Flavor::Minikube, "a minikube node"))
    } else if name.starts_with("kind-") {
        Some((Flavor::Kind, "a kind node"))
    } else if name.starts_with("aks-") && name.contains("-vmss") {
        Some((Flavor::Aks, "an AKS scale-set node"))
    } else if name.starts_with("gke-") {
        Some((Flavor::Gke, "a GKE node"))
    } else {
        None
    }
}

/// The family of ingress controller an IngressClass's `spec.controller` names, which decides
/// the annotations kreg puts on its Ingress (e.g. the body-size limit image pushes need).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IngressController {
    Nginx,
    Traefik,
    Haproxy,
    Other,
}

/// `k8s.io/ingress-nginx` (and the renamed values ingress-nginx docs suggest for running
/// several, like `k8s.io/internal-ingress-nginx`) -> Nginx; `traefik.io/...` -> Traefik;
/// `haproxy.org/...` or `haproxy-ingress.github.io/...` -> Haproxy. F5's `nginx.org/...`
/// controller is Other: it reads different annotations than ingress-nginx.
/// A network plugin known to enforce NetworkPolicy, and what showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEnforcer {
    pub plugin: &'static str,
    pub evidence: String,
}

/// Whether a network plugin that enforces NetworkPolicy by default runs here, judged from
/// the DaemonSets of the namespaces plugins install into (`kube-system`, `calico-system`) and
/// the flavour. Only positive evidence counts: kreg cannot ask a cluster whether its policies
/// are enforced, so `None` means "not known to be enforced", never "not enforced". Plugins
/// that enforce only when switched on (the AWS VPC CNI's policy agent, kindnet's) give `None`.
pub fn policy_enforcer(flavor: Flavor, daemonsets: &[String]) -> Option<PolicyEnforcer> {
    for name in daemonsets {
        let plugin = match name.as_str() {
            "calico-node" => "Calico",
            "canal" | "rke2-canal" => "Canal",
            // GKE Dataplane V2 runs Cilium as `anetd`.
            "cilium" | "anetd" => "Cilium",
            "antrea-agent" => "Antrea",
            "kube-router" => "kube-router",
            "weave-net" => "Weave Net",
            "azure-npm" => "Azure Network Policy Manager",
            "kube-network-policies" => "kube-network-policies",
            _ => continue,
        };
        return Some(PolicyEnforcer {
            plugin,
            evidence: format!("DaemonSet {name}"),
        });
    }
    (flavor == Flavor::K3s).then(|| PolicyEnforcer {
        plugin: "k3s",
        evidence: "k3s's embedded network-policy controller (unless k3s runs with --disable-network-policy)".into(),
    })
}

pub fn ingress_controller(controller: &str) -> IngressController {
    let c = controller.trim().to_ascii_lowercase();
    let (domain, path) = c.split_once('/').unwrap_or((c.as_str(), ""));
    if domain == "k8s.io" && path.contains("ingress-nginx") {
        IngressController::Nginx
    } else if domain.starts_with("traefik") {
        IngressController::Traefik
    } else if domain.starts_with("haproxy") {
        IngressController::Haproxy
    } else {
        IngressController::Other
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_known_enforcing_plugins_count() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let e = policy_enforcer(Flavor::Generic, &names(&["coredns", "calico-node"])).unwrap();
        assert_eq!(
            (e.plugin, e.evidence.as_str()),
            ("Calico", "DaemonSet calico-node")
        );
        assert_eq!(
            policy_enforcer(Flavor::Gke, &names(&["anetd"]))
                .unwrap()
                .plugin,
            "Cilium"
        );
        // k3s enforces with no DaemonSet of its own.
        assert_eq!(policy_enforcer(Flavor::K3s, &[]).unwrap().plugin, "k3s");
        // Flannel alone, kindnet and the AWS VPC CNI do not (or not by default).
        for (flavor, ds) in [
            (Flavor::Generic, names(&["kube-flannel-ds", "kube-proxy"])),
            (Flavor::Kind, names(&["kindnet"])),
            (Flavor::Eks, names(&["aws-node"])),
        ] {
            assert_eq!(policy_enforcer(flavor, &ds), None, "{ds:?}");
        }
    }

    use super::*;

    fn node(
        name: &str,
        pid: Option<&str>,
        labels: &[(&str, &str)],
        kubelet: &str,
        rt: &str,
    ) -> NodeFacts {
        NodeFacts {
            name: name.into(),
            provider_id: pid.map(str::to_string),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            kubelet_version: kubelet.into(),
            container_runtime_version: rt.into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            addresses: vec![],
        }
    }

    fn cluster(nodes: Vec<NodeFacts>, server: &str, ks: &[&str]) -> ClusterFacts {
        ClusterFacts {
            nodes,
            server_version: server.into(),
            ingress_classes: vec![],
            kube_system_names: ks.iter().map(|s| s.to_string()).collect(),
        }
    }

    const BASE_KS: [&str; 2] = ["coredns", "kube-proxy"];

    #[test]
    fn kind() {
        let c = cluster(
            vec![
                node(
                    "kind-control-plane",
                    Some("kind://docker/kind/kind-control-plane"),
                    &[("kubernetes.io/hostname", "kind-control-plane")],
                    "v1.31.0",
                    "containerd://1.7.18",
                ),
                node(
                    "kind-worker",
                    Some("kind://docker/kind/kind-worker"),
                    &[],
                    "v1.31.0",
                    "containerd://1.7.18",
                ),
            ],
            "v1.31.0",
            &["coredns", "kindnet", "kube-proxy"],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Kind);
        assert!(d.evidence.contains(
            &"node kind-control-plane: providerID kind://docker/kind/kind-control-plane (and 1 more node)".to_string()
        ), "{:#?}", d.evidence);
        assert!(
            d.evidence.iter().any(|e| e == "kube-system has kindnet"),
            "{:#?}",
            d.evidence
        );
    }

    #[test]
    fn k3s() {
        let c = cluster(
            vec![node(
                "edge-1",
                Some("k3s://edge-1"),
                &[("node.kubernetes.io/instance-type", "k3s")],
                "v1.30.4+k3s1",
                "containerd://1.7.20-k3s1",
            )],
            "v1.30.4+k3s1",
            &[
                "coredns",
                "local-path-provisioner",
                "metrics-server",
                "traefik",
                "svclb-traefik-1a2b3c4d",
            ],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::K3s);
        assert!(d
            .evidence
            .iter()
            .any(|e| e.contains("API server version v1.30.4+k3s1")));
        assert!(d
            .evidence
            .iter()
            .any(|e| e.contains("label node.kubernetes.io/instance-type=k3s")));
    }

    #[test]
    fn k3d() {
        let c = cluster(
            vec![
                node(
                    "k3d-dev-server-0",
                    Some("k3s://k3d-dev-server-0"),
                    &[],
                    "v1.29.6+k3s2",
                    "containerd://1.7.17-k3s1",
                ),
                node(
                    "k3d-dev-agent-0",
                    Some("k3s://k3d-dev-agent-0"),
                    &[],
                    "v1.29.6+k3s2",
                    "containerd://1.7.17-k3s1",
                ),
            ],
            "v1.29.6+k3s2",
            &["coredns", "traefik", "svclb-traefik-0f1e2d3c"],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::K3s);
        assert!(
            d.evidence.iter().any(|e| e.contains("a k3d node")),
            "{:#?}",
            d.evidence
        );
    }

    #[test]
    fn minikube_docker_driver() {
        let c = cluster(
            vec![node(
                "minikube",
                None,
                &[
                    ("minikube.k8s.io/name", "minikube"),
                    ("minikube.k8s.io/primary", "true"),
                    ("minikube.k8s.io/version", "v1.34.0"),
                ],
                "v1.31.0",
                "docker://27.2.0",
            )],
            "v1.31.0",
            &BASE_KS,
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Minikube);
        assert_eq!(
            d.evidence,
            [
                "node minikube: label minikube.k8s.io/name=minikube",
                "node minikube: name looks like a minikube node"
            ]
        );
    }

    #[test]
    fn eks_managed_nodegroup() {
        let c = cluster(
            vec![node(
                "ip-192-168-12-34.us-west-2.compute.internal",
                Some("aws:///us-west-2a/i-0123456789abcdef0"),
                &[
                    ("eks.amazonaws.com/nodegroup", "ng-default"),
                    ("eks.amazonaws.com/capacityType", "ON_DEMAND"),
                    ("node.kubernetes.io/instance-type", "m5.large"),
                ],
                "v1.30.2-eks-1552ad0",
                "containerd://1.7.11",
            )],
            "v1.30.4-eks-a737599",
            &["aws-node", "coredns", "ebs-csi-node", "kube-proxy"],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Eks);
        assert_eq!(d.evidence.len(), 5, "{:#?}", d.evidence);
    }

    #[test]
    fn aks_vmss() {
        let c = cluster(
            vec![node(
                "aks-nodepool1-12345678-vmss000000",
                Some("azure:///subscriptions/0000/resourceGroups/mc_rg_aks1_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0"),
                &[
                    ("kubernetes.azure.com/cluster", "MC_rg_aks1_westeurope"),
                    ("kubernetes.azure.com/agentpool", "nodepool1"),
                ],
                "v1.30.3",
                "containerd://1.7.20-1",
            )],
            "v1.30.3",
            &["azure-ip-masq-agent", "cloud-node-manager", "coredns", "konnectivity-agent", "kube-proxy"],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Aks);
        assert!(d
            .evidence
            .iter()
            .any(|e| e.contains("providerID azure:///")));
    }

    #[test]
    fn gke() {
        let c = cluster(
            vec![node(
                "gke-c1-default-pool-1a2b3c4d-xyz1",
                Some("gce://my-project/us-central1-a/gke-c1-default-pool-1a2b3c4d-xyz1"),
                &[("cloud.google.com/gke-nodepool", "default-pool")],
                "v1.30.3-gke.1639000",
                "containerd://1.7.19",
            )],
            "v1.30.3-gke.1639000",
            &[
                "fluentbit-gke",
                "gke-metrics-agent",
                "kube-dns",
                "konnectivity-agent",
            ],
        );
        assert_eq!(detect(&c).flavor, Flavor::Gke);
    }

    #[test]
    fn plain_kubeadm_is_generic() {
        let c = cluster(
            vec![
                node(
                    "cp-1",
                    None,
                    &[("node-role.kubernetes.io/control-plane", "")],
                    "v1.31.1",
                    "containerd://1.7.22",
                ),
                node("worker-1", None, &[], "v1.31.1", "cri-o://1.31.0"),
            ],
            "v1.31.1",
            &["calico-node", "coredns", "kube-proxy"],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Generic);
        assert_eq!(d.evidence.len(), 1);
        assert!(d.evidence[0].contains("generic"), "{:?}", d.evidence);
    }

    #[test]
    fn empty_cluster_is_generic() {
        let d = detect(&ClusterFacts::default());
        assert_eq!(d.flavor, Flavor::Generic);
        assert_eq!(d.evidence.len(), 1);
    }

    #[test]
    fn provider_id_beats_node_name() {
        // Someone named an EC2 node like a kind node.
        let c = cluster(
            vec![node(
                "kind-control-plane",
                Some("aws:///eu-west-1a/i-0abc"),
                &[],
                "v1.30.0",
                "containerd://1.7.0",
            )],
            "v1.30.0",
            &[],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Eks);
        assert_eq!(
            d.evidence[0],
            "node kind-control-plane: providerID aws:///eu-west-1a/i-0abc"
        );
        assert!(
            d.evidence
                .iter()
                .any(|e| e.starts_with("also seen, for kind:")),
            "{:#?}",
            d.evidence
        );
    }

    #[test]
    fn k3s_on_ec2_is_k3s() {
        // With the AWS cloud provider, k3s nodes get aws:// IDs; the runtime is still k3s's.
        let c = cluster(
            vec![node(
                "ip-10-0-0-5",
                Some("aws:///us-east-1a/i-0def"),
                &[],
                "v1.30.4+k3s1",
                "containerd://1.7.20-k3s1",
            )],
            "v1.30.4+k3s1",
            &["traefik"],
        );
        assert_eq!(detect(&c).flavor, Flavor::K3s);
    }

    #[test]
    fn equal_signals_tie_to_generic() {
        let c = cluster(
            vec![
                node("a", Some("kind://docker/kind/a"), &[], "v1.30.0", ""),
                node("b", Some("azure:///subscriptions/x"), &[], "v1.30.0", ""),
            ],
            "v1.30.0",
            &[],
        );
        let d = detect(&c);
        assert_eq!(d.flavor, Flavor::Generic);
        assert!(
            d.evidence[0].contains("kind and aks are equally strong"),
            "{:#?}",
            d.evidence
        );
        assert_eq!(d.evidence.len(), 3, "both sides' signals are still shown");
    }

    #[test]
    fn rke2_counts_as_k3s() {
        let c = cluster(vec![], "v1.30.4+rke2r1", &[]);
        assert_eq!(detect(&c).flavor, Flavor::K3s);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let c = cluster(
            vec![
                node("", Some(""), &[("", "")], "", ""),
                node("\u{0}", Some("://"), &[], "+k3s", "://"),
            ],
            "",
            &["", "svclb-"],
        );
        let d = detect(&c);
        // "+k3s" kubelet and "svclb-" still count; nothing panics on empty strings.
        assert_eq!(d.flavor, Flavor::K3s);
        assert!(!d.evidence.is_empty());
    }

    #[test]
    fn flavor_names_round_trip() {
        for f in Flavor::ALL {
            assert_eq!(f.to_string().parse::<Flavor>().unwrap(), f);
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{f}\""));
        }
        assert_eq!("k3d".parse::<Flavor>().unwrap(), Flavor::K3s);
        assert_eq!("kubeadm".parse::<Flavor>().unwrap(), Flavor::Generic);
        assert_eq!("EKS".parse::<Flavor>().unwrap(), Flavor::Eks);
        let e = "openshift".parse::<Flavor>().unwrap_err().to_string();
        assert!(
            e.contains("\"openshift\"") && e.contains("minikube") && e.contains("kubeadm"),
            "{e}"
        );
    }

    #[test]
    fn ingress_controllers() {
        use IngressController::*;
        for (c, want) in [
            ("k8s.io/ingress-nginx", Nginx),
            ("k8s.io/internal-ingress-nginx", Nginx),
            ("traefik.io/ingress-controller", Traefik),
            ("haproxy.org/ingress-controller/haproxy", Haproxy),
            ("haproxy-ingress.github.io/controller", Haproxy),
            ("nginx.org/ingress-controller", Other),
            ("k8s.io/ingress-gce", Other),
            ("", Other),
        ] {
            assert_eq!(ingress_controller(c), want, "{c}");
        }
    }
}

//! Reading what detection and planning need. Every list is paged with a small limit: on a
//! cluster of thousands of nodes kreg reads one page, never the whole node list.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};
use kube::ResourceExt;

use super::{api_error, Cluster};
use crate::detect::{
    ingress_controller, ClusterFacts, IngressClassFact, IngressController, NodeFacts,
};
use crate::plan::names;
use crate::plan::Abilities;

/// Nodes sampled for detection (detection needs a few, not all).
const NODE_SAMPLE: u32 = 50;
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const DEFAULT_INGRESS_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";

pub fn node_facts(n: &Node) -> NodeFacts {
    let info = n.status.as_ref().and_then(|s| s.node_info.as_ref());
    NodeFacts {
        name: n.name_any(),
        provider_id: n.spec.as_ref().and_then(|s| s.provider_id.clone()),
        labels: n.labels().clone(),
        kubelet_version: info.map(|i| i.kubelet_version.clone()).unwrap_or_default(),
        container_runtime_version: info
            .map(|i| i.container_runtime_version.clone())
            .unwrap_or_default(),
        os_image: info.map(|i| i.os_image.clone()).unwrap_or_default(),
        addresses: n
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .into_iter()
            .flatten()
            .filter(|a| a.type_ == "InternalIP" || a.type_ == "ExternalIP")
            .map(|a| a.address.clone())
            .collect(),
    }
}

/// Node annotations that hold an address the node's own host sends from when it reaches a
/// Pod on another node through an overlay: Calico's IPIP/VXLAN/WireGuard tunnel devices and
/// Cilium's `cilium_host`. Flannel's public IPs are the addresses it tunnels between.
const NODE_ADDRESS_ANNOTATIONS: &[&str] = &[
    "projectcalico.org/IPv4IPIPTunnelAddr",
    "projectcalico.org/IPv4VXLANTunnelAddr",
    "projectcalico.org/IPv6VXLANTunnelAddr",
    "projectcalico.org/IPv4WireguardInterfaceAddr",
    "projectcalico.org/IPv6WireguardInterfaceAddr",
    "network.cilium.io/ipv4-cilium-host",
    "network.cilium.io/ipv6-cilium-host",
    "io.cilium.network.ipv4-cilium-host",
    "io.cilium.network.ipv6-cilium-host",
    "flannel.alpha.coreos.com/public-ip",
    "flannel.alpha.coreos.com/public-ip-v6",
];
const FLANNEL_BACKEND: &str = "flannel.alpha.coreos.com/backend-type";

/// The addresses a node's host network sends from when its containerd pulls through a cache
/// on another node: its InternalIPs (IPv4 and IPv6) and, for the network plugins kreg knows,
/// the overlay's own address on that node (the kernel picks it as source for a Pod behind the
/// tunnel, and kube-proxy masquerades ClusterIP traffic to it). Flannel's VXLAN device
/// carries the network address of the node's Pod CIDR (`10.244.1.0`), which host-local IPAM
/// never gives a Pod. Sorted, without repeats.
pub fn node_sources(n: &Node) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let addresses = n.status.as_ref().and_then(|s| s.addresses.as_ref());
    for a in addresses.into_iter().flatten() {
        if a.type_ == "InternalIP" {
            out.extend(parse_ip(&a.address));
        }
    }
    let notes = n.annotations();
    for key in NODE_ADDRESS_ANNOTATIONS {
        if let Some(v) = notes.get(*key) {
            out.extend(parse_ip(v));
        }
    }
    if notes.get(FLANNEL_BACKEND).is_some_and(|b| b == "vxlan") {
        let spec = n.spec.as_ref();
        let cidrs = spec
            .and_then(|s| s.pod_cidrs.clone())
            .filter(|c| !c.is_empty())
            .or_else(|| spec.and_then(|s| s.pod_cidr.clone()).map(|c| vec![c]));
        for c in cidrs.into_iter().flatten() {
            if let Some((net, _)) = c.split_once('/') {
                out.extend(parse_ip(net));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// An address as nodes and plugins write it: bare, or with a prefix length.
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.split('/').next()?.trim().parse().ok()
}

impl Cluster {
    /// [`node_sources`] of every node (all pages: the policy must name each node), sorted.
    pub async fn node_sources(&self) -> Result<Vec<IpAddr>> {
        let nodes = Api::<Node>::all(self.client());
        let mut lp = ListParams::default().limit(500);
        let mut out = Vec::new();
        loop {
            let page = nodes
                .list(&lp)
                .await
                .map_err(|e| api_error(e, "listing nodes"))?;
            out.extend(page.items.iter().flat_map(node_sources));
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => lp.continue_token = Some(token),
                None => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Names of the DaemonSets in the namespaces network plugins install into (kube-system,
    /// and calico-system for Calico's operator); an unreadable namespace gives none, as a
    /// namespaced user sees it. Input of [`crate::detect::policy_enforcer`].
    pub async fn network_plugin_daemonsets(&self) -> Vec<String> {
        let small = ListParams::default().limit(500);
        let mut names = Vec::new();
        for ns in ["kube-system", "calico-system"] {
            let api = Api::<DaemonSet>::namespaced(self.client(), ns);
            if let Ok(l) = api.list_metadata(&small).await {
                names.extend(l.items.iter().map(|o| o.name_any()));
            }
        }
        names
    }

    /// Facts for detection and the cluster's abilities for planning, read concurrently.
    pub async fn facts(&self) -> Result<(ClusterFacts, Abilities)> {
        let c = self.client();
        let page = ListParams::default().limit(NODE_SAMPLE);
        let nodes = Api::<Node>::all(c.clone());
        let deploys = Api::<Deployment>::namespaced(c.clone(), "kube-system");
        let daemons = Api::<DaemonSet>::namespaced(c.clone(), "kube-system");
        let ingress = Api::<IngressClass>::all(c.clone());
        let storage = Api::<StorageClass>::all(c.clone());
        let small = ListParams::default().limit(500);
        let (version, nodes, deploys, daemons, ingress, storage) = tokio::try_join!(
            async {
                c.apiserver_version()
                    .await
                    .map_err(|e| api_error(e, "reading the server version"))
            },
            async {
                nodes
                    .list(&page)
                    .await
                    .map_err(|e| api_error(e, "listing nodes"))
            },
            async {
                Ok(deploys
                    .list_metadata(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
            async {
                Ok(daemons
                    .list_metadata(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
            // IngressClasses and StorageClasses may be unreadable for a namespaced user; that
            // only narrows the plan, so it is not an error.
            async {
                Ok(ingress
                    .list(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
            async {
                Ok(storage
                    .list(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
        )?;
        let mut kube_system_names: Vec<String> = deploys.iter().map(|d| d.name_any()).collect();
        kube_system_names.extend(daemons.iter().map(|d| d.name_any()));
        let ingress_classes: Vec<IngressClassFact> = ingress
            .iter()
            .map(|ic| IngressClassFact {
                name: ic.name_any(),
                controller: ic
                    .spec
                    .as_ref()
                    .and_then(|s| s.controller.clone())
                    .unwrap_or_default(),
                is_default: is_true(ic.annotations(), DEFAULT_INGRESS_CLASS),
            })
            .collect();
        let facts = ClusterFacts {
            nodes: nodes.items.iter().map(node_facts).collect(),
            server_version: version.git_version,
            ingress_classes: ingress_classes.clone(),
            kube_system_names,
        };
        let (gateway_api, gateways) = self.gateway_facts().await;
        // One discovery request, only where a Traefik IngressClass could use the answer.
        let traefik_transports = ingress_classes
            .iter()
            .any(|c| ingress_controller(&c.controller) == IngressController::Traefik)
            && self.serves_custom("ServersTransport").await;
        let abilities = Abilities {
            storage_classes: storage.iter().map(|s| s.name_any()).collect(),
            default_storage_class: storage
                .iter()
                .find(|s| is_true(s.annotations(), DEFAULT_CLASS))
                .map(|s| s.name_any()),
            ingress_classes,
            gateway_api,
            gateways,
            traefik_transports,
        };
        Ok((facts, abilities))
    }

    /// Bytes the registry's data volume uses, from the kubelet's stats summary on the node that
    /// runs the registry pod (via the API server's node proxy). `None` when that is not
    /// readable (no `nodes/proxy` right, no running pod, or a volume type without stats).
    pub async fn registry_storage_used(&self) -> Option<u64> {
        let pods: Api<Pod> = self.ns_api();
        let lp =
            ListParams::default().labels(&format!("app.kubernetes.io/name={}", names::REGISTRY));
        let pod = pods
            .list(&lp)
            .await
            .ok()?
            .items
            .into_iter()
            .find(super::node_trust::pod_ready)?;
        let node = pod.spec.as_ref()?.node_name.clone()?;
        let req = http::Request::get(format!("/api/v1/nodes/{node}/proxy/stats/summary"))
            .body(Vec::new())
            .ok()?;
        let summary: serde_json::Value =
            serde_json::from_str(&self.client().request_text(req).await.ok()?).ok()?;
        summary["pods"].as_array()?.iter().find(|p| {
            p["podRef"]["name"] == pod.name_any().as_str()
                && p["podRef"]["namespace"] == self.namespace.as_str()
        })?["volume"]
            .as_array()?
            .iter()
            .find(|v| v["name"] == "data")?["usedBytes"]
            .as_u64()
    }
}

fn is_true(annotations: &BTreeMap<String, String>, key: &str) -> bool {
    annotations.get(key).is_some_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeAddress, NodeSpec, NodeStatus};

    fn node(addresses: &[(&str, &str)], notes: &[(&str, &str)], pod_cidrs: &[&str]) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some("n".into());
        n.metadata.annotations = Some(
            notes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        n.spec = Some(NodeSpec {
            pod_cidrs: Some(pod_cidrs.iter().map(|c| c.to_string()).collect()),
            ..Default::default()
        });
        n.status = Some(NodeStatus {
            addresses: Some(
                addresses
                    .iter()
                    .map(|(t, a)| NodeAddress {
                        type_: t.to_string(),
                        address: a.to_string(),
                    })
                    .collect(),
            ),
            ..Default::default()
        });
        n
    }

    fn ips(v: &[&str]) -> Vec<IpAddr> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_node_sends_from_its_internal_ips_and_known_tunnel_addresses() {
        let plain = node(
            &[
                ("InternalIP", "10.0.0.12"),
                ("InternalIP", "fd00:10::12"),
                ("ExternalIP", "203.0.113.7"),
                ("Hostname", "worker-1"),
            ],
            &[],
            &["10.244.1.0/24"],
        );
        // External addresses are never the source towards a ClusterIP; no plugin, no tunnel.
        assert_eq!(node_sources(&plain), ips(&["10.0.0.12", "fd00:10::12"]));

        let calico = node(
            &[("InternalIP", "10.0.0.13")],
            &[
                ("projectcalico.org/IPv4IPIPTunnelAddr", "192.168.7.64"),
                ("projectcalico.org/IPv4Address", "10.0.0.13/24"),
            ],
            &[],
        );
        assert_eq!(node_sources(&calico), ips(&["10.0.0.13", "192.168.7.64"]));

        let flannel = node(
            &[("InternalIP", "10.0.0.14")],
            &[
                ("flannel.alpha.coreos.com/backend-type", "vxlan"),
                ("flannel.alpha.coreos.com/public-ip", "10.0.0.14"),
            ],
            &["10.42.3.0/24", "fd42:0:0:3::/64"],
        );
        assert_eq!(
            node_sources(&flannel),
            ips(&["10.0.0.14", "10.42.3.0", "fd42:0:0:3::"])
        );

        // Garbage in an annotation or an address is skipped, not an error.
        let odd = node(
            &[("InternalIP", "not-an-ip")],
            &[("network.cilium.io/ipv4-cilium-host", "")],
            &[],
        );
        assert!(node_sources(&odd).is_empty());
        assert!(node_sources(&Node::default()).is_empty());
    }
}

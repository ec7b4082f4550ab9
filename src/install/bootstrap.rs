//! The trust-free first pull of kreg's own image. Nodes cannot pull the node agent from kreg's
//! registry before the agent has made them trust it, so `up` serves that one image where every
//! runtime pulls without trust: plain HTTP on the node's own loopback. containerd (1.6.9+, 1.7,
//! 2.x) and Docker treat `127.0.0.0/8` registries as plain HTTP by default; integrity comes from
//! the digest the Pod specs pin.
//!
//! The objects (`manifests/bootstrap-*.yaml`, rendered in [`crate::render`]'s bootstrap stage):
//! a store (a Deployment of two Distribution processes from the registry's image: one writable
//! on its pod's loopback, reached by `up`'s port-forward only, one read-only), its ClusterIP
//! Service, and a relay per node (Distribution in proxy mode, which refuses pushes) on a hostPort
//! bound to `127.0.0.1:5057`. Why a hostPort and not a NodePort on 127.0.0.1: the portmap CNI
//! plugin forwards a loopback hostPort whatever kube-proxy does, while a loopback NodePort
//! works only under iptables kube-proxy (it needs `route_localnet`, which nftables and IPVS
//! kube-proxy leave off), so one path serves every kube-proxy mode with nothing to detect.
//!
//! Order (so nothing waits on itself): store ready → push kreg's image into it → relays ready on
//! every node → the workload (node agents; with `--auth`, the registry's gate) pulls
//! `127.0.0.1:5057/kreg/agent@sha256:…`. The objects stay while the workload refers to them: a
//! restarted agent or a node that joins later pulls the same way. The store holds nothing but
//! kreg's image, and no port outside a pod's loopback accepts a write.

use std::fmt;
use std::io::Read;

use anyhow::{anyhow, Context, Result};

use crate::agent_image::{self, Built};
use crate::detect::NodeFacts;
use crate::error::hint;
use crate::image::{Image, Manifest, OCI_INDEX};
use crate::plan::names;
use crate::registry::Registry;

/// The bytes of kreg's image that `up` pushes into the bootstrap store.
pub enum Payload {
    /// Made from this executable ([`agent_image::build`]).
    Built(Built),
    /// Read from `--agent-image-archive` (every digest verified).
    Archive(Image),
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Built(b) => write!(f, "Built({})", b.digest()),
            Payload::Archive(i) => write!(f, "Archive({})", i.top().digest),
        }
    }
}

impl Payload {
    /// The digest nodes pull by: the manifest's, or the index's of a multi-platform archive.
    pub fn digest(&self) -> &str {
        match self {
            Payload::Built(b) => b.digest(),
            Payload::Archive(i) => &i.top().digest,
        }
    }

    /// `127.0.0.1:5057/kreg/agent@sha256:…`: the reference every Pod spec of kreg's image uses.
    pub fn reference(&self) -> String {
        format!(
            "127.0.0.1:{}/{}@{}",
            names::BOOTSTRAP_PORT,
            agent_image::REPO,
            self.digest()
        )
    }

    /// The architectures the image has (empty: unknown, not checked).
    pub fn architectures(&self) -> Result<Vec<String>> {
        match self {
            Payload::Built(b) => Ok(vec![b.arch.to_string()]),
            Payload::Archive(i) => archive_architectures(i),
        }
    }

    /// Uploads the blobs, then the manifests (children before the index); the top one also
    /// gets kreg's version as its tag, for people looking at the store.
    pub async fn push(&self, client: &Registry) -> Result<()> {
        let repo = agent_image::REPO;
        let manifests: &[Manifest] = match self {
            Payload::Built(b) => {
                for (digest, bytes) in &b.blobs {
                    client.upload_bytes(repo, digest, bytes).await?;
                }
                std::slice::from_ref(&b.manifest)
            }
            Payload::Archive(i) => {
                for blob in &i.blobs {
                    if !client.has_blob(repo, &blob.digest).await? {
                        client.upload_blob(repo, blob).await?;
                    }
                }
                &i.manifests
            }
        };
        for m in manifests {
            client.put_manifest(repo, &m.digest, m).await?;
        }
        Ok(())
    }
}

/// An archive's platforms: its index's entries, or the one manifest's config.
fn archive_architectures(i: &Image) -> Result<Vec<String>> {
    let top = i.top();
    if top.media_type == OCI_INDEX || top.media_type == crate::image::DOCKER_LIST {
        let index: serde_json::Value = serde_json::from_slice(&top.bytes)?;
        return Ok(index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["platform"]["architecture"].as_str().map(str::to_string))
            .collect());
    }
    let manifest: serde_json::Value = serde_json::from_slice(&top.bytes)?;
    let Some(config) = i
        .blobs
        .iter()
        .find(|b| manifest["config"]["digest"].as_str() == Some(b.digest.as_str()))
    else {
        return Ok(vec![]);
    };
    let mut text = String::new();
    config
        .at
        .open()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .context("reading the image's config")?;
    let config: serde_json::Value = serde_json::from_str(&text)?;
    Ok(config["architecture"]
        .as_str()
        .map(|a| vec![a.to_string()])
        .unwrap_or_default())
}

/// Every node the agent runs on must be able to pull from its loopback without trust and run
/// the image: refused before anything is applied, naming the node, the reason and the remedy.
pub fn check_nodes(nodes: &[NodeFacts], architectures: &[String]) -> Result<()> {
    let skipped = crate::manifests::nodes_without_agent(nodes);
    let remedy = "pass --agent-image IMAGE@sha256:DIGEST with kreg's image in a registry those nodes already pull from, or use --no-node-trust";
    let mut refused = vec![];
    for n in nodes {
        if skipped
            .iter()
            .any(|s| s.starts_with(&format!("{} (", n.name)))
        {
            continue;
        }
        let runtime = n
            .container_runtime_version
            .split("://")
            .next()
            .unwrap_or_default();
        if !matches!(runtime, "containerd" | "docker" | "") {
            // CRI-O (containers/image) pulls plain HTTP only from registries listed as
            // insecure in registries.conf, loopback included.
            refused.push(format!(
                "{} ({}: pulls plain HTTP from 127.0.0.1 only where registries.conf lists it as insecure)",
                n.name, n.container_runtime_version
            ));
            continue;
        }
        let ipv6_only = !n.addresses.is_empty()
            && n.addresses
                .iter()
                .all(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
        if ipv6_only {
            refused.push(format!(
                "{} (IPv6-only: its pods have no IPv4 address for the 127.0.0.1 relay to forward to)",
                n.name
            ));
        }
    }
    if !refused.is_empty() {
        return Err(hint(
            format!(
                "these nodes cannot get kreg's node agent through the trust-free bootstrap: {}; nothing was changed",
                refused.join(", ")
            ),
            remedy,
        ));
    }
    if let [arch] = architectures {
        let by_node: Vec<(String, String)> = nodes
            .iter()
            .filter(|n| {
                !skipped
                    .iter()
                    .any(|s| s.starts_with(&format!("{} (", n.name)))
            })
            .map(|n| {
                let a = n.labels.get("kubernetes.io/arch").cloned();
                (n.name.clone(), a.unwrap_or_default())
            })
            .collect();
        agent_image::check_nodes(arch, &by_node)?;
    }
    Ok(())
}

/// The plain-HTTP client for the store's writable port, through a port-forward at `local`.
pub fn store_client(local: std::net::SocketAddr) -> Result<Registry> {
    let target = crate::registry::Target {
        host: "127.0.0.1".into(),
        port: local.port(),
        plain_http: true,
        connect: Some(local),
    };
    Registry::new(&target, "", None).map_err(|e| anyhow!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, rt: &str, arch: &str, addresses: &[&str]) -> NodeFacts {
        NodeFacts {
            name: name.into(),
            container_runtime_version: rt.into(),
            labels: [
                ("kubernetes.io/arch".to_string(), arch.to_string()),
                ("kubernetes.io/os".to_string(), "linux".to_string()),
            ]
            .into(),
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn containerd_and_docker_nodes_of_the_image_architecture_pass() {
        let nodes = [
            node("a", "containerd://1.7.24", "amd64", &["10.0.0.2"]),
            node("b", "containerd://2.1.9", "amd64", &["10.0.0.3", "fd00::3"]),
            node("c", "docker://27.0.1", "amd64", &[]),
        ];
        check_nodes(&nodes, &["amd64".into()]).unwrap();
    }

    #[test]
    fn cri_o_ipv6_only_and_foreign_architecture_nodes_are_refused_by_name() {
        let e = |nodes: &[NodeFacts]| {
            format!("{:#}", check_nodes(nodes, &["amd64".into()]).unwrap_err())
        };
        let crio = e(&[
            node("ok", "containerd://1.7.24", "amd64", &[]),
            node("w1", "cri-o://1.31.0", "amd64", &[]),
        ]);
        assert!(
            crio.contains("w1 (cri-o://1.31.0") && !crio.contains("ok ("),
            "{crio}"
        );
        assert!(crio.contains("nothing was changed"), "{crio}");
        let v6 = e(&[node("v6", "containerd://1.7.24", "amd64", &["fd00::2"])]);
        assert!(v6.contains("v6 (IPv6-only"), "{v6}");
        let arm = e(&[node("pi", "containerd://1.7.24", "arm64", &[])]);
        assert!(arm.contains("pi (arm64)"), "{arm}");
        // A multi-platform archive is not checked against the nodes here: the runtime picks.
        check_nodes(
            &[node("pi", "containerd://1.7.24", "arm64", &[])],
            &["amd64".into(), "arm64".into()],
        )
        .unwrap();
    }

    #[test]
    fn windows_and_virtual_nodes_run_no_agent_and_are_not_checked() {
        let mut win = node("win", "docker://20.10", "amd64", &[]);
        win.labels
            .insert("kubernetes.io/os".into(), "windows".into());
        let mut vk = node("vk", "cri-o://x", "amd64", &[]);
        vk.labels.insert("type".into(), "virtual-kubelet".into());
        check_nodes(&[win, vk], &["amd64".into()]).unwrap();
    }

    #[test]
    fn the_reference_is_the_loopback_relay_by_digest() {
        let b = crate::agent_image::assemble("amd64", &[]);
        let p = Payload::Built(b);
        assert_eq!(
            p.reference(),
            format!("127.0.0.1:5057/kreg/agent@{}", p.digest())
        );
    }
}

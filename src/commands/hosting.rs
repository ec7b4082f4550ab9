//! KEP-1755 tool discovery: `kube-public/local-registry-hosting`, which Tilt, Skaffold and
//! ctlptl read to find the cluster's registry. `up` publishes it, `down` withdraws it.
//!
//! A ConfigMap of that name that kreg did not create (kind's recipe, ctlptl) belongs to
//! someone else: kreg leaves it alone and says so rather than taking it over.

use anyhow::Result;
use k8s_openapi::api::core::v1::ConfigMap;

use crate::cluster::{Applied, Cluster};
use crate::manifests::{self, Hosting};
use crate::plan::{names, Endpoint, Expose};

/// What tools read: the registry's name from outside, from the nodes and from pods.
pub fn hosting(expose: Expose, endpoint: &Endpoint, namespace: &str) -> Hosting {
    let registry = endpoint.registry();
    let from_pods = if expose == Expose::Localhost {
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

/// What publishing did, for `up`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    Applied(Applied),
    /// Someone else's ConfigMap is there; left alone.
    Foreign,
    /// Not allowed to write kube-public (or another API error): tools won't discover kreg.
    Failed(String),
}

/// Applies the ConfigMap unless another tool owns one. Never fails `up`: discovery is a
/// convenience, and the registry works without it.
pub async fn publish(cluster: &Cluster, h: &Hosting) -> Published {
    let (ns, name) = names::HOSTING;
    let attempt = async {
        if let Some(existing) = cluster.get_in::<ConfigMap>(ns, name).await? {
            if !crate::plan::is_kreg_managed(&existing.metadata) {
                return Ok(Published::Foreign);
            }
        }
        let cm = manifests::local_registry_hosting(h)?;
        Ok::<_, anyhow::Error>(Published::Applied(cluster.apply(&cm).await?))
    };
    attempt
        .await
        .unwrap_or_else(|e| Published::Failed(format!("{e:#}")))
}

/// Deletes the ConfigMap if it is kreg's. Returns whether it deleted it.
pub async fn withdraw(cluster: &Cluster) -> Result<bool> {
    let (ns, name) = names::HOSTING;
    match cluster.get_in::<ConfigMap>(ns, name).await? {
        Some(cm) if crate::plan::is_kreg_managed(&cm.metadata) => {
            cluster.delete_in::<ConfigMap>(ns, name).await
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep() -> Endpoint {
        Endpoint {
            host: "registry.10.0.0.9.nip.io".into(),
            port: 443,
            ips: vec!["10.0.0.9".parse().unwrap()],
        }
    }

    #[test]
    fn every_party_uses_the_tls_name_except_pods_in_localhost_mode() {
        let h = hosting(Expose::LoadBalancer, &ep(), "kreg-system");
        assert_eq!(h.host, ep().registry());
        assert_eq!(h.host_from_container_runtime, ep().registry());
        assert_eq!(h.host_from_cluster_network, ep().registry());
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
    }
}

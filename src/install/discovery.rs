//! KEP-1755 tool discovery: `kube-public/local-registry-hosting`, which Tilt, Skaffold and
//! ctlptl read to find the cluster's registry. `up` publishes it, `down` withdraws it.
//!
//! A ConfigMap of that name that kreg did not create (kind's recipe, ctlptl) belongs to
//! someone else: kreg leaves it alone and says so rather than taking it over.

use anyhow::Result;
use k8s_openapi::api::core::v1::ConfigMap;

use crate::cluster::{Applied, Cluster};
use crate::plan::names;

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
pub async fn publish(cluster: &Cluster, cm: &ConfigMap) -> Published {
    let (ns, name) = names::HOSTING;
    let attempt = async {
        if let Some(existing) = cluster.get_in::<ConfigMap>(ns, name).await? {
            if !crate::plan::is_kreg_managed(&existing.metadata) {
                return Ok(Published::Foreign);
            }
        }
        Ok::<_, anyhow::Error>(Published::Applied(cluster.apply(cm).await?))
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

//! The node-trust DaemonSet's life after `up` applied it: `down` switches its agents to
//! removal, and the agents' restart identity (ServiceAccount, Role, RoleBinding, Lease) goes
//! when `--allow-runtime-restart` is dropped or kreg is removed.

use anyhow::Result;
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::{Api, Patch, PatchParams};

use super::{api_error, lease::NAME};
use crate::plan::names;

impl super::Cluster {
    /// Switches every node agent to removal mode (`KREG_MODE=remove`): each removes kreg's
    /// trust files from its node and reports it, as it reported the install.
    pub async fn switch_node_trust_to_removal(&self) -> Result<()> {
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": "trust", "env": [{"name": "KREG_MODE", "value": "remove"}]}
        ]}}}});
        let api: Api<DaemonSet> = self.ns_api();
        api.patch(
            names::NODE_TRUST,
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
        .map_err(|e| api_error(e, "switching node trust to removal"))?;
        Ok(())
    }

    /// Deletes the node agents' ServiceAccount, Role and RoleBinding (`--allow-runtime-restart`)
    /// and the restart Lease, when kreg's ServiceAccount is there; returns what was deleted.
    pub async fn remove_node_trust_identity(&self) -> Result<Vec<String>> {
        use k8s_openapi::api::coordination::v1::Lease;
        use k8s_openapi::api::core::v1::ServiceAccount;
        use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
        let name = names::NODE_TRUST;
        let mut removed = vec![];
        // One read in the common case (never allowed): nothing to delete, no delete rights needed.
        match self.get::<ServiceAccount>(name).await {
            Ok(Some(sa)) if crate::plan::is_kreg_managed(&sa.metadata) => {}
            _ => return Ok(removed),
        }
        if self.delete::<RoleBinding>(name).await? {
            removed.push(format!("RoleBinding/{name}"));
        }
        if self.delete::<Role>(name).await? {
            removed.push(format!("Role/{name}"));
        }
        if self.delete::<ServiceAccount>(name).await? {
            removed.push(format!("ServiceAccount/{name}"));
        }
        let lease = NAME;
        if self.delete::<Lease>(lease).await? {
            removed.push(format!("Lease/{lease}"));
        }
        Ok(removed)
    }
}

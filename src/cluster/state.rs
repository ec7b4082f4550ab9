//! The one reader and writer of kreg's record, ConfigMap `kreg-state` (typed as
//! [`InstalledState`]): what the last `up` chose and created.

use anyhow::Result;
use k8s_openapi::api::core::v1::ConfigMap;

use super::{Applied, Cluster};
use crate::error::hint;
use crate::plan::names;
use crate::state::InstalledState;

impl Cluster {
    /// The record, if there is one: installed, or kept by a `down` without `--purge`.
    pub async fn read_state(&self) -> Result<Option<InstalledState>> {
        self.get::<ConfigMap>(names::STATE)
            .await?
            .map(|c| InstalledState::from_data(&c.data.unwrap_or_default()))
            .transpose()
    }

    /// The record of the installed registry (address, host, port, CA certificate...); an error
    /// that says to run `kreg up` when kreg is not installed in the namespace.
    pub async fn installed_state(&self) -> Result<InstalledState> {
        self.read_state()
            .await?
            .filter(|s| s.installed)
            .ok_or_else(|| {
                hint(
                    format!("kreg is not installed in namespace {}", self.namespace),
                    "run `kreg up` first",
                )
            })
    }

    /// Writes the record (server-side apply, like every object kreg owns).
    pub async fn write_state(&self, record: &InstalledState) -> Result<Applied> {
        self.apply(&crate::manifests::configmap(
            &self.namespace,
            names::STATE,
            record.to_data()?,
        ))
        .await
    }
}

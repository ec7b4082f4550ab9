//! The runtime-restart Lease: node agents take turns restarting their node's container
//! runtime (`--allow-runtime-restart`), so a bad change can never take every node's runtime
//! down at once. The agent's only API access, from inside its Pod (in-cluster config).

use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

use super::api_error;

/// The Lease's name (kreg's namespace).
pub const NAME: &str = "kreg-runtime-restart";
/// How long a holder keeps its turn without renewing: a restart, a rollback and a second
/// restart fit in it; an agent that died while holding it frees it after this.
const DURATION: Duration = Duration::from_secs(180);

pub struct RestartLease {
    api: Api<Lease>,
    holder: String,
}

impl RestartLease {
    /// In-cluster: the Pod's service account token and the API server's Service.
    pub async fn in_cluster(namespace: &str, holder: &str) -> Result<RestartLease> {
        let client = kube::Client::try_default().await.context(
            "no in-cluster API access (the restart Lease needs the agent's service account)",
        )?;
        Ok(RestartLease {
            api: Api::namespaced(client, namespace),
            holder: holder.into(),
        })
    }

    /// Takes the turn: `Ok(None)` when this node holds the Lease now, `Ok(Some(other))` while
    /// another node holds it and has not run out of time.
    pub async fn try_acquire(&self) -> Result<Option<String>> {
        let now = k8s_openapi::jiff::Timestamp::now();
        let spec = LeaseSpec {
            holder_identity: Some(self.holder.clone()),
            lease_duration_seconds: Some(DURATION.as_secs() as i32),
            acquire_time: Some(MicroTime(now)),
            renew_time: Some(MicroTime(now)),
            ..Default::default()
        };
        let current = self
            .api
            .get_opt(NAME)
            .await
            .map_err(|e| api_error(e, "reading the restart Lease"))?;
        let Some(mut lease) = current else {
            let new = Lease {
                metadata: ObjectMeta {
                    name: Some(NAME.into()),
                    ..Default::default()
                },
                spec: Some(spec),
            };
            return match self.api.create(&PostParams::default(), &new).await {
                Ok(_) => Ok(None),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(Some("another node".into())),
                Err(e) => Err(api_error(e, "creating the restart Lease")),
            };
        };
        let held = lease.spec.as_ref().and_then(|s| {
            let holder = s.holder_identity.clone().filter(|h| !h.is_empty())?;
            let renewed = s.renew_time.as_ref()?.0;
            let secs = i64::from(s.lease_duration_seconds.unwrap_or(0));
            let until = renewed
                .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(secs))
                .ok()?;
            (holder != self.holder && until > now).then_some(holder)
        });
        if let Some(other) = held {
            return Ok(Some(other));
        }
        lease.spec = Some(spec);
        // resourceVersion makes this a compare-and-swap: two agents cannot both win.
        match self.api.replace(NAME, &PostParams::default(), &lease).await {
            Ok(_) => Ok(None),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Some("another node".into())),
            Err(e) => Err(api_error(e, "taking the restart Lease")),
        }
    }

    /// Gives the turn back (best effort: it also runs out by itself).
    pub async fn release(&self) {
        if let Ok(Some(mut lease)) = self.api.get_opt(NAME).await {
            if let Some(spec) = lease.spec.as_mut() {
                if spec.holder_identity.as_deref() == Some(self.holder.as_str()) {
                    spec.holder_identity = None;
                    let _ = self.api.replace(NAME, &PostParams::default(), &lease).await;
                }
            }
        }
    }
}

//! `kreg gc`'s Lease (shared with the `--gc-schedule` CronJob's script): one collector at a
//! time. The decisions are in [`crate::gc`]; this is the compare-and-swap against the API.

use anyhow::Result;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, Patch, PatchParams, PostParams};

use super::{api_error, Cluster};
use crate::gc::{self, Turn};

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn read_turn(lease: &Lease, me: &str, now: u64) -> Turn {
    let expires = lease
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(gc::LEASE_EXPIRES))
        .and_then(|v| v.parse().ok());
    let holder = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref());
    gc::turn(holder, expires, now, me)
}

impl Cluster {
    /// Takes (or renews) the gc Lease for `me`: `Ok(Turn::Mine)` when `me` holds it now,
    /// `Ok(Turn::Held{..})` while another live holder has it. Compare-and-swap on the Lease's
    /// resourceVersion: two takers never both win.
    pub async fn take_gc_lease(&self, me: &str) -> Result<Turn> {
        let api: Api<Lease> = self.ns_api();
        let now = unix_now();
        let body: Lease = serde_json::from_value(gc::lease_body(&self.namespace, me, now))?;
        let Some(current) = api
            .get_opt(gc::LEASE)
            .await
            .map_err(|e| api_error(e, "reading the gc Lease"))?
        else {
            return match api.create(&PostParams::default(), &body).await {
                Ok(_) => Ok(Turn::Mine),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(Turn::Held {
                    holder: "another collector".into(),
                    seconds_left: gc::LEASE_SECONDS,
                }),
                Err(e) => Err(api_error(e, "creating the gc Lease")),
            };
        };
        if let held @ Turn::Held { .. } = read_turn(&current, me, now) {
            return Ok(held);
        }
        let mut next = body;
        next.metadata.resource_version = current.metadata.resource_version.clone();
        match api.replace(gc::LEASE, &PostParams::default(), &next).await {
            Ok(_) => Ok(Turn::Mine),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Turn::Held {
                holder: "another collector".into(),
                seconds_left: gc::LEASE_SECONDS,
            }),
            Err(e) => Err(api_error(e, "taking the gc Lease")),
        }
    }

    /// Gives the Lease back if `me` still holds it (best effort: it also runs out by itself).
    pub async fn release_gc_lease(&self, me: &str) {
        let api: Api<Lease> = self.ns_api();
        if let Ok(Some(lease)) = api.get_opt(gc::LEASE).await {
            if read_turn(&lease, me, unix_now()) == Turn::Mine {
                let mut body = gc::lease_body(&self.namespace, "", unix_now());
                body["metadata"]["resourceVersion"] = lease.metadata.resource_version.into();
                let _ = api
                    .patch(gc::LEASE, &PatchParams::default(), &Patch::Merge(&body))
                    .await;
            }
        }
    }

    /// Who holds the gc Lease now (for `status`); `Turn::Free` when nobody does.
    pub async fn gc_lease_turn(&self) -> Result<Turn> {
        let api: Api<Lease> = self.ns_api();
        Ok(api
            .get_opt(gc::LEASE)
            .await
            .map_err(|e| api_error(e, "reading the gc Lease"))?
            .map(|l| read_turn(&l, "", unix_now()))
            .unwrap_or(Turn::Free))
    }
}

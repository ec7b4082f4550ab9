//! Waiting, with watches (`await_condition`) bounded by the user's `--timeout`.
//!
//! A watch that breaks (the API server restarted, a load balancer in front of it dropped the
//! connection) is opened again until the deadline: `up` rides out a short API outage instead
//! of failing in the middle of a wait. Only when the API server is still unreachable at the
//! deadline does the wait fail, naming the outage rather than the thing waited for.

use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::wait::{await_condition, Condition};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::time::{sleep, timeout, Instant};

use super::{api_error, Cluster};
use crate::error::{hint, one_line};

impl Cluster {
    /// Watches `name` until `cond` holds: `Some(object)` (`Some(None)` if it is gone), or
    /// `None` when `limit` passes. A broken watch is re-opened every second until then; if the
    /// API server is still unreachable at the deadline the error says so.
    pub(super) async fn watch_until<K>(
        &self,
        api: &Api<K>,
        name: &str,
        cond: impl Condition<K> + Copy,
        limit: Duration,
    ) -> Result<Option<Option<K>>>
    where
        K: Resource + Clone + std::fmt::Debug + Send + DeserializeOwned + 'static,
    {
        let deadline = Instant::now() + limit;
        let mut failure = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let Some(failure) = failure else {
                    return Ok(None);
                };
                return Err(hint(
                    format!("lost the API server at {} while waiting for {name}: {failure}", self.server),
                    format!(
                        "check that the cluster of context {:?} is running (kubectl cluster-info), then run the command again",
                        self.context
                    ),
                ));
            }
            match timeout(left, await_condition(api.clone(), name, cond)).await {
                Ok(Ok(found)) => return Ok(Some(found)),
                Ok(Err(e)) => failure = Some(one_line(&e)),
                Err(_) => return Ok(None),
            }
            sleep(
                deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_secs(1)),
            )
            .await;
        }
    }

    /// If the namespace is being deleted (a `down --purge` just before), waits until it is gone:
    /// nothing can be created in a terminating namespace.
    pub async fn wait_namespace_not_terminating(&self, limit: Duration) -> Result<bool> {
        let api: Api<Namespace> = Api::all(self.client());
        let Some(ns) = api
            .get_opt(&self.namespace)
            .await
            .map_err(|e| api_error(e, "reading the namespace"))?
        else {
            return Ok(false);
        };
        if ns.metadata.deletion_timestamp.is_none() {
            return Ok(false);
        }
        let uid = ns.metadata.uid.clone();
        let deleted = |n: Option<&Namespace>| n.is_none_or(|n| n.metadata.uid != uid);
        match self.watch_until(&api, &self.namespace, deleted, limit).await? {
            Some(_) => Ok(true),
            None => Err(hint(
                format!("namespace {} is still being deleted after {}s", self.namespace, limit.as_secs()),
                format!("see what holds it: kubectl get namespace {} -o yaml; or use another namespace with -n", self.namespace),
            )),
        }
    }

    /// Waits until every replica of the Deployment runs the current template and is ready.
    pub async fn wait_rollout(&self, name: &str, limit: Duration) -> Result<()> {
        let api: Api<Deployment> = self.ns_api();
        if self
            .watch_until(&api, name, rolled_out, limit)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let what = if name == crate::plan::names::REGISTRY {
            "the registry did not become ready".to_string()
        } else {
            format!("Deployment {name} did not become ready")
        };
        Err(self.not_ready(&what, name, limit).await)
    }

    /// Waits until the DaemonSet runs its current template, ready, on every node it schedules
    /// to; the error names each pod's problem (an image it cannot pull, a port taken).
    pub async fn wait_daemonset(&self, name: &str, limit: Duration) -> Result<()> {
        let api: Api<DaemonSet> = self.ns_api();
        let ready = super::node_trust::ds_ready;
        if self.watch_until(&api, name, ready, limit).await?.is_some() {
            return Ok(());
        }
        let what = format!("DaemonSet {name} was not ready on every node");
        Err(self.not_ready(&what, name, limit).await)
    }

    /// "`what` within N s; pod x: ErrImagePull", with the command that shows more.
    async fn not_ready(&self, what: &str, name: &str, limit: Duration) -> anyhow::Error {
        let selector = format!("app.kubernetes.io/name={name}");
        let why = self.pod_problems(&selector).await;
        hint(
            format!("{what} within {}s{why}", limit.as_secs()),
            format!(
                "inspect it with: kubectl -n {} describe pods -l {selector}",
                self.namespace
            ),
        )
    }

    /// Why pods matching `selector` are not ready, from their container states (", pod x: ErrImagePull").
    async fn pod_problems(&self, selector: &str) -> String {
        let api: Api<Pod> = self.ns_api();
        let Ok(pods) = api.list(&ListParams::default().labels(selector)).await else {
            return String::new();
        };
        let mut out = String::new();
        for p in &pods.items {
            let status = p.status.as_ref();
            let waiting = status
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|cs| {
                    cs.iter()
                        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                });
            let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
            out.push_str(&format!(
                "; pod {}: {}",
                p.name_any(),
                waiting.unwrap_or(phase)
            ));
        }
        out
    }
}

fn rolled_out(d: Option<&Deployment>) -> bool {
    let Some(d) = d else { return false };
    let want = d.spec.replicas.unwrap_or(1);
    let Some(s) = d.status.as_ref() else {
        return false;
    };
    s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
        && s.updated_replicas.unwrap_or(0) == want
        && s.ready_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
}

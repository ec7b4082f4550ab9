//! The node-trust DaemonSet's life after `up` applied it: its agents' verdicts (read from
//! their readiness and their last log line), `down`'s switch to removal, and the removal of the
//! agents' restart identity (ServiceAccount, Role, RoleBinding, Lease) when
//! `--allow-runtime-restart` is dropped or kreg is removed. Waiting for verdicts uses the
//! watch of `wait.rs`.

use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};
use kube::runtime::wait::await_condition;
use kube::ResourceExt;
use serde::Serialize;
use tokio::time::{timeout, Instant};

use super::{api_error, lease::NAME};
use crate::plan::names;

/// Pods whose logs a report reads for their verdict; the others count as pending.
const MAX_LOG_READS: usize = 20;
/// Nodes a report names one by one when the DaemonSet's own counts are exact; the rest are
/// counted in `unlisted` (a 5000-node cluster is not listed pod by pod to say "not ready").
const MAX_LISTED: usize = 100;
/// Pods per list request.
const PAGE: u32 = 250;
/// How long after the probe push a node's failure may still be from before it (the agent's
/// retry period when its verdict is bad, 5 s, plus margin).
const FRESH_GRACE: Duration = Duration::from_secs(8);

/// Prefix of the verdict lines the node agent prints (src/node/agent.rs).
const VERDICT: &str = "kreg-node-trust: ";

/// One node's answer from the node-trust DaemonSet.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct NodeVerdict {
    pub node: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeTrustReport {
    pub total: usize,
    pub trusted: usize,
    /// Nodes whose pod said why it cannot install the CA, with the remedy.
    pub untrusted: Vec<NodeVerdict>,
    /// Nodes without a verdict yet (pod not scheduled, starting, image pulling).
    pub pending: Vec<String>,
    /// Nodes that do not trust the CA (yet) beyond those named above.
    #[serde(skip_serializing_if = "is_zero")]
    pub unlisted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl NodeTrustReport {
    pub fn complete(&self) -> bool {
        self.trusted == self.total
    }

    /// The nodes that do not trust the CA, for a one-line message: at most `max` names.
    pub fn untrusted_names(&self, max: usize) -> String {
        let all: Vec<&str> = self
            .untrusted
            .iter()
            .map(|v| v.node.as_str())
            .chain(self.pending.iter().map(String::as_str))
            .collect();
        let mut out = all.iter().take(max).copied().collect::<Vec<_>>().join(", ");
        let more = all.len().saturating_sub(max) + self.unlisted;
        if more > 0 {
            out.push_str(&format!(" and {more} more"));
        }
        out
    }
}

impl super::Cluster {
    /// Waits until every node's trust pod is ready, or has said why it cannot be (then there
    /// is nothing left to wait for). On timeout, returns the report as it stands.
    ///
    /// `fresh_since`: only verdicts printed after that moment count (`up` passes the moment it
    /// pushed the probe image: an agent that tried before could only fail, and tries again
    /// within seconds).
    pub async fn wait_node_trust(
        &self,
        limit: Duration,
        fresh_since: Option<Instant>,
    ) -> Result<NodeTrustReport> {
        let api: Api<DaemonSet> = self.ns_api();
        let deadline = Instant::now() + limit;
        let mut rolled_out = false;
        loop {
            // Log windows are whole seconds, counted back from the API server's now: read the
            // lines printed from a second after `fresh_since` on. An agent retries a bad verdict
            // every 5 s, so until FRESH_GRACE has passed a failure may still predate the push:
            // it is pending, not final.
            let since = fresh_since.map(|t| t.elapsed());
            let window = since.map(|e| (e.as_secs() as i64 - 1).max(1));
            let mut report = self.node_trust_report_since(window).await?;
            if since.is_some_and(|e| e < FRESH_GRACE) {
                let early = std::mem::take(&mut report.untrusted);
                report.pending.extend(early.into_iter().map(|v| v.node));
            }
            let decided = report.trusted + report.untrusted.len();
            // Done when every node answered, or when the controller reports the rollout
            // complete (which also covers a cluster with no schedulable node).
            if rolled_out || (report.total > 0 && decided == report.total) {
                return Ok(report);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(report);
            }
            // Wake on the next DaemonSet status change, or after a short slice to re-read the
            // verdicts of pods that are running but not ready (logs are not watchable).
            let slice = left.min(Duration::from_secs(2));
            rolled_out = matches!(
                timeout(
                    slice,
                    await_condition(api.clone(), names::NODE_TRUST, ds_ready)
                )
                .await,
                Ok(Ok(Some(_)))
            );
        }
    }

    /// Reads the node-trust DaemonSet's pods: ready ones trust the CA; running, unready ones are
    /// asked (their last log line) for a verdict.
    pub async fn node_trust_report(&self) -> Result<NodeTrustReport> {
        self.node_trust_report_since(None).await
    }

    /// [`Cluster::node_trust_report`], reading only the verdicts of the last `window_secs`.
    async fn node_trust_report_since(&self, window_secs: Option<i64>) -> Result<NodeTrustReport> {
        let pods: Api<Pod> = self.ns_api();
        let ds: Api<DaemonSet> = self.ns_api();
        let Some(d) = ds
            .get_opt(names::NODE_TRUST)
            .await
            .map_err(|e| api_error(e, "reading node trust"))?
        else {
            return Ok(NodeTrustReport::default());
        };
        let desired = d
            .status
            .as_ref()
            .map(|s| s.desired_number_scheduled)
            .unwrap_or(0) as usize;
        // Healthy is the common case: the controller's counts say so in one read, without
        // listing a pod per node (thousands on a big cluster).
        if ds_ready(Some(&d)) {
            return Ok(NodeTrustReport {
                total: desired,
                trusted: desired,
                ..Default::default()
            });
        }
        // Pods are labelled with the template generation, which only moves when the template
        // does (not on every spec change).
        let generation = d
            .annotations()
            .get("deprecated.daemonset.template.generation")
            .cloned()
            .unwrap_or_else(|| d.metadata.generation.unwrap_or(0).to_string());
        // When every pod runs the current template, the controller's ready count is exactly
        // the trusted count, and only the pods to be named need reading: stop after
        // MAX_LISTED. During a rollout, old pods' readiness says nothing about the new CA, so
        // every pod is read (page by page).
        let status = d.status.clone().unwrap_or_default();
        let exact = counts_are_exact(&d);
        let mut report = NodeTrustReport {
            total: desired,
            trusted: if exact {
                status.number_ready as usize
            } else {
                0
            },
            ..Default::default()
        };
        let mut lp = ListParams::default()
            .labels(&format!("app.kubernetes.io/name={}", names::NODE_TRUST))
            .limit(PAGE);
        let mut logs_read = 0;
        'pages: loop {
            let page = pods
                .list(&lp)
                .await
                .map_err(|e| api_error(e, "listing node-trust pods"))?;
            for p in &page.items {
                if exact && report.untrusted.len() + report.pending.len() >= MAX_LISTED {
                    break 'pages;
                }
                if p.metadata.deletion_timestamp.is_some() || !is_current(p, &generation) {
                    continue;
                }
                let node = p
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_else(|| format!("(pod {} not scheduled)", p.name_any()));
                if pod_ready(p) {
                    if !exact {
                        report.trusted += 1;
                    }
                    continue;
                }
                let running = p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
                // Logs are one request per pod: read them for a bounded number of pods.
                let verdict = if running && logs_read < MAX_LOG_READS {
                    logs_read += 1;
                    let lp = LogParams {
                        tail_lines: Some(5),
                        since_seconds: window_secs,
                        ..Default::default()
                    };
                    pods.logs(&p.name_any(), &lp)
                        .await
                        .ok()
                        .and_then(|l| last_verdict(&l))
                } else {
                    None
                };
                match verdict {
                    Some(reason) => report.untrusted.push(NodeVerdict { node, reason }),
                    None => report.pending.push(node),
                }
            }
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => lp.continue_token = Some(token),
                None => break,
            }
        }
        report.unlisted =
            desired.saturating_sub(report.trusted + report.untrusted.len() + report.pending.len());
        report.untrusted.sort_by(|a, b| a.node.cmp(&b.node));
        report.pending.sort();
        Ok(report)
    }

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

pub(super) fn ds_ready(d: Option<&DaemonSet>) -> bool {
    let Some(d) = d else { return false };
    let Some(s) = d.status.as_ref() else {
        return false;
    };
    s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
        && s.updated_number_scheduled.unwrap_or(0) == s.desired_number_scheduled
        && s.number_ready == s.desired_number_scheduled
}

/// Whether the DaemonSet's ready count is exactly the number of nodes that trust the current
/// CA: the controller has seen the current template (a status written for the previous one,
/// e.g. just after `down` switched to removal, still counts the old pods) and every node runs
/// a pod of it.
fn counts_are_exact(d: &DaemonSet) -> bool {
    d.status.as_ref().is_some_and(|s| {
        s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
            && s.updated_number_scheduled.unwrap_or(0) == s.desired_number_scheduled
    })
}

pub(super) fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// A pod runs the DaemonSet's current template when its template-generation label matches.
fn is_current(p: &Pod, template_generation: &str) -> bool {
    p.labels()
        .get("pod-template-generation")
        .is_none_or(|g| g == template_generation)
}

/// The reason from the last `kreg-node-trust: untrusted: ...` line, if the last verdict is one.
pub fn last_verdict(log: &str) -> Option<String> {
    let line = log.lines().rev().find(|l| l.starts_with(VERDICT))?;
    line.strip_prefix(VERDICT)?
        .strip_prefix("untrusted: ")
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_counts_are_trusted_only_for_the_current_template() {
        use k8s_openapi::api::apps::v1::DaemonSetStatus;
        let ds = |generation: i64, observed: i64, updated: i32| DaemonSet {
            metadata: kube::api::ObjectMeta {
                generation: Some(generation),
                ..Default::default()
            },
            status: Some(DaemonSetStatus {
                observed_generation: Some(observed),
                desired_number_scheduled: 3,
                updated_number_scheduled: Some(updated),
                number_ready: 3,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(counts_are_exact(&ds(2, 2, 3)));
        assert!(
            !counts_are_exact(&ds(3, 2, 3)),
            "status of the previous template"
        );
        assert!(!counts_are_exact(&ds(2, 2, 1)), "rollout in progress");
        assert!(!counts_are_exact(&DaemonSet::default()));
    }

    #[test]
    fn names_are_capped_and_unlisted_nodes_counted() {
        let r = NodeTrustReport {
            total: 5000,
            trusted: 10,
            untrusted: vec![NodeVerdict {
                node: "a".into(),
                reason: "config_path unset".into(),
            }],
            pending: vec!["b".into(), "c".into()],
            unlisted: 4987,
        };
        assert!(!r.complete());
        assert_eq!(r.untrusted_names(2), "a, b and 4988 more");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["unlisted"], 4987);
        let none = serde_json::to_value(NodeTrustReport::default()).unwrap();
        assert!(none.get("unlisted").is_none());
    }

    #[test]
    fn the_last_verdict_wins() {
        let log = "kreg-node-trust: untrusted: config_path unset | remedy: x\nkreg-node-trust: trusted: containerd /etc/containerd/certs.d\n";
        assert_eq!(last_verdict(log), None);
        let log = "noise\nkreg-node-trust: trusted: ok\nkreg-node-trust: untrusted: read-only root | remedy: y\n";
        assert_eq!(
            last_verdict(log).as_deref(),
            Some("read-only root | remedy: y")
        );
        assert_eq!(last_verdict(""), None);
    }
}

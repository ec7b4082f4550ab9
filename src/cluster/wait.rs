//! Waiting, with watches (`await_condition`) bounded by the user's `--timeout`.
//!
//! A watch that breaks (the API server restarted, a load balancer in front of it dropped the
//! connection) is opened again until the deadline: `up` rides out a short API outage instead
//! of failing in the middle of a wait. Only when the API server is still unreachable at the
//! deadline does the wait fail, naming the outage rather than the thing waited for.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{anyhow, Result};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams, LogParams};
use kube::runtime::wait::{await_condition, Condition};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::{sleep, timeout, Instant};

use super::{api_error, Cluster};
use crate::error::{hint, one_line};
use crate::plan::{names, Address};

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

impl Cluster {
    /// Watches `name` until `cond` holds: `Some(object)` (`Some(None)` if it is gone), or
    /// `None` when `limit` passes. A broken watch is re-opened every second until then; if the
    /// API server is still unreachable at the deadline the error says so.
    async fn watch_until<K>(
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

    /// Waits until the Service has an address clients can use: the load balancer's, or a
    /// node's for a NodePort (`prefer`: the node the last `up` named the registry after, kept
    /// while it exists). Returns the address, the node port and the node.
    pub async fn wait_address(
        &self,
        svc_name: &str,
        lb: bool,
        prefer: Option<&str>,
        limit: Duration,
    ) -> Result<(Address, Option<u16>, Option<String>)> {
        let api: Api<Service> = self.ns_api();
        if lb {
            let cond = |s: Option<&Service>| lb_address(s).is_some();
            match self.watch_until(&api, svc_name, cond, limit).await? {
                Some(Some(svc)) => return Ok((lb_address(Some(&svc)).expect("condition held"), None, None)),
                Some(None) => return Err(anyhow!("Service {svc_name} was deleted while kreg waited for its address")),
                None => {
                    return Err(hint(
                        format!(
                            "the LoadBalancer Service {}/{svc_name} got no address within {}s",
                            self.namespace,
                            limit.as_secs()
                        ),
                        "this cluster may have no load balancer: run `kreg up --expose nodeport`, install one (MetalLB), or raise --timeout",
                    ))
                }
            }
        }
        let svc = api
            .get(svc_name)
            .await
            .map_err(|e| api_error(e, "reading the registry Service"))?;
        let node_port = svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|p| p.first())
            .and_then(|p| p.node_port)
            .map(|p| p as u16);
        let (node, ip) = self.node_address(prefer).await?;
        Ok((Address::Ip(ip), node_port, Some(node)))
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
            .find(pod_ready)?;
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

    /// A node and its InternalIP (every node forwards a NodePort to the registry pod): the
    /// `prefer`red node while it exists and has one, else the first Ready node, else any.
    pub async fn node_address(&self, prefer: Option<&str>) -> Result<(String, IpAddr)> {
        let nodes: Api<Node> = Api::all(self.client());
        let internal_ip = |n: &Node| {
            n.status
                .as_ref()
                .and_then(|s| s.addresses.as_ref())
                .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
                .and_then(|a| a.address.parse::<IpAddr>().ok())
        };
        if let Some(name) = prefer {
            let kept = nodes
                .get_opt(name)
                .await
                .map_err(|e| api_error(e, "reading the registry's node"))?;
            if let Some(ip) = kept.as_ref().and_then(internal_ip) {
                return Ok((name.to_string(), ip));
            }
        }
        let page = nodes
            .list(&ListParams::default().limit(50))
            .await
            .map_err(|e| api_error(e, "listing nodes"))?;
        let mut fallback = None;
        for n in &page.items {
            let status = n.status.as_ref();
            let ready = status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            match (internal_ip(n), ready) {
                (Some(ip), true) => return Ok((n.name_any(), ip)),
                (Some(ip), false) if fallback.is_none() => fallback = Some((n.name_any(), ip)),
                _ => {}
            }
        }
        fallback.ok_or_else(|| {
            hint(
                "no node has an InternalIP address to expose a NodePort on",
                "use --expose loadbalancer or --expose ingress on this cluster",
            )
        })
    }

    /// The Ingress's published address, if the controller has set one.
    pub async fn ingress_address(&self, name: &str, limit: Duration) -> Result<Option<Address>> {
        let api: Api<Ingress> = self.ns_api();
        let get = |i: Option<&Ingress>| {
            i.and_then(|i| i.status.as_ref())
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .and_then(|v| v.first())
                .and_then(|x| {
                    x.ip.as_ref()
                        .and_then(|ip| ip.parse().ok().map(Address::Ip))
                        .or_else(|| x.hostname.clone().map(Address::Hostname))
                })
        };
        match timeout(
            limit,
            await_condition(api, name, |i: Option<&Ingress>| get(i).is_some()),
        )
        .await
        {
            Ok(Ok(i)) => Ok(get(i.as_ref())),
            _ => Ok(None),
        }
    }

    /// Waits until every replica of the Deployment runs the current template and is ready.
    pub async fn wait_rollout(&self, name: &str, limit: Duration) -> Result<()> {
        let api: Api<Deployment> = self.ns_api();
        match self.watch_until(&api, name, rolled_out, limit).await? {
            Some(_) => Ok(()),
            None => {
                let why = self
                    .pod_problems(&format!("app.kubernetes.io/name={name}"))
                    .await;
                Err(hint(
                    format!("the registry did not become ready within {}s{why}", limit.as_secs()),
                    format!("inspect it with: kubectl -n {} describe pods -l app.kubernetes.io/name={name}", self.namespace),
                ))
            }
        }
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
}

/// The address a LoadBalancer Service was given: its first ingress IP, else its hostname.
pub fn lb_address(s: Option<&Service>) -> Option<Address> {
    let ing = s?
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?;
    if let Some(ip) = ing.ip.as_ref().and_then(|ip| ip.parse().ok()) {
        return Some(Address::Ip(ip));
    }
    ing.hostname
        .clone()
        .filter(|h| !h.is_empty())
        .map(Address::Hostname)
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

fn ds_ready(d: Option<&DaemonSet>) -> bool {
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

fn pod_ready(p: &Pod) -> bool {
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

//! `kreg gc`, the pure part: the garbage-collection Job built from the registry's live pod
//! template, the read-only switch, and reading the Job's output. No I/O.
//!
//! Why a copy of the live pod: the collector must read exactly the storage and configuration
//! the registry serves (PVC, S3 settings, image), whatever flags the last `up` used.

use anyhow::{bail, Result};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Affinity, EnvVar, PodAffinity, PodAffinityTerm, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;
use serde_json::json;

use crate::error::hint;
use crate::plan::names;

const JOB: &str = include_str!("../manifests/gc-job.yaml");
const CRONJOB: &str = include_str!("../manifests/gc-cronjob.yaml");
const RBAC: &str = include_str!("../manifests/gc-rbac.yaml");
/// The script the `--gc-schedule` CronJob runs (shell-checked in the test suite).
pub(crate) const CRON_SCRIPT: &str = include_str!("../manifests/gc-cron.sh");
/// The collector Job the CronJob's script creates (gc-cron.sh uses this name).
pub(crate) const SCHEDULED_JOB: &str = "kreg-gc-scheduled";
/// The script the Job runs (shell-checked in the test suite).
pub(crate) const SCRIPT: &str = include_str!("../manifests/gc.sh");
/// Field manager of the read-only switch: kept apart from `kreg` so `up` never removes it
/// and removing it never touches what `up` owns.
pub(crate) const FIELD_MANAGER: &str = "kreg-gc";
/// The Lease `kreg gc` and the CronJob's script both take before they touch the read-only switch
/// or a collector Job: one collector at a time, and nobody deletes another's running collector.
pub const LEASE: &str = "kreg-gc";
/// Where the Lease's expiry is kept, in Unix seconds: the one field both the Rust side and the
/// CronJob's shell (which has `date +%s` but no RFC 3339 arithmetic) can compare. The holder
/// renews it every [`LEASE_RENEW`]; a holder that died frees it [`LEASE_SECONDS`] later.
pub const LEASE_EXPIRES: &str = "kreg.dev/gc-lease-expires";
pub(crate) const LEASE_SECONDS: u64 = 120;
pub(crate) const LEASE_RENEW: u64 = 30;
/// The collector's deadline (`activeDeadlineSeconds`) when the CronJob runs it; `kreg gc` uses
/// what is left of its `--timeout`. Past it Kubernetes kills the collector pod.
pub(crate) const SCHEDULED_DEADLINE_SECONDS: u64 = 3600;
/// The shortest deadline a collector gets: a `kreg gc --timeout 5s` still leaves the collector
/// time to start; the registry stays read-only until it is gone anyway.
pub(crate) const MIN_DEADLINE_SECONDS: u64 = 60;

/// Whose turn it is, from the Lease's holder and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// Nobody holds it, its holder gave it back, or the holder stopped renewing it.
    Free,
    /// `me` holds it already (a renewal).
    Mine,
    /// Another collector holds it for `seconds_left` more.
    Held { holder: String, seconds_left: u64 },
}

/// Decides the turn: held while a holder is named and its expiry is in the future.
pub fn turn(holder: Option<&str>, expires_unix: Option<u64>, now_unix: u64, me: &str) -> Turn {
    match (holder.filter(|h| !h.is_empty()), expires_unix) {
        (Some(h), _) if h == me => Turn::Mine,
        (Some(h), Some(exp)) if exp > now_unix => Turn::Held {
            holder: h.to_string(),
            seconds_left: exp - now_unix,
        },
        _ => Turn::Free,
    }
}

/// The Lease as `holder` writes it at `now_unix` (an empty holder gives it back): the expiry
/// annotation, and the standard fields for `kubectl get lease`.
pub fn lease_body(namespace: &str, holder: &str, now_unix: u64) -> serde_json::Value {
    // Given back: no holder and an expiry in the past. The duration stays positive, which
    // the API server requires of every Lease (a 0 made the release itself fail).
    let (expires, duration) = if holder.is_empty() {
        (0, LEASE_SECONDS)
    } else {
        (now_unix + LEASE_SECONDS, LEASE_SECONDS)
    };
    let renew = k8s_openapi::jiff::Timestamp::from_second(now_unix as i64)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string())
        .unwrap_or_default();
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": LEASE,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kreg"},
            "annotations": {LEASE_EXPIRES: expires.to_string()},
        },
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration,
            "renewTime": renew,
        },
    })
}

/// What `status` says about a read-only registry, from the Lease.
pub(crate) fn readonly_reason(turn: &Turn) -> String {
    match turn {
        Turn::Held { holder, .. } => format!(
            "the registry is read-only: a garbage collection is running ({holder}); pushes are refused until it ends"
        ),
        _ => "the registry is read-only: a garbage collection was interrupted (run `kreg gc` to finish it and make the registry writable)".into(),
    }
}

/// Distribution's read-only mode, set as the whole `maintenance` map: the leaf form
/// (`..._READONLY_ENABLED`) makes Distribution panic at start.
pub(crate) const READONLY_ENV: (&str, &str) = (
    "REGISTRY_STORAGE_MAINTENANCE",
    "readonly:\n  enabled: true\n",
);

/// The server-side-apply body that makes the registry read-only (`on`) or gives the field
/// back (`!on`: kreg-gc then owns nothing and the variable disappears).
pub(crate) fn readonly_patch(namespace: &str, on: bool) -> serde_json::Value {
    let spec = if on {
        json!({"template": {"spec": {"containers": [{
            "name": "registry",
            "env": [{"name": READONLY_ENV.0, "value": READONLY_ENV.1}],
        }]}}})
    } else {
        json!({})
    };
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": names::REGISTRY, "namespace": namespace},
        "spec": spec,
    })
}

/// Whether the live Deployment is in read-only mode (a `kreg gc` running or interrupted).
pub(crate) fn is_readonly(d: &Deployment) -> bool {
    d.spec
        .template
        .spec
        .as_ref()
        .and_then(|p| p.containers.first())
        .and_then(|c| c.env.as_ref())
        .is_some_and(|env| env.iter().any(|e| e.name == READONLY_ENV.0))
}

/// The Job that collects garbage, from the registry's live Deployment. Kubernetes kills it
/// after `deadline_seconds` (at least [`MIN_DEADLINE_SECONDS`]).
pub fn job(registry: &Deployment, name: &str, dry_run: bool, deadline_seconds: u64) -> Result<Job> {
    let spec = &registry.spec;
    let mut pod_spec = spec
        .template
        .spec
        .clone()
        .ok_or_else(|| anyhow::anyhow!("Deployment {} has no pod spec", names::REGISTRY))?;
    let volumes = pod_spec.volumes.clone().unwrap_or_default();
    let data = volumes.iter().find(|v| v.name == "data");
    if data.is_some_and(|v| v.empty_dir.is_some()) {
        return Err(hint(
            "the registry stores images in an emptyDir, which only its own pod can see",
            "garbage collection needs --storage pvc or s3; with emptyDir, restarting the pod empties it anyway",
        ));
    }
    let pvc = data.is_some_and(|v| v.persistent_volume_claim.is_some());
    // The registry container only: with `--auth` the gate beside it would serve forever and
    // the Job never complete.
    pod_spec.containers.truncate(1);
    let Some(c) = pod_spec.containers.first_mut() else {
        bail!("Deployment {} has no container", names::REGISTRY);
    };
    c.name = "gc".into();
    c.command = Some(vec!["/bin/sh".into(), "-c".into(), SCRIPT.into()]);
    c.args = None;
    c.ports = None;
    c.readiness_probe = None;
    c.liveness_probe = None;
    let env = c.env.get_or_insert_with(Vec::new);
    env.retain(|e| e.name != READONLY_ENV.0);
    env.push(EnvVar {
        name: "KREG_GC_DRY_RUN".into(),
        value: Some(dry_run.to_string()),
        value_from: None,
    });
    pod_spec.restart_policy = Some("Never".into());
    // The registry's own placement (replicas spread over nodes) is not the collector's.
    pod_spec.affinity = None;
    if pvc {
        // A ReadWriteOnce volume attaches to one node: run beside the registry pod.
        pod_spec.affinity = Some(Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: Some(LabelSelector {
                        match_labels: Some(
                            [(
                                "app.kubernetes.io/name".to_string(),
                                names::REGISTRY.to_string(),
                            )]
                            .into(),
                        ),
                        ..Default::default()
                    }),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    let mut job: Job = serde_yaml_ng::from_str(JOB).expect("gc-job.yaml is valid (tested)");
    job.metadata.name = Some(name.into());
    job.metadata.namespace = registry.metadata.namespace.clone();
    let job_spec = job.spec.as_mut().expect("gc-job.yaml has a spec");
    job_spec.active_deadline_seconds =
        Some(deadline_seconds.clamp(MIN_DEADLINE_SECONDS, i64::MAX as u64) as i64);
    let labels = job_spec.template.metadata.clone();
    job_spec.template = PodTemplateSpec {
        metadata: labels,
        spec: Some(pod_spec),
    };
    Ok(job)
}

/// Everything `--gc-schedule` applies, all named `kreg-gc`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub service_account: k8s_openapi::api::core::v1::ServiceAccount,
    pub role: k8s_openapi::api::rbac::v1::Role,
    pub binding: k8s_openapi::api::rbac::v1::RoleBinding,
    /// The script and the three objects it applies.
    pub config: k8s_openapi::api::core::v1::ConfigMap,
    /// A CronJob of `cronjob_api` (batch/v1, or batch/v1beta1 before Kubernetes 1.21), as JSON
    /// because the typed crate knows only one of them.
    pub cronjob: serde_json::Value,
}

/// The `--gc-schedule` objects for `registry` (the Deployment `up` applies).
pub fn schedule(
    registry: &Deployment,
    schedule: &str,
    image: &str,
    prune: Option<(&crate::plan::PrunePolicy, &str)>,
    cronjob_api: &str,
) -> Result<Schedule> {
    let namespace = registry
        .metadata
        .namespace
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the registry Deployment has no namespace"))?;
    let json =
        |v: &serde_json::Value| serde_json::to_string_pretty(v).expect("JSON values serialize");
    let collector = serde_json::to_value(job(
        registry,
        SCHEDULED_JOB,
        false,
        SCHEDULED_DEADLINE_SECONDS,
    )?)?;
    let config = crate::manifests::configmap(
        &namespace,
        names::GC_JOB,
        [
            ("gc-cron.sh".to_string(), CRON_SCRIPT.to_string()),
            ("job.json".to_string(), json(&collector)),
            (
                "readonly.json".to_string(),
                json(&readonly_patch(&namespace, true)),
            ),
            (
                "writable.json".to_string(),
                json(&readonly_patch(&namespace, false)),
            ),
            (
                "lease.json".to_string(),
                json(&lease_body(&namespace, "HOLDER", 0)),
            ),
        ]
        .into(),
    );
    let identity = crate::manifests::identity(
        &namespace,
        names::GC_JOB,
        serde_yaml_ng::from_str(RBAC).expect("gc-rbac.yaml is valid (tested)"),
    );
    let mut cronjob: serde_json::Value =
        serde_yaml_ng::from_str(CRONJOB).expect("gc-cronjob.yaml is valid (tested)");
    cronjob["apiVersion"] = cronjob_api.into();
    cronjob["metadata"]["namespace"] = namespace.clone().into();
    cronjob["spec"]["schedule"] = schedule.into();
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] =
        image.into();
    if let Some((policy, agent_image)) = prune {
        // Before the collector's script: `kreg prune` from kreg's own image deletes what the
        // policy selects (through the registry's API, as on a workstation; in-cluster
        // credentials), and leaves the collecting to the script, which holds the Lease. A
        // failed prune fails the run: nothing is collected then.
        let mut command: Vec<String> = ["/usr/local/bin/kreg", "prune"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        command.extend(policy.args());
        command.extend(
            ["--no-gc", "--yes", "-n", "$(KREG_NAMESPACE)"]
                .iter()
                .map(|s| s.to_string()),
        );
        let env = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
            ["env"]
            .clone();
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"] = json!([{
            "name": "prune",
            "image": agent_image,
            "imagePullPolicy": "IfNotPresent",
            "command": command,
            "env": env,
        }]);
    }
    // The script's own deadline: the collector's, plus time to switch, wait and clean up.
    cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] =
        (SCHEDULED_DEADLINE_SECONDS + 1800).into();
    // The script's content is in the ConfigMap, which the pod reads at start: restart nothing.
    Ok(Schedule {
        service_account: identity.service_account,
        role: identity.role,
        binding: identity.binding,
        config,
        cronjob,
    })
}

/// What the collector did, read from the Job's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    /// Storage size before and after, when the storage is a filesystem (not S3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclaimed_bytes: Option<u64>,
    /// From Distribution's summary line: blobs and manifests deleted (or, dry run, eligible).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blobs_deleted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifests_deleted: Option<u64>,
}

/// Reads `kreg-gc: before_kib=N after_kib=M` and Distribution's
/// `N blobs marked, M blobs and K manifests eligible for deletion`.
pub fn parse(log: &str) -> Outcome {
    let mut o = Outcome::default();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("kreg-gc: ") {
            for kv in rest.split_whitespace() {
                let kib = |v: &str| v.parse::<u64>().ok().map(|k| k * 1024);
                match kv.split_once('=') {
                    Some(("before_kib", v)) => o.before_bytes = kib(v),
                    Some(("after_kib", v)) => o.after_bytes = kib(v),
                    _ => {}
                }
            }
        }
        if let Some(idx) = line.find(" blobs marked, ") {
            let tail = &line[idx + " blobs marked, ".len()..];
            let words: Vec<&str> = tail.split_whitespace().collect();
            // "M blobs and K manifests eligible for deletion"
            if words.len() >= 5 && words[1] == "blobs" && words[4] == "manifests" {
                o.blobs_deleted = words[0].parse().ok();
                o.manifests_deleted = words[3].parse().ok();
            }
        }
    }
    if let (Some(b), Some(a)) = (o.before_bytes, o.after_bytes) {
        o.reclaimed_bytes = Some(b.saturating_sub(a));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Expose, Storage};

    fn registry(storage: Storage) -> Deployment {
        crate::manifests::deployment(&crate::plan::sample(Expose::LoadBalancer, storage), "x")
    }

    fn pvc() -> Storage {
        Storage::Pvc {
            size: "1Gi".into(),
            class: None,
        }
    }

    #[test]
    fn job_copies_the_registry_pod_but_not_its_labels_probes_or_readonly_switch() {
        let mut d = registry(pvc());
        let env = &mut d.spec.template.spec.as_mut().unwrap().containers[0];
        env.env.as_mut().unwrap().push(EnvVar {
            name: READONLY_ENV.0.into(),
            value: Some(READONLY_ENV.1.into()),
            value_from: None,
        });
        assert!(is_readonly(&d));
        let j = job(&d, "kreg-gc-1", false, 300).unwrap();
        insta::assert_yaml_snapshot!("gc_job_pvc", j);
        let t = j.spec.unwrap().template;
        let labels = t.metadata.unwrap().labels.unwrap();
        assert_eq!(
            labels["app.kubernetes.io/name"], "kreg-gc",
            "the registry Service must not select it"
        );
        let pod = t.spec.unwrap();
        assert!(
            pod.affinity.is_some(),
            "RWO volume: beside the registry pod"
        );
        let c = &pod.containers[0];
        assert!(c.readiness_probe.is_none() && c.ports.is_none());
        let env = c.env.as_ref().unwrap();
        assert!(!env.iter().any(|e| e.name == READONLY_ENV.0));
        assert!(
            env.iter().any(|e| e.name == "REGISTRY_HTTP_SECRET"),
            "same configuration"
        );
    }

    #[test]
    fn job_runs_the_registry_container_without_the_gate() {
        let mut d = registry(pvc());
        crate::manifests::with_auth(&mut d, "x", "kreg-agent@sha256:42");
        let job = job(&d, "kreg-gc", false, 600).unwrap();
        let pod = job.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.containers.len(), 1);
        assert_eq!(pod.containers[0].name, "gc");
    }

    #[test]
    fn s3_needs_no_affinity_and_emptydir_is_refused() {
        let s3 = registry(Storage::S3 {
            bucket: "b".into(),
            region: "r".into(),
            endpoint: None,
            secret: "s".into(),
        });
        let j = job(&s3, "kreg-gc-1", true, 5).unwrap();
        assert!(j.spec.unwrap().template.spec.unwrap().affinity.is_none());
        // Replicas spread over nodes: the collector does not inherit that placement.
        let mut p = crate::plan::sample(
            Expose::LoadBalancer,
            Storage::S3 {
                bucket: "b".into(),
                region: "r".into(),
                endpoint: None,
                secret: "s".into(),
            },
        );
        p.replicas = 2;
        let spread = crate::manifests::deployment(&p, "x");
        assert!(spread
            .spec
            .template
            .spec
            .as_ref()
            .unwrap()
            .affinity
            .is_some());
        let j = job(&spread, "kreg-gc-1", false, 300).unwrap();
        assert!(j.spec.unwrap().template.spec.unwrap().affinity.is_none());
        let e = job(&registry(Storage::EmptyDir), "kreg-gc-1", false, 300).unwrap_err();
        assert!(format!("{e:#}").contains("emptyDir"), "{e:#}");
    }

    #[test]
    fn readonly_patch_sets_and_releases_the_whole_maintenance_map() {
        let on = readonly_patch("ns", true);
        assert_eq!(
            on["spec"]["template"]["spec"]["containers"][0]["env"][0]["name"],
            "REGISTRY_STORAGE_MAINTENANCE"
        );
        assert_eq!(readonly_patch("ns", false)["spec"], json!({}));
        assert_eq!(on["metadata"]["name"], names::REGISTRY);
    }

    #[test]
    fn schedule_renders_the_cronjob_rbac_and_the_scripts_inputs() {
        let d = registry(pvc());
        let policy = crate::plan::PrunePolicy {
            keep: Some(5),
            older_than: Some("30d".into()),
        };
        let s = schedule(
            &d,
            "0 3 * * 0",
            "mirror.example/kubectl:1.30",
            Some((&policy, "mirror.example/kreg@sha256:42")),
            "batch/v1beta1",
        )
        .unwrap();
        // The prune runs first, from kreg's image, in the collector's namespace.
        let init =
            &s.cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"][0];
        assert_eq!(init["image"], "mirror.example/kreg@sha256:42");
        assert_eq!(
            init["command"],
            json!([
                "/usr/local/bin/kreg",
                "prune",
                "--keep",
                "5",
                "--older-than",
                "30d",
                "--no-gc",
                "--yes",
                "-n",
                "$(KREG_NAMESPACE)"
            ])
        );
        assert_eq!(init["env"][0]["name"], "KREG_NAMESPACE");
        insta::assert_yaml_snapshot!("gc_cronjob", s.cronjob);
        assert_eq!(s.cronjob["apiVersion"], "batch/v1beta1");
        let data = s.config.data.unwrap();
        let collector: Job = serde_json::from_str(&data["job.json"]).unwrap();
        assert_eq!(collector.metadata.name.as_deref(), Some(SCHEDULED_JOB));
        assert!(
            CRON_SCRIPT.contains(SCHEDULED_JOB),
            "the script waits for that name"
        );
        let ro: serde_json::Value = serde_json::from_str(&data["readonly.json"]).unwrap();
        assert_eq!(ro, readonly_patch("kreg-test", true));
        assert_eq!(s.binding.subjects.unwrap()[0].name, names::GC_JOB);
        assert_eq!(s.role.metadata.namespace.as_deref(), Some("kreg-test"));
        // The CronJob's own pods must not match the label the script deletes leftovers by.
        assert_ne!(
            s.cronjob["spec"]["jobTemplate"]["metadata"]["labels"]["app.kubernetes.io/name"],
            "kreg-gc"
        );
    }

    #[test]
    fn parses_sizes_and_distribution_summary() {
        let log = "blob eligible for deletion: sha256:aa\n\
                   12 blobs marked, 3 blobs and 1 manifests eligible for deletion\n\
                   kreg-gc: before_kib=2048 after_kib=1024\n";
        let o = parse(log);
        assert_eq!(o.before_bytes, Some(2 << 20));
        assert_eq!(o.reclaimed_bytes, Some(1 << 20));
        assert_eq!(o.blobs_deleted, Some(3));
        assert_eq!(o.manifests_deleted, Some(1));
        let s3 = parse("kreg-gc: before_kib=unknown after_kib=unknown\n");
        assert_eq!(s3.reclaimed_bytes, None);
        assert_eq!(parse(""), Outcome::default());
    }

    #[test]
    fn the_collector_has_a_deadline() {
        let d = registry(pvc());
        let j = job(&d, "kreg-gc-1", false, 300).unwrap();
        assert_eq!(j.spec.unwrap().active_deadline_seconds, Some(300));
        let short = job(&d, "kreg-gc-1", false, 1).unwrap();
        assert_eq!(
            short.spec.unwrap().active_deadline_seconds,
            Some(MIN_DEADLINE_SECONDS as i64)
        );
        let huge = job(&d, "kreg-gc-1", false, u64::MAX).unwrap();
        assert!(huge.spec.unwrap().active_deadline_seconds.unwrap() > 0);
        let s = schedule(&d, "0 3 * * 0", "k:1", None, "batch/v1").unwrap();
        let collector: Job = serde_json::from_str(&s.config.data.unwrap()["job.json"]).unwrap();
        assert_eq!(
            collector.spec.unwrap().active_deadline_seconds,
            Some(SCHEDULED_DEADLINE_SECONDS as i64)
        );
        assert!(
            s.cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]
                .as_u64()
                .unwrap()
                > SCHEDULED_DEADLINE_SECONDS,
            "the script outlives its collector"
        );
    }

    #[test]
    fn one_collector_at_a_time_and_a_dead_holder_frees_the_lease() {
        // Every Lease kreg writes is one the API server accepts: a positive duration.
        for holder in ["", "me"] {
            let body = lease_body("ns", holder, 100);
            assert!(
                body["spec"]["leaseDurationSeconds"].as_u64() > Some(0),
                "{body}"
            );
        }
        assert_eq!(turn(None, None, 100, "me"), Turn::Free);
        assert_eq!(
            turn(Some(""), Some(500), 100, "me"),
            Turn::Free,
            "given back"
        );
        assert_eq!(turn(Some("me"), Some(500), 100, "me"), Turn::Mine);
        assert_eq!(
            turn(Some("cron-pod"), Some(160), 100, "me"),
            Turn::Held {
                holder: "cron-pod".into(),
                seconds_left: 60
            }
        );
        assert_eq!(
            turn(Some("cron-pod"), Some(100), 100, "me"),
            Turn::Free,
            "expired"
        );
        assert_eq!(
            turn(Some("cron-pod"), None, 100, "me"),
            Turn::Free,
            "no expiry"
        );
        let body = lease_body("ns", "me", 1_750_000_000);
        assert_eq!(body["metadata"]["name"], LEASE);
        assert_eq!(
            body["metadata"]["annotations"][LEASE_EXPIRES],
            (1_750_000_000 + LEASE_SECONDS).to_string()
        );
        assert_eq!(body["spec"]["renewTime"], "2025-06-15T15:06:40.000000Z");
        let free = lease_body("ns", "", 1_750_000_000);
        assert_eq!(free["metadata"]["annotations"][LEASE_EXPIRES], "0");
        assert!(readonly_reason(&Turn::Free).contains("run `kreg gc`"));
        assert!(readonly_reason(&turn(Some("x"), Some(200), 100, "me")).contains("running (x)"));
    }

    /// gc-cron.sh run by /bin/sh with a stand-in `kubectl` that logs its arguments and answers
    /// from files: the order of the script's steps, not the cluster, is under test here (the
    /// node tier runs it for real).
    struct CronRun {
        dir: tempfile::TempDir,
    }

    impl CronRun {
        fn new(job_state: &str) -> CronRun {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let s = schedule(&registry(pvc()), "0 3 * * 0", "k:1", None, "batch/v1").unwrap();
            for (k, v) in s.config.data.unwrap() {
                std::fs::write(d.join(k), v).unwrap();
            }
            std::fs::write(d.join("job_state"), job_state).unwrap();
            let fake = r#"#!/bin/sh
d=$(dirname "$0")
echo "$*" >> "$d/log"
case "$*" in
  *"get lease kreg-gc -o jsonpath"*) cat "$d/lease_state" ;;
  *"get lease kreg-gc"*) [ -f "$d/lease_state" ] ;;
  *"create -f -"* | *"replace -f -"*)
    cat > "$d/lease_written"
    h=$(sed -n 's/.*"holderIdentity": "\(.*\)".*/\1/p' "$d/lease_written")
    echo "1 h$h e0" > "$d/lease_state" ;;
  *"get job kreg-gc-scheduled"*) cat "$d/job_state" ;;
  *) : ;;
esac
"#;
            std::fs::write(d.join("kubectl"), fake).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(d.join("kubectl"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
            CronRun { dir }
        }

        fn start(&self) -> std::process::Child {
            let d = self.dir.path();
            std::process::Command::new("/bin/sh")
                .arg(d.join("gc-cron.sh"))
                .env("PATH", format!("{}:/usr/bin:/bin", d.display()))
                .env("KREG_GC_DIR", d)
                .env("KREG_NAMESPACE", "kreg-test")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        }

        fn log(&self) -> String {
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        }
    }

    fn line_of(log: &str, needle: &str) -> usize {
        log.lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"))
    }

    #[test]
    fn cron_script_writes_back_only_after_the_collector_is_gone() {
        let run = CronRun::new("1//");
        let out = run.start().wait_with_output().unwrap();
        let log = run.log();
        assert!(
            out.status.success(),
            "{}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        );
        let take = line_of(&log, "create -f -");
        let ro = line_of(&log, "readonly.json");
        let gone = line_of(
            &log,
            "delete job kreg-gc-scheduled --ignore-not-found --cascade=foreground --wait=true",
        );
        let rw = line_of(&log, "writable.json");
        assert!(take < ro && ro < gone && gone < rw, "{log}");
        let released: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(run.dir.path().join("lease_written")).unwrap(),
        )
        .unwrap();
        assert_eq!(released["spec"]["holderIdentity"], "", "given back");
        assert_eq!(released["metadata"]["resourceVersion"], "1");
        assert!(
            released["spec"]["leaseDurationSeconds"].as_u64() > Some(0),
            "the API server refuses a Lease without a positive duration: {released}"
        );
    }

    #[test]
    fn cron_script_does_nothing_while_another_collector_holds_the_lease() {
        let run = CronRun::new("1//");
        let later = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 100;
        std::fs::write(
            run.dir.path().join("lease_state"),
            format!("7 hkreg-gc@laptop/42 e{later}"),
        )
        .unwrap();
        let out = run.start().wait_with_output().unwrap();
        let log = run.log();
        assert!(!out.status.success(), "{log}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("kreg-gc@laptop/42"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!log.contains("apply") && !log.contains("delete"), "{log}");
    }

    #[test]
    fn cron_script_killed_stops_the_collector_and_stays_read_only() {
        let run = CronRun::new("//");
        let child = run.start();
        for _ in 0..100 {
            if run.log().contains("job.json") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(run.log().contains("job.json"), "{}", run.log());
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let out = child.wait_with_output().unwrap();
        let log = run.log();
        assert!(!out.status.success(), "{log}");
        line_of(
            &log,
            "delete job kreg-gc-scheduled --ignore-not-found --cascade=foreground --wait=false",
        );
        assert!(
            !log.contains("writable.json"),
            "switched back while the collector may sweep:\n{log}"
        );
    }
}

//! `kreg gc`'s edge: switch the registry's read-only mode under its own field manager, run a
//! Job to completion and read its log.

use std::time::Duration;

use anyhow::{anyhow, Result};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams,
    PostParams, PropagationPolicy,
};
use kube::ResourceExt;
use tokio::time::{sleep, Instant};

use super::{api_error, Applied, Cluster, APPLIED_HASH};
use crate::error::hint;
use crate::plan::names;

/// How a Job ended.
#[derive(Debug)]
pub struct JobRun {
    pub succeeded: bool,
    /// The log of its (last) pod.
    pub log: String,
}

impl Cluster {
    /// `batch/v1` where the server serves CronJobs there (Kubernetes 1.21+), else
    /// `batch/v1beta1`.
    pub async fn cronjob_api_version(&self) -> Result<&'static str> {
        match self.client.list_api_group_resources("batch/v1").await {
            Ok(list) if list.resources.iter().any(|r| r.name == "cronjobs") => Ok("batch/v1"),
            Ok(_) => Ok("batch/v1beta1"),
            Err(e) => Err(api_error(e, "discovering the CronJob API")),
        }
    }

    fn cronjobs(&self, api_version: &str) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &cronjob_resource(api_version),
        )
    }

    /// Server-side applies a CronJob given as JSON (its apiVersion depends on the server),
    /// skipped like [`Cluster::apply`] when unchanged.
    pub async fn apply_cronjob(&self, obj: &serde_json::Value) -> Result<Applied> {
        let api = self.cronjobs(obj["apiVersion"].as_str().unwrap_or("batch/v1"));
        apply_json(&api, "CronJob", obj).await
    }

    /// Server-side applies `body` to the registry Deployment as `manager` (not `kreg`, so the
    /// fields it sets are neither removed by `up` nor able to remove `up`'s).
    pub async fn apply_registry_patch(
        &self,
        manager: &str,
        body: &serde_json::Value,
    ) -> Result<()> {
        let api: Api<Deployment> = self.ns_api();
        api.patch(
            names::REGISTRY,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(body),
        )
        .await
        .map_err(|e| api_error(e, &format!("patching Deployment {}", names::REGISTRY)))?;
        Ok(())
    }

    /// Deletes every Job labelled `app.kubernetes.io/name=<label>` (leftovers of an
    /// interrupted run) in the foreground, and waits until they and their pods are gone.
    pub async fn delete_jobs(&self, label: &str, limit: Duration) -> Result<usize> {
        let api: Api<Job> = self.ns_api();
        let jobs = api
            .list(&ListParams::default().labels(&format!("app.kubernetes.io/name={label}")))
            .await
            .map_err(|e| api_error(e, "listing Jobs"))?;
        let mut n = 0;
        for j in jobs.items {
            self.delete_job_and_wait(&j.name_any(), limit).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Deletes Job `name` in the foreground (its pods first) without waiting.
    pub async fn delete_job_foreground(&self, name: &str) -> Result<()> {
        let api: Api<Job> = self.ns_api();
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..Default::default()
        };
        match api.delete(name, &dp).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(api_error(e, &format!("deleting Job {name}"))),
        }
    }

    /// Deletes Job `name` in the foreground and waits until the Job and every pod it made are
    /// gone: a pod object disappears only once the kubelet has stopped its containers, so after
    /// this nothing of the collector runs any more.
    pub async fn delete_job_and_wait(&self, name: &str, limit: Duration) -> Result<()> {
        self.delete_job_foreground(name).await?;
        let jobs: Api<Job> = self.ns_api();
        let pods: Api<Pod> = self.ns_api();
        let deadline = Instant::now() + limit;
        loop {
            let job = jobs
                .get_opt(name)
                .await
                .map_err(|e| api_error(e, &format!("reading Job {name}")))?;
            let left = pods
                .list(&ListParams::default().labels(&format!("job-name={name}")))
                .await
                .map_err(|e| api_error(e, "listing the collector's pods"))?
                .items
                .len();
            if job.is_none() && left == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(hint(
                    format!(
                        "Job {name} and its {left} pod(s) were not gone within {}s",
                        limit.as_secs()
                    ),
                    format!(
                        "check `kubectl -n {} get pods -l job-name={name}`",
                        self.namespace
                    ),
                ));
            }
            sleep(Duration::from_secs(1)).await;
        }
    }

    /// Creates `job` and waits until it succeeds or fails (or `limit` passes), returning its
    /// pod's log. The Job stays: the caller deletes it (and waits) when it is safe to.
    pub async fn run_job(&self, job: &Job, limit: Duration) -> Result<JobRun> {
        let api: Api<Job> = self.ns_api();
        let name = job.name_any();
        api.create(&PostParams::default(), job)
            .await
            .map_err(|e| api_error(e, &format!("creating Job {name}")))?;
        let deadline = Instant::now() + limit;
        let finished = loop {
            let j = api
                .get(&name)
                .await
                .map_err(|e| api_error(e, &format!("reading Job {name}")))?;
            let s = j.status.unwrap_or_default();
            if s.succeeded.unwrap_or(0) > 0 {
                break Some(true);
            }
            // Failed pods, or the Job's activeDeadlineSeconds ran out (condition Failed).
            let failed_condition = s
                .conditions
                .as_ref()
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Failed" && c.status == "True"));
            if s.failed.unwrap_or(0) > 0 || failed_condition {
                break Some(false);
            }
            if Instant::now() >= deadline {
                break None;
            }
            sleep(Duration::from_secs(1)).await;
        };
        let log = self.job_log(&name).await.unwrap_or_default();
        match finished {
            Some(succeeded) => Ok(JobRun { succeeded, log }),
            None => Err(hint(
                format!("Job {name} did not finish within {}s", limit.as_secs()),
                format!(
                    "pass a longer --timeout. Its last log lines:\n{}",
                    last_lines(&log, 10)
                ),
            )),
        }
    }

    async fn job_log(&self, job: &str) -> Result<String> {
        let pods: Api<Pod> = self.ns_api();
        let list = pods
            .list(&ListParams::default().labels(&format!("job-name={job}")))
            .await?;
        let pod = list
            .items
            .last()
            .ok_or_else(|| anyhow!("Job {job} has no pod"))?;
        Ok(pods.logs(&pod.name_any(), &LogParams::default()).await?)
    }
}

fn last_lines(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Server-side applies an object kreg holds as JSON (a kind the typed crate lacks, or whose
/// apiVersion depends on the server) through `api`, skipped like [`Cluster::apply`] when the
/// applied-hash annotation says nothing changed and the live object still holds every field
/// (a route or transport someone edited is put back).
pub(super) async fn apply_json(
    api: &Api<DynamicObject>,
    kind: &str,
    obj: &serde_json::Value,
) -> Result<Applied> {
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let hash = crate::pki::sha256_hex(&serde_json::to_vec(obj)?);
    let existing = api
        .get_opt(&name)
        .await
        .map_err(|e| api_error(e, &format!("reading {kind} {name}")))?;
    let mut restored = None;
    if let Some(e) = existing
        .as_ref()
        .filter(|e| e.annotations().get(APPLIED_HASH) == Some(&hash))
    {
        match super::drifted(obj, &serde_json::to_value(e)?) {
            None => return Ok(Applied::Unchanged),
            Some(field) => restored = Some(field),
        }
    }
    let mut desired = obj.clone();
    desired["metadata"]["annotations"][APPLIED_HASH] = hash.into();
    api.patch(
        &name,
        &PatchParams::apply(names::FIELD_MANAGER).force(),
        &Patch::Apply(&desired),
    )
    .await
    .map_err(|e| api_error(e, &format!("applying {kind} {name}")))?;
    Ok(match (restored, existing) {
        (Some(field), _) => Applied::Restored(field),
        (None, Some(_)) => Applied::Updated,
        (None, None) => Applied::Created,
    })
}

/// The resource of a kind kreg holds as JSON, from its `group/version` (or core `version`).
pub(super) fn api_resource(kind: &str, api_version: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// The CronJob resource of `api_version` (`batch/v1` or `batch/v1beta1`, as the server serves).
pub(super) fn cronjob_resource(api_version: &str) -> ApiResource {
    api_resource("CronJob", api_version, "cronjobs")
}

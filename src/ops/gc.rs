//! `kreg gc`'s work (also the end of `kreg prune`): reclaims the space of deleted images. The registry is switched to read-only
//! (pulls keep working, pushes are refused) while a Job copied from the registry's own pod runs
//! Distribution's garbage collector, then switched back — also when the Job fails or the user
//! presses Ctrl-C. `--dry-run` only reports, and leaves the registry writable throughout.

use std::time::Duration;

use anyhow::{bail, Result};
use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::context::Ctx;
use crate::error::hint;
use crate::gc::{self, Outcome, Turn};
use crate::plan::names;

/// `kreg gc -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct GcReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub namespace: String,
    pub dry_run: bool,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// How long pushes were refused (0 with --dry-run).
    pub readonly_ms: u128,
    pub total_ms: u128,
}

/// What `kreg gc` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Report what would be deleted; the registry stays writable.
    pub dry_run: bool,
    /// Ask before deleting (false for `kreg prune`, which asked its own question).
    pub ask: bool,
}

/// The whole of `kreg gc` but the printing, also run by `kreg prune` after its deletes.
pub(crate) async fn collect_garbage(ctx: &Ctx, opts: &Options) -> Result<GcReport> {
    let (dry_run, ask) = (opts.dry_run, opts.ask);
    let ns = ctx.settings.namespace.clone();
    let started = Instant::now();
    let deadline = started + ctx.settings.timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let cluster = Cluster::connect(&ctx.settings.target, &ns).await?;
    let Some(registry) = cluster.get::<Deployment>(names::REGISTRY).await? else {
        return Err(hint(
            format!(
                "kreg is not installed in namespace {ns}: no Deployment {}",
                names::REGISTRY
            ),
            "run `kreg up` first, or pass -n with the namespace kreg was installed into",
        ));
    };
    let name = format!("{}-{}", names::GC_JOB, unix_seconds());
    // Built (and the storage checked) before anything changes. Kubernetes kills the collector
    // when kreg's own deadline passes, also when kreg is gone by then.
    let job = gc::job(&registry, &name, dry_run, left().as_secs())?;
    let was_readonly = gc::is_readonly(&registry);
    if !dry_run
        && ask
        && !ctx.confirm("Delete blobs no image references? Pushes are refused while it runs.")?
    {
        bail!("cancelled; nothing was changed");
    }
    // One collector at a time: the CronJob's script takes the same Lease.
    let me = holder_identity();
    if let Turn::Held {
        holder,
        seconds_left,
    } = cluster.take_gc_lease(&me).await?
    {
        return Err(hint(
            format!("another garbage collection is running ({holder}); nothing was changed"),
            format!(
                "wait for it to finish (its Lease {} runs out within {seconds_left}s if its holder died), then run `kreg gc` again",
                gc::LEASE
            ),
        ));
    }
    let result = collect(ctx, dry_run, &cluster, &job, &me, deadline, was_readonly).await;
    cluster.release_gc_lease(&me).await;
    let (run, readonly_ms) = result?;
    if !run.succeeded {
        let tail: Vec<&str> = run.log.lines().rev().take(10).collect();
        return Err(hint(
            "the garbage collector failed",
            format!(
                "its last log lines:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ),
        ));
    }
    let outcome = gc::parse(&run.log);
    Ok(GcReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        namespace: ns,
        dry_run,
        outcome,
        readonly_ms,
        total_ms: started.elapsed().as_millis(),
    })
}

/// Holding the Lease: clears leftovers, switches read-only, runs the collector and switches
/// back once the collector's pod is gone. Interrupted (Ctrl-C, `--timeout`, a lost Lease), it
/// stops the collector and leaves the registry read-only: the next `kreg gc` finishes.
async fn collect(
    ctx: &Ctx,
    dry_run: bool,
    cluster: &Cluster,
    job: &k8s_openapi::api::batch::v1::Job,
    me: &str,
    deadline: Instant,
    was_readonly: bool,
) -> Result<(crate::cluster::JobRun, u128)> {
    let r = &ctx.reporter;
    let ns = &ctx.settings.namespace;
    let left = || deadline.saturating_duration_since(Instant::now());
    // A minute at least even when the deadline has passed: writes must not come back early.
    let cleanup = || left().max(Duration::from_secs(60));
    // Leftovers of an interrupted run (a dead holder's collector may still sweep).
    if cluster.delete_jobs(names::GC_JOB, cleanup()).await? > 0 {
        r.done("removed the collector of an interrupted run");
    }
    if !dry_run {
        r.step("making the registry read-only (pulls keep working, pushes wait)");
        cluster
            .apply_registry_patch(gc::FIELD_MANAGER, &gc::readonly_patch(ns, true))
            .await?;
        cluster.wait_rollout(names::REGISTRY, left()).await?;
        r.done("registry is read-only");
    } else if was_readonly {
        r.warn("the registry is read-only from an interrupted `kreg gc`; a dry run leaves it so (run `kreg gc` to finish)");
    }
    let ro_started = Instant::now();
    r.step("running the garbage collector");
    let job_name = job.metadata.name.clone().unwrap_or_default();
    let renew = async {
        loop {
            tokio::time::sleep(Duration::from_secs(gc::LEASE_RENEW)).await;
            match cluster.take_gc_lease(me).await {
                Ok(Turn::Mine | Turn::Free) => {}
                Ok(Turn::Held { holder, .. }) => {
                    break anyhow::anyhow!("lost the gc Lease to {holder}")
                }
                Err(e) => break e.context("could not renew the gc Lease"),
            }
        }
    };
    let run = tokio::select! {
        run = cluster.run_job(job, left()) => run,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        e = renew => Err(e),
    };
    let run = match run {
        Ok(run) => run,
        Err(e) => {
            // Stop the collector, but never make the registry writable while it may still sweep.
            let _ = cluster.delete_job_foreground(&job_name).await;
            let readonly = !dry_run || was_readonly;
            return Err(hint(
                format!(
                    "garbage collection did not complete: {e:#}{}",
                    if readonly {
                        "; the registry stays read-only (pulls work, pushes are refused)"
                    } else {
                        ""
                    }
                ),
                "run `kreg gc` again: it waits for the stopped collector to be gone, collects, and makes the registry writable",
            ));
        }
    };
    // The collector ended: its pod must be gone before writes come back.
    cluster
        .delete_job_and_wait(&job_name, cleanup())
        .await
        .map_err(|e| {
            hint(
                format!("the registry is still read-only: {e:#}"),
                "run `kreg gc` again; it switches read-only mode off at the end",
            )
        })?;
    let mut readonly_ms = 0;
    if !dry_run {
        r.step("making the registry writable again");
        let restore = async {
            cluster
                .apply_registry_patch(gc::FIELD_MANAGER, &gc::readonly_patch(ns, false))
                .await?;
            cluster.wait_rollout(names::REGISTRY, cleanup()).await
        };
        restore.await.map_err(|e| {
            hint(
                format!("the registry is still read-only: {e:#}"),
                "run `kreg gc` again; it switches read-only mode off at the end",
            )
        })?;
        readonly_ms = ro_started.elapsed().as_millis();
        r.done("registry is writable");
        answers(ctx, cluster, left().max(Duration::from_secs(10))).await?;
    }
    Ok((run, readonly_ms))
}

/// A rolled-out registry pod is not yet a registry users reach: the Service's endpoints and the
/// nodes' proxy rules follow the new pod a moment later, and until then a pull right after
/// `kreg gc` finds nothing listening. So `gc` ends by a request at the recorded address, as
/// `up` does. `--expose localhost` is the nodes' own loopback, not reachable from here: the
/// rollout is all there is to wait for.
async fn answers(ctx: &Ctx, cluster: &Cluster, limit: Duration) -> Result<()> {
    let state = cluster.installed_state().await?;
    if !state.expose.serves_tls() {
        return Ok(());
    }
    let ip = state.address.parse::<std::net::IpAddr>().ok();
    let endpoint = crate::plan::Endpoint {
        host: state.host.clone(),
        port: state.port,
        ips: ip.into_iter().collect(),
    };
    ctx.reporter.step(&format!(
        "probing https://{}/v2/ with kreg's CA",
        endpoint.registry()
    ));
    let code = crate::probe::probe_until(
        &endpoint,
        ip,
        Some(&state.ca_pem),
        limit.min(Duration::from_secs(60)),
    )
    .await
    .map_err(|e| {
        hint(
            format!("the registry is writable again but did not answer: {e:#}"),
            "`kreg status` re-runs the probe; `kreg up` heals a registry that stays unreachable",
        )
    })?;
    ctx.reporter
        .done(&format!("registry answered {code} over TLS"));
    Ok(())
}

/// Who holds the Lease: this machine and process, for `kubectl get lease` and the messages of
/// a second collector.
fn holder_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into());
    format!("kreg-gc@{}/{}", host.trim(), std::process::id())
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

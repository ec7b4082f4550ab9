//! `kreg gc`: reclaims the space of deleted images. The registry is switched to read-only
//! (pulls keep working, pushes are refused) while a Job copied from the registry's own pod runs
//! Distribution's garbage collector, then switched back — also when the Job fails or the user
//! presses Ctrl-C. `--dry-run` only reports, and leaves the registry writable throughout.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;
use tokio::time::Instant;

use super::Ctx;
use crate::cli::GcArgs;
use crate::cluster::Cluster;
use crate::error::{hint, EXIT_OK};
use crate::gc::{self, Outcome};
use crate::plan::names;

#[derive(Debug, Serialize)]
struct GcReport {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    namespace: String,
    dry_run: bool,
    #[serde(flatten)]
    outcome: Outcome,
    /// How long pushes were refused (0 with --dry-run).
    readonly_ms: u128,
    total_ms: u128,
}

pub async fn run(ctx: &Ctx, a: &GcArgs) -> Result<u8> {
    let ns = ctx.settings.namespace.clone();
    let started = Instant::now();
    let deadline = started + ctx.settings.timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let r = &ctx.reporter;
    let cluster = Cluster::connect(&ctx.settings.target, &ns).await?;
    let Some(registry) = cluster
        .get(&cluster.ns_api::<Deployment>(), names::REGISTRY)
        .await?
    else {
        return Err(hint(
            format!(
                "kreg is not installed in namespace {ns}: no Deployment {}",
                names::REGISTRY
            ),
            "run `kreg up` first, or pass -n with the namespace kreg was installed into",
        ));
    };
    let name = format!("{}-{}", names::GC_JOB, unix_seconds());
    // Built (and the storage checked) before anything changes.
    let job = gc::job(&registry, &name, a.dry_run)?;
    if !a.dry_run
        && !ctx.confirm("Delete blobs no image references? Pushes are refused while it runs.")?
    {
        bail!("cancelled; nothing was changed");
    }
    cluster.delete_jobs(names::GC_JOB).await?;

    let mut readonly_ms = 0;
    if !a.dry_run {
        r.step("making the registry read-only (pulls keep working, pushes wait)");
        cluster
            .apply_registry_patch(gc::FIELD_MANAGER, &gc::readonly_patch(&ns, true))
            .await?;
        cluster.wait_rollout(names::REGISTRY, left()).await?;
        r.done("registry is read-only");
    }
    let ro_started = Instant::now();
    r.step("running the garbage collector");
    let run = tokio::select! {
        run = cluster.run_job(&job, left()) => run,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if !a.dry_run {
        r.step("making the registry writable again");
        let restore = async {
            cluster
                .apply_registry_patch(gc::FIELD_MANAGER, &gc::readonly_patch(&ns, false))
                .await?;
            // At least a minute even when the deadline has passed: this must not be skipped.
            cluster
                .wait_rollout(names::REGISTRY, left().max(Duration::from_secs(60)))
                .await
        };
        restore.await.map_err(|e| {
            hint(
                format!("the registry is still read-only: {e:#}"),
                "run `kreg gc` again; it switches read-only mode off at the end",
            )
        })?;
        readonly_ms = ro_started.elapsed().as_millis();
        r.done("registry is writable");
    }
    let run =
        run.context("garbage collection did not complete; the registry was left as it was")?;
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
    let report = GcReport {
        schema_version: super::up::SCHEMA_VERSION,
        namespace: ns,
        dry_run: a.dry_run,
        outcome,
        readonly_ms,
        total_ms: started.elapsed().as_millis(),
    };
    ctx.reporter.finish();
    print(ctx, &report)?;
    Ok(EXIT_OK)
}

/// Deletes what `--gc-schedule` created (all named `kreg-gc`); returns `Kind/name` of each
/// object that was there.
pub async fn unschedule(cluster: &Cluster) -> Result<Vec<String>> {
    use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let name = names::GC_JOB;
    let mut removed = vec![];
    if cluster.delete_cronjob(name).await? {
        removed.push(format!("CronJob/{name}"));
    }
    let mut note = |kind: &str, deleted: bool| {
        if deleted {
            removed.push(format!("{kind}/{name}"));
        }
    };
    note(
        "ConfigMap",
        cluster.delete(&cluster.ns_api::<ConfigMap>(), name).await?,
    );
    note(
        "RoleBinding",
        cluster
            .delete(&cluster.ns_api::<RoleBinding>(), name)
            .await?,
    );
    note(
        "Role",
        cluster.delete(&cluster.ns_api::<Role>(), name).await?,
    );
    note(
        "ServiceAccount",
        cluster
            .delete(&cluster.ns_api::<ServiceAccount>(), name)
            .await?,
    );
    Ok(removed)
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

fn print(ctx: &Ctx, r: &GcReport) -> Result<()> {
    if !ctx.printer.is_text() {
        return ctx.printer.document(r);
    }
    let o = &r.outcome;
    let counts = match (o.blobs_deleted, o.manifests_deleted) {
        (Some(b), Some(m)) => format!("{b} blobs and {m} manifests"),
        _ => "unreferenced blobs".to_string(),
    };
    if r.dry_run {
        ctx.printer
            .out(&format!("would delete {counts} (dry run: nothing deleted)"));
        return Ok(());
    }
    match (o.reclaimed_bytes, o.before_bytes, o.after_bytes) {
        (Some(rec), Some(b), Some(a)) => ctx.printer.out(&format!(
            "reclaimed {} ({} -> {}); deleted {counts}",
            mib(rec),
            mib(b),
            mib(a)
        )),
        _ => ctx.printer.out(&format!(
            "deleted {counts} (size not measurable on this storage)"
        )),
    }
    ctx.printer.say(&format!(
        "pushes were refused for {:.1}s",
        r.readonly_ms as f64 / 1000.0
    ));
    Ok(())
}

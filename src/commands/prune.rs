//! `kreg prune --keep N --older-than AGE [--dry-run] [REPO...]`: deletes the images a policy
//! selects (decided by `lifecycle::prune` for every repository before anything is deleted),
//! then runs the same garbage collection as `kreg gc` so the space actually comes back.

use anyhow::{bail, Result};
use serde::Serialize;

use super::Ctx;
use crate::cli::PruneArgs;
use crate::error::EXIT_OK;
use crate::gc::Outcome;
use crate::lifecycle::{self, human_size, Decision, Policy};

/// `kreg prune -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PruneReport {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    registry: String,
    dry_run: bool,
    policy: Policy,
    /// Every image looked at, newest first per repository, with what happened to it and why.
    images: Vec<Decision>,
    /// Manifests deleted (with --dry-run: that would be).
    manifests_deleted: usize,
    /// The garbage collection that followed; absent with --dry-run, --no-gc, or when nothing
    /// was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    gc: Option<GcSummary>,
}

/// What `kreg gc -o json` reports, without its own envelope.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct GcSummary {
    #[serde(flatten)]
    outcome: Outcome,
    /// How long pushes were refused.
    readonly_ms: u128,
}

pub async fn run(ctx: &Ctx, a: &PruneArgs) -> Result<u8> {
    let policy = Policy::new(
        a.keep,
        a.older_than
            .as_deref()
            .map(lifecycle::parse_age)
            .transpose()?,
    )?;
    for r in &a.repositories {
        super::images::check_repository(r)?;
    }
    let r = &ctx.reporter;
    let reached = crate::reach::registry(ctx, false).await?;
    let client = &reached.client;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let mut plan: Vec<(String, Vec<Decision>)> = Vec::new();
    for name in super::images::repositories(ctx, client, &a.repositories).await? {
        r.step(&format!("reading {name}"));
        let repo = client.repository(&name).await?;
        let decisions = lifecycle::prune(&repo, &policy, now);
        r.done(&format!(
            "{name}: {} image(s), {} to delete",
            decisions.len(),
            decisions.iter().filter(|d| d.delete).count()
        ));
        plan.push((name, decisions));
    }
    let doomed: Vec<&Decision> = plan
        .iter()
        .flat_map(|(_, d)| d)
        .filter(|d| d.delete)
        .collect();
    let manifests: usize = doomed.iter().map(|d| d.deletes.len()).sum();
    let at_most: u64 = doomed.iter().map(|d| d.image.size).sum();
    if ctx.printer.is_text() {
        for d in &doomed {
            ctx.printer.out(&format!(
                "{} {} — {}",
                if a.dry_run { "would delete" } else { "delete" },
                super::rm::describe(d),
                d.reason
            ));
        }
    }
    let mut gc = None;
    if !a.dry_run && !doomed.is_empty() {
        if !ctx.confirm(&format!(
            "Delete {} image(s) ({manifests} manifests){}?",
            doomed.len(),
            if a.no_gc {
                ""
            } else {
                ", then collect garbage with pushes refused meanwhile"
            }
        ))? {
            bail!("cancelled; nothing was deleted");
        }
        r.step(&format!("deleting {manifests} manifest(s)"));
        for (repo, decisions) in &plan {
            for d in decisions.iter().filter(|d| d.delete) {
                for digest in &d.deletes {
                    client.delete_manifest(repo, digest).await?;
                }
            }
        }
        r.done(&format!("deleted {} image(s)", doomed.len()));
        if !a.no_gc {
            let report = crate::ops::gc::collect_garbage(
                ctx,
                &crate::ops::gc::Options {
                    dry_run: false,
                    ask: false,
                },
            )
            .await?;
            ctx.reporter.finish();
            if ctx.printer.is_text() {
                super::gc::print(ctx, &report)?;
            }
            gc = Some(GcSummary {
                outcome: report.outcome,
                readonly_ms: report.readonly_ms,
            });
        }
    }
    drop(reached.forward);
    ctx.reporter.finish();
    if ctx.printer.is_text() {
        if doomed.is_empty() {
            ctx.printer.out("nothing to delete");
        } else if a.dry_run {
            ctx.printer.say(&format!(
                "dry run: nothing deleted; {} image(s), up to {} (layers shared with kept images stay)",
                doomed.len(),
                human_size(at_most)
            ));
        } else if a.no_gc {
            ctx.printer
                .say("their blobs stay until `kreg gc` reclaims them (--no-gc)");
        }
        return Ok(EXIT_OK);
    }
    let report = PruneReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        registry: reached.registry,
        dry_run: a.dry_run,
        policy,
        images: plan.into_iter().flat_map(|(_, d)| d).collect(),
        manifests_deleted: manifests,
        gc,
    };
    ctx.printer.document(&report)?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{Manifest, Repository};

    /// The `-o json` contract of `kreg prune`.
    #[test]
    fn prune_json_document() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let img = |config: char, created: i64| Manifest {
            media_type: crate::image::OCI_MANIFEST.into(),
            blobs: vec![(d(config), 100), (d('f'), 2048)],
            config: Some(d(config)),
            created: Some(created),
            platform: Some("linux/amd64".into()),
            ..Manifest::default()
        };
        let repo = Repository {
            name: "team/app".into(),
            tags: [("1".to_string(), d('1')), ("2".to_string(), d('2'))].into(),
            manifests: [
                (d('1'), img('a', 1_700_000_000)),
                (d('2'), img('b', 1_800_000_000)),
            ]
            .into(),
        };
        let policy = Policy::new(Some(1), None).unwrap();
        let images = lifecycle::prune(&repo, &policy, 1_800_000_100);
        let report = PruneReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            dry_run: false,
            policy,
            images,
            manifests_deleted: 1,
            gc: Some(GcSummary {
                outcome: Outcome {
                    before_bytes: Some(30 << 20),
                    after_bytes: Some(10 << 20),
                    reclaimed_bytes: Some(20 << 20),
                    blobs_deleted: Some(2),
                    manifests_deleted: Some(1),
                },
                readonly_ms: 9000,
            }),
        };
        insta::assert_json_snapshot!("prune_json", report);
    }
}

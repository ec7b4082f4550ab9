//! `kreg rm REF`: deletes one image's manifest (and, for a multi-arch image, its platforms').
//! What goes is decided by `lifecycle::rm` before anything is deleted; blobs stay until
//! `kreg gc`.

use anyhow::{bail, Result};
use serde::Serialize;

use super::Ctx;
use crate::cli::RmArgs;
use crate::error::EXIT_OK;
use crate::lifecycle::{self, Decision};

/// `kreg rm -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RmReport {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    registry: String,
    /// The reference as given.
    reference: String,
    #[serde(flatten)]
    decision: Decision,
}

pub async fn run(ctx: &Ctx, a: &RmArgs) -> Result<u8> {
    let reference = lifecycle::parse_reference(&a.reference)?;
    let reached = crate::reach::registry(ctx, false).await?;
    let client = &reached.client;
    let repo = client.repository(reference.repo()).await?;
    let decision = lifecycle::rm(&repo, &reference, a.all_tags)?;
    let what = describe(&decision);
    if !ctx.confirm(&format!("Delete {what}?"))? {
        bail!("cancelled; nothing was deleted");
    }
    ctx.reporter.step(&format!("deleting {what}"));
    for d in &decision.deletes {
        client.delete_manifest(&repo.name, d).await?;
    }
    ctx.reporter.done(&format!(
        "deleted {} manifest(s); `kreg gc` reclaims the space",
        decision.deletes.len()
    ));
    drop(reached.forward);
    ctx.reporter.finish();
    let report = RmReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        registry: reached.registry,
        reference: reference.to_string(),
        decision,
    };
    if ctx.printer.is_text() {
        ctx.printer.out(&format!("deleted {what}"));
        ctx.printer
            .say("its blobs stay until `kreg gc` reclaims them");
    } else {
        ctx.printer.document(&report)?;
    }
    Ok(EXIT_OK)
}

/// `team/app:1.0, team/app:latest (sha256:..., multi-arch, 2 platforms)`.
pub(super) fn describe(d: &Decision) -> String {
    let i = &d.image;
    let names: Vec<String> = i
        .tags
        .iter()
        .map(|t| format!("{}:{t}", i.repository))
        .collect();
    let names = if names.is_empty() {
        format!("{}@{}", i.repository, i.digest)
    } else {
        names.join(", ")
    };
    let extra = if i.children.is_empty() {
        String::new()
    } else {
        format!(", multi-arch with {} platform(s)", i.children.len())
    };
    format!("{names} ({}{extra})", i.digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{parse_reference, rm, Manifest, Repository};

    /// The `-o json` contract of `kreg rm`.
    #[test]
    fn rm_json_document() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let repo = Repository {
            name: "team/app".into(),
            tags: [("1.0".to_string(), digest.clone())].into(),
            manifests: [(
                digest.clone(),
                Manifest {
                    media_type: crate::image::OCI_MANIFEST.into(),
                    blobs: vec![(format!("sha256:{}", "b".repeat(64)), 1024)],
                    config: Some(format!("sha256:{}", "b".repeat(64))),
                    created: Some(1_800_000_000),
                    platform: Some("linux/amd64".into()),
                    ..Manifest::default()
                },
            )]
            .into(),
        };
        let reference = parse_reference("team/app:1.0").unwrap();
        let decision = rm(&repo, &reference, false).unwrap();
        assert_eq!(describe(&decision), format!("team/app:1.0 ({digest})"));
        let report = RmReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            reference: reference.to_string(),
            decision,
        };
        insta::assert_json_snapshot!("rm_json", report);
    }
}

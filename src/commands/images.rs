//! `kreg images [REPO...]`: the registry's images, read through its HTTP API (as `push`
//! reaches it: at its address, else through a port-forward). Reads only.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use crate::cli::ImagesArgs;
use crate::error::{hint, EXIT_OK};
use crate::lifecycle::{self, human_size, Image, Kind};
use crate::registry::Registry;

/// `kreg images -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImagesReport {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    registry: String,
    /// One entry per image (digest), newest first within each repository.
    images: Vec<Image>,
}

pub async fn run(ctx: &Ctx, a: &ImagesArgs) -> Result<u8> {
    for r in &a.repositories {
        check_repository(r)?;
    }
    let reached = crate::reach::registry(ctx, false).await?;
    let repos = repositories(ctx, &reached.client, &a.repositories).await?;
    let mut images = Vec::new();
    for name in &repos {
        let repo = reached.client.repository(name).await?;
        images.extend(lifecycle::images(&repo));
    }
    drop(reached.forward);
    ctx.reporter.finish();
    let report = ImagesReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        registry: reached.registry,
        images,
    };
    if !ctx.printer.is_text() {
        ctx.printer.document(&report)?;
        return Ok(EXIT_OK);
    }
    if report.images.is_empty() {
        ctx.printer
            .say(&format!("{} holds no tagged images", report.registry));
        return Ok(EXIT_OK);
    }
    for line in table(&report.images) {
        ctx.printer.out(&line);
    }
    Ok(EXIT_OK)
}

/// The repositories named, or every one the registry lists.
pub(super) async fn repositories(
    ctx: &Ctx,
    client: &Registry,
    named: &[String],
) -> Result<Vec<String>> {
    if !named.is_empty() {
        return Ok(named.to_vec());
    }
    ctx.reporter.step("listing repositories");
    let all = client.catalog().await?;
    ctx.reporter.done(&format!(
        "{} repositor{}",
        all.len(),
        if all.len() == 1 { "y" } else { "ies" }
    ));
    Ok(all)
}

/// A repository name as the registry's API takes it (checked before anything is sent).
pub(super) fn check_repository(r: &str) -> Result<()> {
    lifecycle::parse_reference(&format!("{r}:x"))
        .map(|_| ())
        .map_err(|_| {
            hint(
            format!("invalid repository {r:?}"),
            "name it as in image references, without the registry's host or a tag (e.g. team/app)",
        )
        })
}

/// One row per tag: REPOSITORY TAG DIGEST SIZE CREATED PLATFORMS.
fn table(images: &[Image]) -> Vec<String> {
    let mut rows = vec![[
        "REPOSITORY".to_string(),
        "TAG".into(),
        "DIGEST".into(),
        "SIZE".into(),
        "CREATED".into(),
        "PLATFORMS".into(),
    ]];
    for i in images {
        let short = i.digest.get(..19).unwrap_or(&i.digest).to_string();
        let platforms = match i.kind {
            Kind::Index => format!("{} (multi-arch)", i.platforms.join(",")),
            Kind::Image => i.platforms.join(","),
        };
        for t in &i.tags {
            rows.push([
                i.repository.clone(),
                t.clone(),
                short.clone(),
                human_size(i.size),
                i.created.clone().unwrap_or_else(|| "-".into()),
                platforms.clone(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Image> {
        vec![
            Image {
                repository: "team/app".into(),
                tags: vec!["2.0".into(), "latest".into()],
                digest: format!("sha256:{}", "a".repeat(64)),
                kind: Kind::Index,
                media_type: crate::image::OCI_INDEX.into(),
                size: 3 << 20,
                created: Some("2027-01-15T08:00:00Z".into()),
                platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
                children: vec![format!("sha256:{}", "b".repeat(64))],
                created_unix: None,
            },
            Image {
                repository: "team/app".into(),
                tags: vec!["1.0".into()],
                digest: format!("sha256:{}", "c".repeat(64)),
                kind: Kind::Image,
                media_type: crate::image::OCI_MANIFEST.into(),
                size: 512,
                created: None,
                platforms: vec!["linux/amd64".into()],
                children: vec![],
                created_unix: None,
            },
        ]
    }

    /// The `-o json` contract of `kreg images`.
    #[test]
    fn images_json_document() {
        let report = ImagesReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            images: sample(),
        };
        insta::assert_json_snapshot!("images_json", report);
    }

    #[test]
    fn the_table_has_a_row_per_tag() {
        let t = table(&sample());
        assert_eq!(t.len(), 4, "{t:#?}");
        assert!(t[0].starts_with("REPOSITORY  TAG     DIGEST"), "{}", t[0]);
        assert!(t[1].contains("2.0") && t[1].contains("linux/amd64,linux/arm64 (multi-arch)"));
        assert!(t[2].contains("latest") && t[2].contains("3.0 MiB"));
        assert!(t[3].contains("512 B") && t[3].contains(" - "), "{}", t[3]);
    }
}

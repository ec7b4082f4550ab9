//! `kreg push SOURCE [--name REPO:TAG]`: copies an image from a file into kreg's registry
//! without docker — for air-gapped CI that gets images as files.
//!
//! Order: check `--name`, read and verify the whole file (so bad input exits 2 having pushed
//! nothing), read the registry's address and CA from the cluster (ConfigMap `kreg-state`, as
//! `trust-local` does), reach the registry at its address — or, when this machine cannot,
//! through a port-forward to the registry pod — then upload missing blobs and PUT the
//! manifests, the tagged one last.

use std::time::Instant;

use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::Ctx;
use crate::cli::PushArgs;
use crate::error::{hint, EXIT_OK};
use crate::image::{self, Format, Image};
use crate::registry::Registry;

/// Blobs uploaded at once: enough to overlap round trips, few enough for a small registry.
const PARALLEL_UPLOADS: usize = 3;

/// `kreg push -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PushReport {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    /// `HOST/REPOSITORY:TAG@sha256:...`, what a Pod spec can use.
    reference: String,
    registry: String,
    repository: String,
    tag: String,
    digest: String,
    format: Format,
    blobs_uploaded: usize,
    blobs_present: usize,
    bytes_uploaded: u64,
    /// Whether the push went through a port-forward to the registry pod.
    port_forward: bool,
    seconds: f64,
}

pub async fn run(ctx: &Ctx, a: &PushArgs) -> Result<u8> {
    let started = Instant::now();
    let r = &ctx.reporter;
    let named = a
        .name
        .as_deref()
        .map(crate::validate::push_name)
        .transpose()?;

    r.step(&format!("reading {}", a.source.display()));
    let source = a.source.clone();
    let img = tokio::task::spawn_blocking(move || image::open(&source))
        .await
        .context("reading the image")??;
    let (repo, tag) = named.or_else(|| img.name.clone()).ok_or_else(|| {
        hint(
            format!("{} does not name its image", a.source.display()),
            "give the name it gets in the registry: --name REPO:TAG",
        )
    })?;
    r.done(&format!(
        "read {} {}: {} blob(s), {}, digests verified",
        img.format,
        a.source.display(),
        img.blobs.len(),
        mib(img.blob_bytes())
    ));
    for note in &img.notes {
        r.info(note);
    }

    let crate::reach::Reached {
        client,
        forward,
        registry: registry_name,
    } = crate::reach::registry(ctx, a.port_forward).await?;

    let (uploaded, present, bytes) = upload(ctx, &client, &repo, &img).await?;
    let (children, top) = img.manifests.split_at(img.manifests.len() - 1);
    for m in children {
        client.put_manifest(&repo, &m.digest, m).await?;
    }
    client.put_manifest(&repo, &tag, &top[0]).await?;
    let forwarded = forward.is_some();
    drop(forward);

    let digest = img.top().digest.clone();
    let report = PushReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        reference: format!("{registry_name}/{repo}:{tag}@{digest}"),
        registry: registry_name,
        repository: repo,
        tag,
        digest,
        format: img.format,
        blobs_uploaded: uploaded,
        blobs_present: present,
        bytes_uploaded: bytes,
        port_forward: forwarded,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    };
    r.done(&format!(
        "pushed {}:{} ({uploaded} blob(s) uploaded, {}; {present} already there) in {:.1}s",
        report.repository,
        report.tag,
        mib(bytes),
        report.seconds
    ));
    r.finish();
    if ctx.printer.is_text() {
        ctx.printer.out(&report.reference);
    } else {
        ctx.printer.document(&report)?;
    }
    Ok(EXIT_OK)
}

/// Uploads the blobs the registry lacks, a few at a time. Returns (uploaded, present, bytes).
async fn upload(
    ctx: &Ctx,
    client: &Registry,
    repo: &str,
    img: &Image,
) -> Result<(usize, usize, u64)> {
    ctx.reporter
        .step(&format!("uploading {} blob(s) to {repo}", img.blobs.len()));
    let results: Vec<Option<u64>> = futures::stream::iter(&img.blobs)
        .map(|b| async move {
            if client.has_blob(repo, &b.digest).await? {
                return Ok::<_, anyhow::Error>(None);
            }
            client.upload_blob(repo, b).await?;
            ctx.reporter
                .info(&format!("uploaded {} ({})", b.digest, mib(b.size)));
            Ok(Some(b.size))
        })
        .buffer_unordered(PARALLEL_UPLOADS)
        .try_collect()
        .await?;
    let uploaded: Vec<u64> = results.iter().flatten().copied().collect();
    Ok((
        uploaded.len(),
        results.len() - uploaded.len(),
        uploaded.iter().sum(),
    ))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `-o json` contract of `kreg push`: field names and shapes scripts read.
    #[test]
    fn push_json_document() {
        let report = PushReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            reference: "registry.10.0.0.2.nip.io:31000/app:1@sha256:abc".into(),
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            repository: "app".into(),
            tag: "1".into(),
            digest: "sha256:abc".into(),
            format: Format::OciArchive,
            blobs_uploaded: 2,
            blobs_present: 1,
            bytes_uploaded: 1024,
            port_forward: false,
            seconds: 0.5,
        };
        insta::assert_json_snapshot!("push_json", report);
    }
}

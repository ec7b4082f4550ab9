//! `kreg down`: runs [`ops::down`] and prints its report; the nodes it could not clean make
//! it fail with what to do.

use anyhow::Result;

use super::Ctx;
use crate::cli::DownArgs;
use crate::error::{hint, EXIT_OK};
use crate::ops::down::{self as ops};

pub async fn run(ctx: &Ctx, a: &DownArgs) -> Result<u8> {
    let opts = ops::Options {
        purge: a.purge,
        dry_run: a.dry_run,
    };
    let report = ops::down(ctx, &opts).await?;
    ctx.reporter.finish();
    ctx.printer.document(&report)?;
    if !report.nodes_not_cleaned.is_empty() {
        return Err(hint(
            format!("{} node(s) still have kreg's trust files", report.nodes_not_cleaned.len()),
            "remove <config_path>/<registry>/ on those nodes by hand, or run `kreg up` and `kreg down` again once they are reachable",
        ));
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use crate::cluster::NodeVerdict;
    use crate::ops::down::DownReport;

    /// The `-o json` contract of `down`.
    #[test]
    fn down_json_contract() {
        let report = DownReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            namespace: "kreg-system".into(),
            removed: vec![
                "DaemonSet/kreg-node-trust".into(),
                "Deployment/kreg-registry".into(),
            ],
            kept: vec![
                "PersistentVolumeClaim/kreg-registry-data (your images)".into(),
                "Namespace/kreg-system".into(),
            ],
            nodes_not_cleaned: vec![NodeVerdict {
                node: "node-b".into(),
                reason: "no answer before the timeout".into(),
            }],
        };
        insta::assert_json_snapshot!("down_json", report);
    }
}

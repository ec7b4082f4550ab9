//! `kreg gc`: runs [`ops::collect_garbage`] and prints how much it reclaimed.

use anyhow::Result;

use super::Ctx;
use crate::cli::GcArgs;
use crate::error::EXIT_OK;
use crate::ops::gc::{self as ops, GcReport};

pub async fn run(ctx: &Ctx, a: &GcArgs) -> Result<u8> {
    let opts = ops::Options {
        dry_run: a.dry_run,
        ask: true,
    };
    let report = ops::collect_garbage(ctx, &opts).await?;
    ctx.reporter.finish();
    print(ctx, &report)?;
    Ok(EXIT_OK)
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

pub(super) fn print(ctx: &Ctx, r: &GcReport) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use crate::gc::Outcome;
    use crate::ops::gc::GcReport;

    /// The `-o json` contract of `gc`: the outcome's fields sit at the top level.
    #[test]
    fn gc_json_contract() {
        let report = GcReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            namespace: "kreg-system".into(),
            dry_run: false,
            outcome: Outcome {
                before_bytes: Some(30 << 20),
                after_bytes: Some(10 << 20),
                reclaimed_bytes: Some(20 << 20),
                blobs_deleted: Some(3),
                manifests_deleted: Some(1),
            },
            readonly_ms: 12000,
            total_ms: 15000,
        };
        insta::assert_json_snapshot!("gc_json", report);
    }
}

//! `kreg trust-local`: runs [`ops::trust_local`] and prints what it wrote, removed or left to
//! the printed commands.

use anyhow::Result;

use super::Ctx;
use crate::cli::TrustLocalArgs;
use crate::error::EXIT_OK;
use crate::ops::trust_local::{self as ops, TrustLocalReport};

pub async fn run(ctx: &Ctx, a: &TrustLocalArgs) -> Result<u8> {
    let opts = options(a);
    let Some((code, report)) = ops::trust_local(ctx, &opts).await? else {
        return Ok(EXIT_OK);
    };
    print(ctx, &report, a.dry_run)?;
    Ok(code)
}

fn options(a: &TrustLocalArgs) -> ops::Options {
    ops::Options {
        system: a.system,
        ca_sha256: a.ca_sha256.clone(),
        remove: a.remove,
        dry_run: a.dry_run,
        user: a.user,
        hosts: a.hosts,
    }
}

pub(super) fn print(ctx: &Ctx, r: &TrustLocalReport, dry_run: bool) -> Result<()> {
    if !ctx.printer.is_text() {
        return ctx.printer.document(r);
    }
    for f in &r.ca_sha256 {
        ctx.printer.out(&format!("CA sha256: {f}"));
    }
    let verb = if dry_run { "would write" } else { "wrote" };
    for p in &r.written {
        ctx.reporter.done(&format!("{verb} {}", p.display()));
    }
    for p in &r.removed {
        ctx.reporter.done(&format!(
            "{} {}",
            if dry_run { "would remove" } else { "removed" },
            p.display()
        ));
    }
    for p in &r.unchanged {
        ctx.reporter
            .done(&format!("already trusted: {}", p.display()));
    }
    for c in &r.commands {
        ctx.printer.out(c);
    }
    Ok(())
}

#[cfg(test)]
mod contract {
    use std::path::PathBuf;

    use crate::ops::trust_local::TrustLocalReport;

    /// The `-o json` contract of `trust-local`.
    #[test]
    fn trust_local_json_contract() {
        let report = TrustLocalReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            ca_sha256: vec!["ab".repeat(32)],
            written: vec![PathBuf::from(
                "/etc/docker/certs.d/registry.10.0.0.2.nip.io:31000/ca.crt",
            )],
            unchanged: vec![],
            removed: vec![],
            commands: vec!["sudo update-ca-certificates".into()],
        };
        insta::assert_json_snapshot!("trust_local_json", report);
    }
}

//! `kreg env`: prints what dev tools need to push to the installed registry (see
//! [`crate::devtools`]), as shell exports or, with `-o json|yaml`, a document.

use anyhow::Result;

use super::Ctx;
use crate::cli::{EnvArgs, ShellArg};
use crate::cluster::Cluster;
use crate::devtools::{self, Shell};
use crate::error::EXIT_OK;
use crate::plan::Expose;

pub async fn run(ctx: &Ctx, a: &EnvArgs) -> Result<u8> {
    let cluster = Cluster::connect(&ctx.settings.target, &ctx.settings.namespace).await?;
    let state = cluster.installed_state().await?;
    let doc = devtools::document(
        crate::plan::SCHEMA_VERSION,
        &state.registry,
        state.expose == Expose::Localhost,
    );
    if ctx.printer.is_text() {
        let shell = match a.shell {
            ShellArg::Bash | ShellArg::Zsh => Shell::Bash,
            ShellArg::Fish => Shell::Fish,
            ShellArg::Powershell => Shell::PowerShell,
        };
        for line in devtools::script(&doc, shell).lines() {
            ctx.printer.out(line);
        }
    } else {
        ctx.printer.document(&doc)?;
    }
    Ok(EXIT_OK)
}

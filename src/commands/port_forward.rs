//! `kreg port-forward`: for `--expose localhost`, makes `localhost:<port>` on this machine reach
//! the registry, so the references nodes pull (`localhost:<port>/name:tag`) work for pushes here
//! too. It runs `kubectl port-forward` with the same kubeconfig and context until Ctrl-C:
//! kubectl's forwarder is the one users already trust and debug.

use anyhow::Result;

use super::Ctx;
use crate::cli::PortForwardArgs;
use crate::cluster::Cluster;
use crate::error::hint;
use crate::plan::names;

pub async fn run(ctx: &Ctx, _a: &PortForwardArgs) -> Result<u8> {
    let ns = &ctx.settings.namespace;
    let cluster = Cluster::connect(&ctx.settings.target, ns).await?;
    let state = cluster
        .read_state()
        .await?
        .filter(|s| s.installed)
        .ok_or_else(|| {
            hint(
                format!("kreg is not installed in namespace {ns}"),
                "run `kreg up --expose localhost` first",
            )
        })?;
    if !state.expose.is_localhost() {
        return Err(hint(
            format!(
                "the registry in namespace {ns} is exposed as {}, not localhost",
                state.expose
            ),
            format!(
                "push to {} directly; port-forward is for `kreg up --expose localhost`",
                state.registry
            ),
        ));
    }
    let port = state.port;
    let mut cmd = std::process::Command::new("kubectl");
    if !ctx.settings.target.kubeconfig.is_empty() {
        cmd.env(
            "KUBECONFIG",
            std::env::join_paths(&ctx.settings.target.kubeconfig)?,
        );
    }
    if let Some(c) = &ctx.settings.target.context {
        cmd.args(["--context", c]);
    }
    cmd.args(["-n", ns, "port-forward", "--address", "127.0.0.1"])
        .arg(format!("svc/{}", names::REGISTRY))
        .arg(format!("{port}:{}", names::CONTAINER_PORT))
        // stdout carries only the result (the address); kubectl's chatter goes to stderr.
        .stdout(std::process::Stdio::from(std::io::stderr()));
    ctx.printer.out(&format!("localhost:{port}"));
    ctx.reporter.info(&format!(
        "forwarding localhost:{port} to the registry; push to localhost:{port}/NAME:TAG; Ctrl-C stops"
    ));
    exec(cmd)
}

/// Becomes kubectl (exec): signals, Ctrl-C and a kill reach the forwarder itself, so no
/// orphaned port-forward outlives kreg.
#[cfg(unix)]
fn exec(mut cmd: std::process::Command) -> Result<u8> {
    use std::os::unix::process::CommandExt;
    let err = cmd.exec();
    Err(hint(
        format!("cannot run kubectl: {err}"),
        "kreg port-forward uses kubectl: install it and put it on PATH",
    ))
}

#[cfg(not(unix))]
fn exec(mut cmd: std::process::Command) -> Result<u8> {
    use crate::error::{EXIT_ERROR, EXIT_OK};
    let status = cmd.status().map_err(|e| {
        hint(
            format!("cannot run kubectl: {e}"),
            "kreg port-forward uses kubectl: install it and put it on PATH",
        )
    })?;
    Ok(if status.success() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

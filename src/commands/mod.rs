//! The command line's edge: each `commands/<verb>.rs` turns its flags into the options struct
//! of the operation (`install::Options`, `ops::<verb>::Options`), runs it and prints the
//! result. `up`, `status`, `down`, `gc` and `trust-local` keep every decision in `install/` and
//! `ops/` (tests/layering.rs holds that `ops/` never sees clap); the small registry verbs
//! (`push`, `images`, `rm`, `prune`, `env`, `port-forward`) still run their few steps here,
//! through `reach` and `registry`, the registry's client edge.

pub mod completions;
mod down;
mod env;
mod gc;
mod images;
pub mod man;
mod port_forward;
mod prune;
mod push;
mod render;
mod rm;
pub mod schema;
mod status;
mod trust_local;
mod up;
mod version;

use std::future::Future;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::error::{EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};
use crate::printer::Printer;
use crate::reporter::StderrReporter;
use crate::settings::Settings;

pub(crate) use crate::context::Ctx;

/// Parses the command line, runs the command, prints errors; returns the exit code.
pub fn main() -> u8 {
    // Installed as `kubectl-kreg`, kubectl runs it as a plugin: usage and hints say so.
    let program = crate::cli::program_name(&std::env::args_os().next().unwrap_or_default());
    crate::printer::set_program_name(program);
    // `-f kreg.yaml` (or KREG_CONFIG): the file's settings become flags in front of these.
    let argv = match crate::config::apply(&Cli::command(), std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(e) => {
            Printer::new(crate::cli::OutputFormat::Text, false).error(&e);
            return EXIT_ERROR;
        }
    };
    let cli = match Cli::command()
        .bin_name(program)
        .try_get_matches_from(argv)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    if let Command::Completions(args) = &cli.command {
        return completions::run(args);
    }
    if let Command::Man(args) = &cli.command {
        let printer = Printer::new(cli.global.output, false);
        return man::run(&printer, args).unwrap_or_else(|e| {
            printer.error(&e);
            EXIT_ERROR
        });
    }
    if let Command::AgentImage(args) = &cli.command {
        let printer = Printer::new(cli.global.output, false);
        return write_agent_image(&printer, &args.out).unwrap_or_else(|e| {
            printer.error(&e);
            EXIT_ERROR
        });
    }
    if let Command::Schema(args) = &cli.command {
        let printer = Printer::new(cli.global.output, false);
        return schema::run(&printer, args).unwrap_or_else(|e| {
            printer.error(&e);
            EXIT_ERROR
        });
    }
    // Needs no cluster and no kubeconfig.
    if let Command::Version = &cli.command {
        let printer = Printer::new(cli.global.output, false);
        return version::run(&printer).unwrap_or_else(|e| {
            printer.error(&e);
            EXIT_ERROR
        });
    }
    // The node agent has no kubeconfig, no printer and no terminal: only verdict lines.
    if let Command::NodeAgent(args) = &cli.command {
        if args.ready {
            return crate::node::agent::ready();
        }
        return match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) if args.push_probe => rt.block_on(crate::node::probe::push_from_env()),
            Ok(rt) => rt
                .block_on(crate::node::agent::run(args.once))
                .unwrap_or(EXIT_ERROR),
            Err(_) => EXIT_ERROR,
        };
    }
    if let Command::RegistryGate = &cli.command {
        return match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(crate::gate::server::run()),
            Err(_) => EXIT_ERROR,
        };
    }
    let settings = match Settings::resolve(&cli.global) {
        Ok(s) => s,
        Err(e) => {
            Printer::new(cli.global.output, false).error(&e);
            return EXIT_ERROR;
        }
    };
    let printer = Printer::new(settings.output, settings.color);
    let reporter = Box::new(StderrReporter::new(printer, settings.interactive));
    let ctx = Ctx {
        settings,
        printer,
        reporter,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            printer.error(&anyhow::Error::new(e).context("starting the async runtime"));
            return EXIT_ERROR;
        }
    };
    let code = runtime.block_on(async {
        match &cli.command {
            Command::Up(a) => interruptible(&ctx, "up", up::run(&ctx, a)).await,
            Command::Render(a) => render::run(&ctx, a).await,
            Command::Status(a) => interruptible(&ctx, "status", status::run(&ctx, a)).await,
            Command::Env(a) => interruptible(&ctx, "env", env::run(&ctx, a)).await,
            Command::Down(a) => interruptible(&ctx, "down", down::run(&ctx, a)).await,
            Command::Gc(a) => gc::run(&ctx, a).await,
            Command::TrustLocal(a) => {
                interruptible(&ctx, "trust-local", trust_local::run(&ctx, a)).await
            }
            // Ctrl-C is how a port-forward ends; kubectl gets it too.
            Command::PortForward(a) => port_forward::run(&ctx, a).await,
            // A push is idempotent: Ctrl-C simply ends it, the next push skips what arrived.
            Command::Push(a) => push::run(&ctx, a).await,
            // Reads only.
            Command::Images(a) => interruptible(&ctx, "images", images::run(&ctx, a)).await,
            // Each manifest DELETE is atomic; stopping between two leaves fewer images, and the
            // next run deletes the rest.
            Command::Rm(a) => interruptible(&ctx, "rm", rm::run(&ctx, a)).await,
            // Its gc handles Ctrl-C itself (it must switch the registry back), as `kreg gc` does.
            Command::Prune(a) => prune::run(&ctx, a).await,
            Command::Completions(_)
            | Command::Version
            | Command::Man(_)
            | Command::AgentImage(_)
            | Command::Schema(_)
            | Command::NodeAgent(_)
            | Command::RegistryGate => {
                unreachable!("handled above")
            }
        }
    });
    ctx.reporter.finish();
    match code {
        Ok(code) => code,
        Err(e) => {
            printer.error(&e);
            EXIT_ERROR
        }
    }
}

/// Runs a command until it ends or Ctrl-C, then says so in one line and exits 130. Every step
/// kreg takes is idempotent and each API write is atomic, so stopping between two requests
/// leaves a state the next `up` completes and `down` removes (tests/node_faults.rs interrupts
/// `up` at random points to hold this).
async fn interruptible(
    ctx: &Ctx,
    verb: &str,
    fut: impl Future<Output = anyhow::Result<u8>>,
) -> anyhow::Result<u8> {
    tokio::select! {
        r = fut => r,
        _ = tokio::signal::ctrl_c() => {
            ctx.reporter.finish();
            ctx.printer.say(&match verb {
                "up" => "kreg up: interrupted; run `kreg up` again to finish the install (or `kreg down` to remove what it applied)".to_string(),
                "down" => "kreg down: interrupted; run `kreg down` again to finish the removal".to_string(),
                other => format!("kreg {other}: interrupted"),
            });
            Ok(EXIT_INTERRUPTED)
        }
    }
}

/// `kreg agent-image --out FILE`: this executable as kreg's image, an OCI archive (0644: it
/// holds no secret); prints `kreg/agent@sha256:…`.
fn write_agent_image(printer: &Printer, out: &std::path::Path) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    let built = crate::agent_image::build()?;
    std::fs::write(out, built.archive(crate::version::VERSION))
        .with_context(|| format!("writing {}", out.display()))?;
    printer.out(&format!("{}@{}", crate::agent_image::REPO, built.digest()));
    Ok(EXIT_OK)
}

//! `kreg trust-local`'s work (also `up --trust-local`): makes this workstation's docker, podman, skopeo and buildah (and with
//! `--system` the OS trust store) trust the registry's CA, read from the cluster. Writes only
//! the CA certificate (public); never the key.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::cluster::Cluster;
use crate::context::Ctx;
use crate::error::{hint, EXIT_ERROR, EXIT_OK};
use crate::plan::names;
use crate::trust::workstation::{self as trust, Distro, LocalTarget, Os};

/// `kreg trust-local -o json`.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct TrustLocalReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub registry: String,
    /// SHA-256 of each CA certificate installed (two during a CA rotation).
    pub ca_sha256: Vec<String>,
    pub written: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    /// Commands the user must run (root needed and not granted).
    pub commands: Vec<String>,
}

/// What `kreg trust-local` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Also the operating system's trust store.
    pub system: bool,
    /// The CA fingerprints the user checked (`--ca-sha256`).
    pub ca_sha256: Option<String>,
    /// Remove what kreg wrote instead.
    pub remove: bool,
    pub dry_run: bool,
    /// Only per-user locations (no root).
    pub user: bool,
    /// Also map the registry's name to its address in the hosts file.
    pub hosts: bool,
}

/// Reads the registry and its CA from the cluster and trusts it here; the exit code says
/// whether locations that need root were left to the printed commands. `None`: a plain-HTTP
/// registry, nothing to trust.
pub(crate) async fn trust_local(ctx: &Ctx, a: &Options) -> Result<Option<(u8, TrustLocalReport)>> {
    let cluster = Cluster::connect(&ctx.settings.target, &ctx.settings.namespace).await?;
    let state = cluster.installed_state().await?;
    let (registry, ca_pem) = (state.registry.clone(), state.ca_pem.clone());
    if !state.expose.serves_tls() {
        ctx.reporter.done(&format!("{registry} is plain HTTP on localhost: there is no CA to trust (docker and containerd allow localhost without TLS; for skopeo/podman use --tls-verify=false)"));
        return Ok(None);
    }
    crate::validate::host_port(&registry)
        .context("the registry address stored in the cluster is not valid")?;
    let external =
        state.ca_secret.is_some() || state.ca_secret_next.is_some() || state.issuer.is_some();
    let (code, mut report) = run_local(ctx, a, &registry, &ca_pem, external)?;
    if a.hosts {
        hosts_entry(a, &state.host, &state.address, &mut report)?;
    }
    Ok(Some((code, report)))
}

/// `--hosts`: maps the registry's name to its address in the hosts file (`KREG_HOSTS_FILE`
/// instead of /etc/hosts, for tests), so this machine needs no resolver for it. Only kreg's own
/// line (marked `# kreg: HOST`) is ever written or removed.
fn hosts_entry(
    a: &Options,
    host: &str,
    address: &str,
    report: &mut TrustLocalReport,
) -> Result<()> {
    let path =
        PathBuf::from(std::env::var("KREG_HOSTS_FILE").unwrap_or_else(|_| "/etc/hosts".into()));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(()); // named by its address (`--dns-suffix none`): nothing to resolve
    }
    let ip: std::net::IpAddr = address.parse().map_err(|_| {
        hint(
            format!("--hosts: the registry's address {address:?} is a name, not an IP"),
            "a load balancer hostname resolves through DNS already; leave --hosts out",
        )
    })?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let changed = if a.remove {
        trust::hosts_without(&text, host)
    } else {
        trust::hosts_with(&text, &ip.to_string(), host)
    };
    let Some(new) = changed else {
        if !a.remove {
            report.unchanged.push(path);
        }
        return Ok(());
    };
    if !a.dry_run {
        std::fs::write(&path, new).map_err(|e| {
            hint(
                format!("cannot write {}: {e}", path.display()),
                "run it as root (sudo kreg trust-local --hosts), or leave --hosts out",
            )
        })?;
    }
    match a.remove {
        true => report.removed.push(path),
        false => report.written.push(path),
    }
    Ok(())
}

/// The local half, separate from the cluster read so `up --trust-local` can run it; the caller
/// prints the report. `external`: the CA is the user's (`up --ca-secret`) or a cert-manager
/// issuer's (`up --issuer`), not kreg's own.
pub(crate) fn run_local(
    ctx: &Ctx,
    a: &Options,
    registry: &str,
    ca_pem: &str,
    external: bool,
) -> Result<(u8, TrustLocalReport)> {
    // What the state ConfigMap holds is installed only if it is kreg's CA, and nothing else.
    let fingerprints = crate::pki::check_kreg_ca(
        ca_pem,
        registry_host(registry),
        time::OffsetDateTime::now_utc(),
        external,
    )
    .map_err(|e| {
        hint(
            format!(
                "refusing to trust what ConfigMap {} in namespace {} holds as the CA: {e:#}",
                names::STATE,
                ctx.settings.namespace
            ),
            "someone other than kreg may have changed it: run `kreg up` to write kreg's CA there again, and check who may edit that ConfigMap",
        )
    })?;
    check_system_consent(ctx, a, &fingerprints)?;
    let os = if cfg!(target_os = "macos") {
        Os::MacOs
    } else {
        Os::Linux
    };
    let distro = std::fs::read_to_string("/etc/os-release")
        .map(|t| trust::distro_from_os_release(&t))
        .unwrap_or(Distro::Other);
    let root = is_root();
    let home = ctx
        .settings
        .home
        .clone()
        .ok_or_else(|| anyhow!("HOME is not set; kreg needs it for per-user trust files"))?;
    let targets: Vec<LocalTarget> =
        trust::local_targets(os, distro, root, &home, registry, a.system)
            .into_iter()
            .filter(|t| !a.user || !t.needs_root)
            .collect();
    if targets.is_empty() {
        bail!(
            "no trust location applies here (with --user, Docker and the system store need root)"
        );
    }
    let mut report = TrustLocalReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        registry: registry.into(),
        ca_sha256: fingerprints,
        ..Default::default()
    };
    let mut root_needed: Vec<&LocalTarget> = Vec::new();
    for t in &targets {
        let current = std::fs::read_to_string(&t.path).ok();
        if a.remove {
            match current {
                Some(c) if c == ca_pem => {
                    if t.needs_root && !root {
                        root_needed.push(t);
                    } else if !a.dry_run {
                        remove(&t.path)?;
                        report.removed.push(t.path.clone());
                    } else {
                        report.removed.push(t.path.clone());
                    }
                }
                Some(_) => ctx.printer.warn(&format!(
                    "{} holds another certificate; left alone",
                    t.path.display()
                )),
                None => {}
            }
            continue;
        }
        if current.as_deref() == Some(ca_pem) {
            report.unchanged.push(t.path.clone());
        } else if t.needs_root && !root {
            root_needed.push(t);
        } else if a.dry_run {
            report.written.push(t.path.clone());
        } else {
            write(&t.path, ca_pem)?;
            report.written.push(t.path.clone());
        }
    }
    if a.system && !a.remove && (!report.written.is_empty() || !root_needed.is_empty()) {
        if let Some(store) = targets.iter().find(|t| t.tool == trust::Tool::SystemStore) {
            if let Some(cmd) = trust::system_store_refresh(os, distro, &store.path) {
                if root && !a.dry_run {
                    run_cmd(&cmd)?;
                } else {
                    report.commands.push(shell_join(&cmd));
                }
            }
        }
    }
    let mut exit = EXIT_OK;
    if !root_needed.is_empty() {
        let ca_tmp = std::env::temp_dir().join(format!("kreg-ca-{}.crt", std::process::id()));
        let cmds: Vec<String> = root_needed
            .iter()
            .map(|t| {
                if a.remove {
                    format!("sudo rm -f {}", t.path.display())
                } else {
                    format!(
                        "sudo install -D -m 0644 {} {}",
                        ca_tmp.display(),
                        t.path.display()
                    )
                }
            })
            .collect();
        if !a.dry_run
            && ctx.settings.interactive
            && ctx.confirm(&format!(
                "Use sudo to write {} file(s) that need root?",
                cmds.len()
            ))?
        {
            if !a.remove {
                std::fs::write(&ca_tmp, ca_pem)?;
            }
            for c in &cmds {
                run_cmd(&c.split(' ').map(String::from).collect::<Vec<_>>())?;
            }
            let _ = std::fs::remove_file(&ca_tmp);
            report
                .written
                .extend(root_needed.iter().map(|t| t.path.clone()));
        } else {
            if !a.remove {
                report.commands.insert(
                    0,
                    format!(
                        "kubectl -n {} get configmap {} -o jsonpath='{{.data.ca\\.crt}}' > {}",
                        ctx.settings.namespace,
                        names::STATE,
                        ca_tmp.display()
                    ),
                );
            }
            report.commands.extend(cmds);
            if !a.dry_run {
                exit = EXIT_ERROR;
            }
        }
    }
    if exit != EXIT_OK {
        ctx.printer.warn("some locations need root: run the printed commands, or re-run as root (sudo kreg trust-local), or use --user for per-user trust only");
    }
    Ok((exit, report))
}

/// The registry's host, without the port (`[v6]:port` keeps its address).
fn registry_host(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match registry.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => registry,
    }
}

/// `--ca-sha256` must list every certificate to be installed; `--system` (which every program
/// on the machine then trusts) needs that, or a yes on a terminal.
fn check_system_consent(ctx: &Ctx, a: &Options, fingerprints: &[String]) -> Result<()> {
    let shown = fingerprints.join(",");
    if let Some(given) = &a.ca_sha256 {
        let want = crate::pki::parse_fingerprints(given).map_err(|e| {
            hint(
                format!("--ca-sha256: {e:#}"),
                "pass the CA's SHA-256 as `kreg up` prints it (ca_sha256)",
            )
        })?;
        if let Some(other) = fingerprints.iter().find(|f| !want.contains(f)) {
            return Err(hint(
                format!("refused: the CA in the cluster has SHA-256 {other}, not the one given with --ca-sha256; nothing was written"),
                "check which cluster and namespace you are talking to; if the CA was rotated (`kreg up --rotate-ca`), pass the new fingerprint",
            ));
        }
        return Ok(());
    }
    if !a.system || a.remove || a.dry_run {
        return Ok(());
    }
    if ctx.settings.interactive {
        if ctx.confirm(&format!(
            "Add kreg's CA (SHA-256 {shown}) to the operating system's trust store? Every program on this machine will trust what it signs."
        ))? {
            return Ok(());
        }
        bail!("cancelled; nothing was written");
    }
    Err(hint(
        format!("--system puts kreg's CA (SHA-256 {shown}) into the operating system's trust store, and no terminal is here to confirm it; nothing was written"),
        format!("check that fingerprint against `kreg up`'s output (ca_sha256), then pass --ca-sha256 {shown}; or run it on a terminal without --yes"),
    ))
}

fn write(path: &Path, pem: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, pem).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A CA certificate is public: readable by every user's docker/podman.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    // The per-registry folder was kreg's; drop it when empty (never its parents).
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(())
}

fn run_cmd(cmd: &[String]) -> Result<()> {
    let status = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .status()
        .with_context(|| format!("running {}", cmd[0]))?;
    if !status.success() {
        bail!("`{}` failed ({status})", shell_join(cmd));
    }
    Ok(())
}

fn shell_join(cmd: &[String]) -> String {
    cmd.join(" ")
}

/// Effective uid 0, read from /proc (no libc dependency); elsewhere, assume not root.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::registry_host;

    #[test]
    fn registry_host_drops_the_port() {
        assert_eq!(
            registry_host("registry.10.0.0.5.nip.io:31000"),
            "registry.10.0.0.5.nip.io"
        );
        assert_eq!(registry_host("reg.example.com"), "reg.example.com");
        assert_eq!(registry_host("[fd00::1]:443"), "fd00::1");
        assert_eq!(registry_host("10.0.0.5:5000"), "10.0.0.5");
    }
}

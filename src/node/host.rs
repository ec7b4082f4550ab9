//! The node agent's edge to the node: finding the container runtime the kubelet really uses,
//! running that runtime's own binary, restarting it.
//!
//! Everything read from `/proc` that another process controls (names, command lines, files)
//! is untrusted: a tenant Pod can run a process called `containerd`, even swap its executable
//! after start. So the runtime is never found by name. It is the host process that holds the
//! listening end of the socket the kubelet is configured with:
//! 1. the kubelet is a host process (our PID namespace, since the agent runs with hostPID;
//!    not in a pod's cgroup; not below a container shim) named `kubelet` (k3s/rke2: their
//!    supervisor), and its `--container-runtime-endpoint` (or its config file's
//!    `containerRuntimeEndpoint`) names the socket;
//! 2. the kernel's table of unix sockets in the kubelet's network namespace gives the
//!    listening socket's inode for that path;
//! 3. the process holding that inode, if it is itself a host process, is the runtime.
//!
//! A decoy in a pod fails 1 and 3 whatever it calls itself. The only binary ever executed is
//! the verified runtime's (through an fd opened on its `/proc/<pid>/exe` before the checks'
//! result is used) and, to restart a systemd unit, PID 1's `systemctl`.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};

/// The verified runtime of this node.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub pid: u32,
    /// The runtime's root directory, held open: its files stay reachable while the runtime
    /// restarts (its `/proc/<pid>/root` vanishes with the process), which the rollback needs.
    root: std::sync::Arc<fs::File>,
    /// The CRI socket path in the runtime's own mount namespace.
    pub socket: String,
    /// `--config`/`-c` of the runtime (containerd), or the default file.
    pub config_file: String,
    /// How the runtime was found, for reports.
    pub found_by: String,
}

impl Runtime {
    /// A path as the runtime sees it, reachable from the agent through the held root.
    pub fn view(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}{}", self.root.as_raw_fd(), path))
    }
}

// ---- pure parsing -------------------------------------------------------------------------

/// `--flag=value` or `--flag value` in a NUL-separated command line.
pub fn flag_value(cmdline: &[u8], flag: &str) -> Option<String> {
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let eq = format!("{flag}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&eq).map(str::to_string)
        }
    })
}

/// The socket path of a CRI endpoint (`unix:///run/containerd/containerd.sock` or a bare path).
pub fn endpoint_path(endpoint: &str) -> Option<String> {
    let p = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
    p.starts_with('/').then(|| p.to_string())
}

/// The same socket under its other common spelling (`/var/run` is a link to `/run`).
fn aliases(path: &str) -> Vec<String> {
    let mut v = vec![path.to_string()];
    if let Some(rest) = path.strip_prefix("/var/run/") {
        v.push(format!("/run/{rest}"));
    } else if let Some(rest) = path.strip_prefix("/run/") {
        v.push(format!("/var/run/{rest}"));
    }
    v
}

/// Inodes of listening unix sockets bound at one of `paths`, from `/proc/<pid>/net/unix`.
pub fn listening_inodes(net_unix: &str, paths: &[String]) -> Vec<u64> {
    // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening.
    net_unix
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            let flags = u32::from_str_radix(f[3], 16).ok()?;
            let listening = flags & 0x0001_0000 != 0;
            (listening && paths.iter().any(|p| p == f[7])).then(|| f[6].parse().ok())?
        })
        .collect()
}

/// A process in a pod: its cgroup path names the kubelet's pod hierarchy.
pub fn in_pod_cgroup(cgroup: &str) -> bool {
    cgroup.lines().any(|l| l.contains("kubepods"))
}

/// `PPid:` of a `/proc/<pid>/status`.
pub fn ppid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The systemd unit a process runs in (`.../containerd.service`), from its cgroup file.
pub fn systemd_unit(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|l| {
        l.rsplit('/')
            .next()
            .filter(|u| u.ends_with(".service"))
            .map(str::to_string)
    })
}

/// `containerRuntimeEndpoint` of a kubelet config file (YAML).
pub fn kubelet_config_endpoint(yaml: &str) -> Option<String> {
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).ok()?;
    v.get("containerRuntimeEndpoint")?
        .as_str()
        .map(str::to_string)
}

// ---- /proc --------------------------------------------------------------------------------

fn read(path: impl AsRef<Path>) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn ns(pid: &str, which: &str) -> Option<PathBuf> {
    fs::read_link(format!("/proc/{pid}/ns/{which}")).ok()
}

fn pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn comm(pid: u32) -> String {
    read(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A host process: in our PID namespace (the agent runs with hostPID), not in a pod's
/// cgroup, and no container shim (or CRI-O's conmon) among its ancestors.
pub fn is_host_process(pid: u32) -> bool {
    let Some(mine) = ns("self", "pid") else {
        return false;
    };
    if ns(&pid.to_string(), "pid").as_ref() != Some(&mine) {
        return false;
    }
    if read(format!("/proc/{pid}/cgroup")).is_none_or(|c| in_pod_cgroup(&c)) {
        return false;
    }
    let mut p = pid;
    for _ in 0..64 {
        let Some(parent) = read(format!("/proc/{p}/status")).and_then(|s| ppid(&s)) else {
            return false;
        };
        if parent <= 1 {
            return true;
        }
        let c = comm(parent);
        if c.starts_with("containerd-shim") || c == "conmon" {
            return false;
        }
        p = parent;
    }
    false
}

/// Processes holding socket `inode` open.
fn holders(inode: u64) -> Vec<u32> {
    let want = format!("socket:[{inode}]");
    let mut out = vec![];
    for pid in pids() {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        if fds
            .filter_map(|e| e.ok())
            .any(|e| fs::read_link(e.path()).is_ok_and(|l| l.as_os_str() == want.as_str()))
        {
            out.push(pid);
        }
    }
    out
}

/// The kubelet: a host process named `kubelet`, or k3s/rke2's supervisor that embeds it.
/// Returns its pid and the CRI endpoint it uses.
fn kubelet() -> Option<(u32, String)> {
    for pid in pids() {
        let c = comm(pid);
        let embedded = match c.as_str() {
            "kubelet" => None,
            "k3s-server" | "k3s-agent" | "k3s" => Some("/run/k3s/containerd/containerd.sock"),
            _ => continue,
        };
        if !is_host_process(pid) {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let endpoint = flag_value(&cmdline, "--container-runtime-endpoint")
            .or_else(|| {
                flag_value(&cmdline, "--config")
                    .and_then(|f| read(format!("/proc/{pid}/root{f}")))
                    .and_then(|y| kubelet_config_endpoint(&y))
            })
            .or(embedded.map(str::to_string))
            .unwrap_or_else(|| "unix:///run/containerd/containerd.sock".into());
        return Some((pid, endpoint));
    }
    None
}

/// Finds and verifies the runtime. `endpoint` overrides what the kubelet says (for nodes
/// without a kubelet process, such as the runtime-tier sandbox); the socket must still be
/// held by a host process.
pub fn find_runtime(endpoint: Option<&str>) -> Result<Runtime> {
    let (netns_pid, endpoints, found_by) = match (endpoint, kubelet()) {
        (Some(e), _) => (
            "self".to_string(),
            vec![e.to_string()],
            format!("endpoint {e}"),
        ),
        (None, Some((pid, e))) => (
            pid.to_string(),
            vec![e.clone()],
            format!("kubelet (pid {pid}) uses {e}"),
        ),
        (None, None) => (
            "self".to_string(),
            [
                "/run/containerd/containerd.sock",
                "/run/k3s/containerd/containerd.sock",
                "/run/crio/crio.sock",
                "/run/cri-dockerd.sock",
            ]
            .map(String::from)
            .to_vec(),
            "no kubelet process found; looked at the usual sockets".to_string(),
        ),
    };
    let net_unix = read(format!("/proc/{netns_pid}/net/unix"))
        .ok_or_else(|| anyhow!("cannot read /proc/{netns_pid}/net/unix"))?;
    for e in &endpoints {
        let Some(path) = endpoint_path(e) else {
            continue;
        };
        for inode in listening_inodes(&net_unix, &aliases(&path)) {
            let owner = holders(inode).into_iter().find(|p| is_host_process(*p));
            let Some(pid) = owner else { continue };
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let config_file = flag_value(&cmdline, "--config")
                .or_else(|| flag_value(&cmdline, "-c"))
                .unwrap_or_else(|| "/etc/containerd/config.toml".into());
            let root = fs::File::open(format!("/proc/{pid}/root"))
                .with_context(|| format!("cannot open the root of pid {pid}"))?;
            return Ok(Runtime {
                pid,
                root: std::sync::Arc::new(root),
                socket: path,
                config_file,
                found_by: found_by.clone(),
            });
        }
    }
    bail!(
        "no host process listens on {} ({found_by})",
        endpoints.join(", ")
    )
}

/// Runs a binary opened through `exe` (an fd on a verified file) inside the mount namespace of
/// `ns_pid`, with an empty environment; returns stdout, or the error with stderr.
fn run_in_mount_ns(exe: &Path, ns_pid: u32, args: &[&str]) -> Result<String> {
    let bin = fs::File::open(exe).with_context(|| format!("cannot open {}", exe.display()))?;
    let mnt = fs::File::open(format!("/proc/{ns_pid}/ns/mnt"))
        .with_context(|| format!("cannot open the mount namespace of pid {ns_pid}"))?;
    let (bin_fd, mnt_fd) = (bin.as_raw_fd(), mnt.as_raw_fd());
    let mut cmd = Command::new(format!("/proc/self/fd/{bin_fd}"));
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (setns, fcntl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(mnt_fd, libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The binary's fd must survive exec (it is the program being executed).
            let flags = libc::fcntl(bin_fd, libc::F_GETFD);
            libc::fcntl(bin_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            Ok(())
        });
    }
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    drop((bin, mnt));
    if !out.status.success() {
        bail!(
            "{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("failed")
                .trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `containerd --config FILE config dump`, by the verified runtime's own binary in its own
/// mount namespace: the merged configuration, or the parser's error for a bad file.
pub fn containerd_dump(rt: &Runtime, config_file: &str) -> Result<String> {
    run_in_mount_ns(
        &PathBuf::from(format!("/proc/{}/exe", rt.pid)),
        rt.pid,
        &["--config", config_file, "config", "dump"],
    )
}

/// Restarts the runtime: through systemd when PID 1 is systemd and the runtime runs in a
/// unit, else by SIGTERM to a runtime whose supervisor starts it again.
pub fn restart(rt: &Runtime) -> Result<String> {
    let cgroup = read(format!("/proc/{}/cgroup", rt.pid)).unwrap_or_default();
    if comm(1) == "systemd" {
        if let Some(unit) = systemd_unit(&cgroup) {
            let ctl = ["/usr/bin/systemctl", "/bin/systemctl"]
                .iter()
                .map(|p| PathBuf::from(format!("/proc/1/root{p}")))
                .find(|p| p.exists())
                .ok_or_else(|| anyhow!("PID 1 is systemd but systemctl was not found"))?;
            run_in_mount_ns(&ctl, 1, &["restart", &unit])?;
            return Ok(format!("systemctl restart {unit}"));
        }
    }
    // SAFETY: plain kill(2) on a pid we verified a moment ago.
    if unsafe { libc::kill(rt.pid as i32, libc::SIGTERM) } != 0 {
        bail!(
            "cannot signal pid {}: {}",
            rt.pid,
            std::io::Error::last_os_error()
        );
    }
    Ok(format!(
        "SIGTERM to pid {} (its supervisor starts it again)",
        rt.pid
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_both_spellings() {
        let c = b"/usr/bin/kubelet\0--container-runtime-endpoint=unix:///run/x.sock\0--config\0/var/lib/kubelet/config.yaml\0";
        assert_eq!(
            flag_value(c, "--container-runtime-endpoint").as_deref(),
            Some("unix:///run/x.sock")
        );
        assert_eq!(
            flag_value(c, "--config").as_deref(),
            Some("/var/lib/kubelet/config.yaml")
        );
        assert_eq!(flag_value(c, "-c"), None);
    }

    #[test]
    fn endpoints_become_paths() {
        assert_eq!(
            endpoint_path("unix:///run/containerd/containerd.sock").as_deref(),
            Some("/run/containerd/containerd.sock")
        );
        assert_eq!(endpoint_path("npipe://./pipe/x"), None);
        assert_eq!(
            aliases("/var/run/crio/crio.sock"),
            ["/var/run/crio/crio.sock", "/run/crio/crio.sock"]
        );
    }

    #[test]
    fn only_listening_sockets_at_the_path_count() {
        let t = "Num       RefCount Protocol Flags    Type St Inode Path\n\
                 0000: 00000002 00000000 00010000 0001 01 4242 /run/containerd/containerd.sock\n\
                 0000: 00000003 00000000 00000000 0001 03 4343 /run/containerd/containerd.sock\n\
                 0000: 00000002 00000000 00010000 0001 01 4444 /tmp/decoy.sock\n";
        assert_eq!(
            listening_inodes(t, &["/run/containerd/containerd.sock".into()]),
            [4242]
        );
    }

    #[test]
    fn pod_cgroups_units_and_parents() {
        assert!(in_pod_cgroup(
            "0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-1.scope\n"
        ));
        assert!(in_pod_cgroup("4:cpu:/kubepods/besteffort/pod1/abc\n"));
        assert!(!in_pod_cgroup("0::/system.slice/containerd.service\n"));
        assert_eq!(
            systemd_unit("0::/system.slice/containerd.service\n").as_deref(),
            Some("containerd.service")
        );
        assert_eq!(ppid("Name:\tx\nPPid:\t17\n"), Some(17));
        assert_eq!(
            kubelet_config_endpoint(
                "kind: KubeletConfiguration\ncontainerRuntimeEndpoint: unix:///run/k.sock\n"
            )
            .as_deref(),
            Some("unix:///run/k.sock")
        );
    }
}

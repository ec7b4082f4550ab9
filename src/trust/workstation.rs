//! What trusting the registry means on a workstation, as data: where docker,
//! podman/skopeo/buildah and the operating system's trust store look for a CA file, and the
//! command that refreshes the store. `kreg trust-local` writes them.
//!
//! No I/O: the caller detects the OS and distribution and writes the files.

use std::path::{Path, PathBuf};

// docker's and podman's `certs.d` directories are named like containerd's hosts directories.
use super::node::hosts_dir_name;

/// The workstation's operating system, for `kreg trust-local`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Os {
    Linux,
    MacOs,
}

/// The Linux family, which decides where the system trust store takes extra CAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distro {
    /// Debian, Ubuntu and derivatives: `update-ca-certificates`.
    Debian,
    /// Fedora, RHEL, CentOS, Rocky, Alma, Amazon Linux: `update-ca-trust`.
    Fedora,
    /// Anything else (or unknown): kreg does not touch the system store.
    Other,
}

/// A client whose trust kreg configures on the workstation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// Docker Engine on Linux (`/etc/docker/certs.d`).
    Docker,
    /// Docker Desktop on macOS (`~/.docker/certs.d`).
    DockerDesktop,
    /// podman, skopeo and buildah, system-wide (`/etc/containers/certs.d`).
    Containers,
    /// podman, skopeo and buildah for the current user (`~/.config/containers/certs.d`).
    ContainersUser,
    /// The operating system's trust store (curl, browsers, Go programs...).
    SystemStore,
}

/// One file `kreg trust-local` writes: the CA, at `path`, for `tool`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalTarget {
    pub tool: Tool,
    pub path: PathBuf,
    pub needs_root: bool,
}

/// Where the CA file goes for each tool on this workstation.
///
/// Linux: Docker `/etc/docker/certs.d/<hp>/ca.crt` and podman/skopeo/buildah
/// `/etc/containers/certs.d/<hp>/ca.crt` (both root), plus, when not root,
/// `~/.config/containers/certs.d/<hp>/ca.crt` (rootless podman reads it first).
/// macOS: Docker Desktop `~/.docker/certs.d/<hp>/ca.crt` and the per-user containers
/// directory, neither needing root.
/// With `system`, the OS store too: Debian `/usr/local/share/ca-certificates/kreg-<hp>.crt`,
/// Fedora `/etc/pki/ca-trust/source/anchors/kreg-<hp>.crt`; nothing for other distros or macOS
/// (the keychain is changed by a command, see [`system_store_refresh`]).
pub fn local_targets(
    os: Os,
    distro: Distro,
    is_root: bool,
    home: &Path,
    host_port: &str,
    system: bool,
) -> Vec<LocalTarget> {
    let dir = hosts_dir_name(host_port);
    let mut out = Vec::new();
    let user_containers = LocalTarget {
        tool: Tool::ContainersUser,
        path: home
            .join(".config/containers/certs.d")
            .join(&dir)
            .join("ca.crt"),
        needs_root: false,
    };
    match os {
        Os::Linux => {
            out.push(LocalTarget {
                tool: Tool::Docker,
                path: Path::new("/etc/docker/certs.d").join(&dir).join("ca.crt"),
                needs_root: true,
            });
            out.push(LocalTarget {
                tool: Tool::Containers,
                path: Path::new("/etc/containers/certs.d")
                    .join(&dir)
                    .join("ca.crt"),
                needs_root: true,
            });
            // Root's podman already reads /etc/containers; a copy in /root would be clutter.
            if !is_root {
                out.push(user_containers);
            }
            if system {
                let file = format!("kreg-{}.crt", sanitize_file_stem(&dir));
                let store = match distro {
                    Distro::Debian => Some("/usr/local/share/ca-certificates"),
                    Distro::Fedora => Some("/etc/pki/ca-trust/source/anchors"),
                    Distro::Other => None,
                };
                if let Some(store) = store {
                    out.push(LocalTarget {
                        tool: Tool::SystemStore,
                        path: Path::new(store).join(file),
                        needs_root: true,
                    });
                }
            }
        }
        Os::MacOs => {
            out.push(LocalTarget {
                tool: Tool::DockerDesktop,
                path: home.join(".docker/certs.d").join(&dir).join("ca.crt"),
                needs_root: false,
            });
            out.push(user_containers);
        }
    }
    out
}

/// `host:port` as a file-name stem for the OS stores: only `[a-z0-9.-]` survive, the rest
/// (':' and IPv6 brackets) become '_', because some store tools split names on ':'.
fn sanitize_file_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The command that makes the OS store pick up (or, on macOS, add) the CA at `ca_file`, as
/// argv. `None` when this OS/distro has no store kreg manages.
pub fn system_store_refresh(os: Os, distro: Distro, ca_file: &Path) -> Option<Vec<String>> {
    match (os, distro) {
        (Os::Linux, Distro::Debian) => Some(vec!["update-ca-certificates".into()]),
        (Os::Linux, Distro::Fedora) => Some(vec!["update-ca-trust".into(), "extract".into()]),
        (Os::Linux, Distro::Other) => None,
        (Os::MacOs, _) => Some(
            [
                "sudo",
                "security",
                "add-trusted-cert",
                "-d",
                "-r",
                "trustRoot",
                "-k",
                "/Library/Keychains/System.keychain",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain(std::iter::once(ca_file.display().to_string()))
            .collect(),
        ),
    }
}

/// The distro family from the text of `/etc/os-release`, using `ID` and then `ID_LIKE`.
pub fn distro_from_os_release(text: &str) -> Distro {
    let mut ids: Vec<String> = Vec::new();
    let mut likes: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        let words = value.split_whitespace().map(str::to_ascii_lowercase);
        match key.trim() {
            "ID" => ids.extend(words),
            "ID_LIKE" => likes.extend(words),
            _ => {}
        }
    }
    const DEBIAN: [&str; 6] = ["debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali"];
    const FEDORA: [&str; 7] = [
        "fedora",
        "rhel",
        "centos",
        "rocky",
        "almalinux",
        "amzn",
        "ol",
    ];
    // ID decides before ID_LIKE: a distro's own name is more specific than its ancestry.
    for set in [&ids, &likes] {
        if set.iter().any(|w| DEBIAN.contains(&w.as_str())) {
            return Distro::Debian;
        }
        if set.iter().any(|w| FEDORA.contains(&w.as_str())) {
            return Distro::Fedora;
        }
    }
    Distro::Other
}

/// The marker ending each hosts-file line kreg writes, naming the registry host it maps.
fn hosts_marker(host: &str) -> String {
    format!("# kreg: {host}")
}

/// `text` (a hosts file) with `ip host` mapped by kreg: an earlier line of kreg's for `host` is
/// replaced, everything else kept as it is. `None` when it already says exactly that.
pub fn hosts_with(text: &str, ip: &str, host: &str) -> Option<String> {
    let line = format!("{ip} {host} {}", hosts_marker(host));
    if text.lines().any(|l| l == line) {
        return None;
    }
    let mut out = hosts_without(text, host).unwrap_or_else(|| text.to_string());
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&line);
    out.push('\n');
    Some(out)
}

/// `text` without kreg's line for `host`; `None` when there is none. Lines kreg did not write
/// (no marker, or another host's) are never touched.
pub fn hosts_without(text: &str, host: &str) -> Option<String> {
    let marker = hosts_marker(host);
    let ours = |l: &str| l.trim_end().ends_with(&marker);
    if !text.lines().any(ours) {
        return None;
    }
    let mut out: String = text
        .lines()
        .filter(|l| !ours(l))
        .map(|l| format!("{l}\n"))
        .collect();
    if !text.ends_with('\n') && out.ends_with('\n') && !text.is_empty() {
        out.pop();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn paths(t: &[LocalTarget]) -> Vec<(Tool, String, bool)> {
        t.iter()
            .map(|t| (t.tool, t.path.display().to_string(), t.needs_root))
            .collect()
    }

    #[test]
    fn linux_user_targets() {
        let t = local_targets(
            Os::Linux,
            Distro::Debian,
            false,
            Path::new("/home/ann"),
            "reg.io:5000",
            false,
        );
        assert_eq!(
            paths(&t),
            [
                (
                    Tool::Docker,
                    "/etc/docker/certs.d/reg.io:5000/ca.crt".into(),
                    true
                ),
                (
                    Tool::Containers,
                    "/etc/containers/certs.d/reg.io:5000/ca.crt".into(),
                    true
                ),
                (
                    Tool::ContainersUser,
                    "/home/ann/.config/containers/certs.d/reg.io:5000/ca.crt".into(),
                    false
                ),
            ]
        );
    }

    #[test]
    fn linux_root_targets_with_system_store() {
        let t = local_targets(
            Os::Linux,
            Distro::Debian,
            true,
            Path::new("/root"),
            "reg.io:5000",
            true,
        );
        assert_eq!(
            paths(&t),
            [
                (
                    Tool::Docker,
                    "/etc/docker/certs.d/reg.io:5000/ca.crt".into(),
                    true
                ),
                (
                    Tool::Containers,
                    "/etc/containers/certs.d/reg.io:5000/ca.crt".into(),
                    true
                ),
                (
                    Tool::SystemStore,
                    "/usr/local/share/ca-certificates/kreg-reg.io_5000.crt".into(),
                    true
                ),
            ]
        );
        let t = local_targets(
            Os::Linux,
            Distro::Fedora,
            true,
            Path::new("/root"),
            "[fd00::1]:5000",
            true,
        );
        assert_eq!(
            t.last().unwrap().path,
            Path::new("/etc/pki/ca-trust/source/anchors/kreg-_fd00__1__5000.crt")
        );
        let t = local_targets(
            Os::Linux,
            Distro::Other,
            true,
            Path::new("/root"),
            "reg.io",
            true,
        );
        assert!(t.iter().all(|t| t.tool != Tool::SystemStore));
    }

    #[test]
    fn macos_targets() {
        for system in [false, true] {
            let t = local_targets(
                Os::MacOs,
                Distro::Other,
                false,
                Path::new("/Users/ann"),
                "reg.io:443",
                system,
            );
            assert_eq!(
                paths(&t),
                [
                    (
                        Tool::DockerDesktop,
                        "/Users/ann/.docker/certs.d/reg.io:443/ca.crt".into(),
                        false
                    ),
                    (
                        Tool::ContainersUser,
                        "/Users/ann/.config/containers/certs.d/reg.io:443/ca.crt".into(),
                        false
                    ),
                ]
            );
        }
    }

    #[test]
    fn system_refresh_commands() {
        let f = Path::new("/Users/ann/.docker/certs.d/reg.io/ca.crt");
        assert_eq!(
            system_store_refresh(Os::Linux, Distro::Debian, f).unwrap(),
            ["update-ca-certificates"]
        );
        assert_eq!(
            system_store_refresh(Os::Linux, Distro::Fedora, f).unwrap(),
            ["update-ca-trust", "extract"]
        );
        assert_eq!(system_store_refresh(Os::Linux, Distro::Other, f), None);
        let mac = system_store_refresh(Os::MacOs, Distro::Other, f).unwrap();
        assert_eq!(mac[..3], ["sudo", "security", "add-trusted-cert"]);
        assert_eq!(
            mac.last().unwrap(),
            "/Users/ann/.docker/certs.d/reg.io/ca.crt"
        );
        assert!(mac
            .windows(2)
            .any(|w| w == ["-k", "/Library/Keychains/System.keychain"]));
    }

    #[test]
    fn distros() {
        let cases = [
            ("ID=ubuntu\nID_LIKE=debian\n", Distro::Debian),
            ("ID=debian\n", Distro::Debian),
            ("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", Distro::Debian),
            ("ID=\"pop\"\n", Distro::Debian),
            ("ID=fedora\n", Distro::Fedora),
            ("ID=\"rhel\"\nID_LIKE=\"fedora\"\n", Distro::Fedora),
            (
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
                Distro::Fedora,
            ),
            (
                "ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\n",
                Distro::Fedora,
            ),
            ("ID=somederivative\nID_LIKE=debian\n", Distro::Debian),
            ("ID=arch\n", Distro::Other),
            (
                "ID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n",
                Distro::Other,
            ),
            ("ID=alpine\n", Distro::Other),
            ("", Distro::Other),
            ("garbage without equals\n", Distro::Other),
            // VERSION_ID mentioning a distro must not count.
            ("ID=arch\nNAME=\"not debian\"\n", Distro::Other),
        ];
        for (text, want) in cases {
            assert_eq!(distro_from_os_release(text), want, "{text:?}");
        }
    }

    #[test]
    fn enums_serialize_kebab_case() {
        assert_eq!(serde_json::to_string(&Os::MacOs).unwrap(), "\"mac-os\"");
        assert_eq!(
            serde_json::to_string(&Tool::ContainersUser).unwrap(),
            "\"containers-user\""
        );
        assert_eq!(
            serde_json::to_string(&Distro::Fedora).unwrap(),
            "\"fedora\""
        );
    }

    #[test]
    fn hosts_lines_are_kreg_s_own_and_nothing_else_moves() {
        let base = "127.0.0.1 localhost\n10.0.0.9 registry.10.0.0.9.nip.io\n";
        let added = hosts_with(base, "10.0.0.2", "registry.10.0.0.2.nip.io").unwrap();
        assert_eq!(
            added,
            format!("{base}10.0.0.2 registry.10.0.0.2.nip.io # kreg: registry.10.0.0.2.nip.io\n")
        );
        assert_eq!(
            hosts_with(&added, "10.0.0.2", "registry.10.0.0.2.nip.io"),
            None,
            "idempotent"
        );
        // A new address replaces kreg's line, not the user's line for another name.
        let moved = hosts_with(&added, "10.0.0.3", "registry.10.0.0.2.nip.io").unwrap();
        assert!(moved.starts_with(base), "{moved}");
        assert_eq!(moved.matches("# kreg:").count(), 1, "{moved}");
        assert!(moved.contains("10.0.0.3 registry.10.0.0.2.nip.io"));
        assert_eq!(
            hosts_without(&moved, "registry.10.0.0.2.nip.io").unwrap(),
            base
        );
        assert_eq!(
            hosts_without(base, "registry.10.0.0.9.nip.io"),
            None,
            "not kreg's line"
        );
        // No trailing newline in the file: one is added before kreg's line.
        let bare = hosts_with("127.0.0.1 localhost", "10.0.0.2", "r.example").unwrap();
        assert!(
            bare.starts_with("127.0.0.1 localhost\n10.0.0.2 r.example"),
            "{bare}"
        );
    }
}

//! The runtime tier: a real containerd of a given release on a sandboxed node root
//! (`tests/cluster/rtbox`), a real registry (Debian's docker-registry, CNCF Distribution)
//! serving TLS on loopback with a CA made by kreg's own PKI, and a CRI client.
//! No Kubernetes: the node agent runs inside the sandbox as it runs on a node.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kreg::image::Manifest;
use kreg::registry::{Registry, Target};

use super::text;

/// The registry's name in image references; the sandbox's /etc/hosts maps it to 127.0.0.1.
pub const REGISTRY_NAME: &str = "registry.kreg.test";

fn rtbox() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/rtbox")
}

/// Root is needed for namespaces and mounts: without it the tier fails (never skips).
pub fn require_root() {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    assert_eq!(
        uid, 0,
        "the runtime tier needs root (namespaces, mounts): run ./tests/run.sh"
    );
}

/// The directory holding `bin/containerd` of a release: `KREG_TEST_RUNTIME_DIR_<1_7>` if set,
/// else what `kcluster runtime-dir VERSION` prints (it fetches and caches the release).
pub fn runtime_bin(version: &str) -> PathBuf {
    let var = format!("KREG_TEST_RUNTIME_DIR_{}", version.replace('.', "_"));
    let dir = match std::env::var(&var) {
        Ok(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let kc = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/kcluster");
            let out = Command::new(kc)
                .args(["runtime-dir", version])
                .output()
                .expect("kcluster runs");
            assert!(
                out.status.success(),
                "kcluster runtime-dir {version}: {}",
                text(&out.stderr)
            );
            PathBuf::from(text(&out.stdout).trim())
        }
    };
    let bin = dir.join("bin");
    assert!(
        bin.join("containerd").is_file(),
        "{}/containerd is missing",
        bin.display()
    );
    bin
}

/// A free port on loopback (bound and released; good enough for one test process).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Distribution registry serving TLS on 127.0.0.1 with a certificate from a fresh kreg CA;
/// or, [`TestRegistry::start_gated`], serving plain HTTP on loopback behind kreg's registry
/// gate, which then holds the port, the certificate and the users, as in an `--auth` pod.
pub struct TestRegistry {
    child: Child,
    gate: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
    pub ca_pem: String,
    /// With the gate: the push user (kreg's own client uses it).
    pub push: Option<kreg::auth::Credentials>,
    /// With the gate: the pull-only user.
    pub pull: Option<kreg::auth::Credentials>,
}

impl TestRegistry {
    pub fn start() -> TestRegistry {
        TestRegistry::launch(false, &[])
    }

    /// The registry behind `kreg registry-gate` (the binary under test), with a push and a
    /// pull user.
    pub fn start_gated() -> TestRegistry {
        TestRegistry::launch(true, &[])
    }

    /// [`TestRegistry::start_gated`] with more of the gate's environment (its limits).
    pub fn start_gated_with(env: &[(&str, &str)]) -> TestRegistry {
        TestRegistry::launch(true, env)
    }

    /// The gate's process, to signal it and wait for it.
    pub fn gate(&mut self) -> &mut Child {
        self.gate.as_mut().expect("a gated registry")
    }

    fn launch(gated: bool, gate_env: &[(&str, &str)]) -> TestRegistry {
        let now = time::OffsetDateTime::now_utc();
        let ca = kreg::pki::generate_ca(
            now,
            &kreg::pki::ca_scope(Some("kreg.test"), Some(REGISTRY_NAME), "kreg-test", &[]),
        )
        .unwrap();
        let leaf = kreg::pki::issue_leaf(&ca, REGISTRY_NAME, &["127.0.0.1".parse().unwrap()], now)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tls.crt"), &leaf.cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), &leaf.key_pem).unwrap();
        let port = free_port();
        // Gated: the registry on another loopback port without TLS, the gate on `port`.
        let registry_port = if gated { free_port() } else { port };
        let tls = if gated {
            String::new()
        } else {
            format!(
                "  tls:\n    certificate: {d}/tls.crt\n    key: {d}/tls.key\n",
                d = dir.path().display()
            )
        };
        let config = format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{registry_port}\n  relativeurls: true\n{tls}",
            d = dir.path().display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .expect("docker-registry (Debian's CNCF Distribution) is installed by kcluster build");
        let (mut gate, mut push, mut pull) = (None, None, None);
        if gated {
            let (push_user, pull_user) = (
                kreg::auth::Credentials::generate("kreg"),
                kreg::auth::Credentials::generate("kreg-pull"),
            );
            let d = dir.path();
            std::fs::write(d.join("htpasswd"), push_user.htpasswd_line().unwrap()).unwrap();
            std::fs::write(d.join("pull-htpasswd"), pull_user.htpasswd_line().unwrap()).unwrap();
            let file = |f: &str| d.join(f).display().to_string();
            gate = Some(
                Command::new(env!("CARGO_BIN_EXE_kreg"))
                    .arg("registry-gate")
                    .env("KREG_GATE_LISTEN", format!("127.0.0.1:{port}"))
                    .env("KREG_GATE_UPSTREAM", format!("127.0.0.1:{registry_port}"))
                    .env("KREG_GATE_CERT", file("tls.crt"))
                    .env("KREG_GATE_KEY", file("tls.key"))
                    .env("KREG_GATE_PUSH_USERS", file("htpasswd"))
                    .env("KREG_GATE_PULL_USERS", file("pull-htpasswd"))
                    .envs(gate_env.iter().copied())
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(d.join("gate.log")).unwrap())
                    .spawn()
                    .expect("kreg registry-gate starts"),
            );
            (push, pull) = (Some(push_user), Some(pull_user));
        }
        let reg = TestRegistry {
            child,
            gate,
            dir,
            port,
            ca_pem: ca.cert_pem,
            push,
            pull,
        };
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", registry_port)).is_err()
        {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
    }

    /// `registry.kreg.test:PORT`
    pub fn host(&self) -> String {
        format!("{REGISTRY_NAME}:{}", self.port)
    }

    fn client(&self) -> Registry {
        Registry::new(
            &Target {
                host: REGISTRY_NAME.to_string(),
                port: self.port,
                plain_http: false,
                connect: Some(([127, 0, 0, 1], self.port).into()),
            },
            &self.ca_pem,
            self.push.clone(),
        )
        .unwrap()
    }

    /// Pushes blobs and manifests (children first; the last gets `tag`).
    pub fn push(&self, repo: &str, tag: &str, blobs: &[(String, Vec<u8>)], manifests: &[Manifest]) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let c = self.client();
        rt.block_on(async {
            for (d, b) in blobs {
                c.upload_bytes(repo, d, b).await.unwrap();
            }
            for (i, m) in manifests.iter().enumerate() {
                let r = if i + 1 == manifests.len() {
                    tag
                } else {
                    &m.digest
                };
                c.put_manifest(repo, r, m).await.unwrap();
            }
        });
    }

    /// Pushes the probe image kreg up pushes; returns its reference.
    pub fn push_probe(&self) -> String {
        let p = kreg::node::probe::build();
        self.push(
            kreg::node::probe::REPO,
            kreg::node::probe::TAG,
            &p.blobs,
            &p.manifests,
        );
        p.reference(&self.host())
    }

    pub fn log(&self) -> String {
        let read = |f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!("{}{}", read("registry.log"), read("gate.log"))
    }

    /// Where the CA is, as a directory of `*.crt` (skopeo's `--cert-dir`).
    pub fn cert_dir(&self) -> PathBuf {
        let d = self.dir.path().join("certs");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("ca.crt"), &self.ca_pem).unwrap();
        d
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        if let Some(g) = self.gate.as_mut() {
            let _ = g.kill();
            let _ = g.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A containerd in its sandbox.
pub struct Sandbox {
    pub name: String,
    pub pid: u32,
}

impl Sandbox {
    pub fn start(name: &str, bin: &Path, layout: &str) -> Sandbox {
        Sandbox::start_with_delay(name, bin, layout, "0.3")
    }

    /// A sandbox whose supervisor waits `delay` seconds before starting containerd again.
    pub fn start_with_delay(name: &str, bin: &Path, layout: &str, delay: &str) -> Sandbox {
        let out = Command::new(rtbox())
            .args(["start", name])
            .arg(bin)
            .arg(layout)
            .arg(format!("127.0.0.1 {REGISTRY_NAME}"))
            .arg(delay)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rtbox start {name} {layout}: {}",
            text(&out.stderr)
        );
        Sandbox {
            name: name.into(),
            pid: text(&out.stdout).trim().parse().unwrap(),
        }
    }

    /// Runs `cmd` inside with `env`.
    pub fn exec(&self, env: &[(&str, String)], cmd: &[&str]) -> Output {
        let mut c = Command::new(rtbox());
        c.args([
            "exec",
            &self.name,
            "env",
            "-i",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        ]);
        for (k, v) in env {
            c.arg(format!("{k}={v}"));
        }
        c.args(cmd).output().unwrap()
    }

    /// A path inside, from this process.
    pub fn path(&self, p: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{p}", self.pid))
    }

    pub fn read(&self, p: &str) -> Option<String> {
        std::fs::read_to_string(self.path(p)).ok()
    }

    /// The CRI socket, reachable from this process.
    pub fn socket(&self) -> PathBuf {
        let s = std::fs::read_to_string(format!("/tmp/kreg-rt/{}/socket", self.name)).unwrap();
        self.path(s.trim())
    }

    /// Every regular file under `dir` (inside), for "nothing of kreg's is left" checks.
    pub fn files_under(&self, dir: &str) -> Vec<String> {
        let mut out = vec![];
        let mut stack = vec![self.path(dir)];
        let prefix = self.path("");
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(
                        p.to_string_lossy()
                            .replacen(&*prefix.to_string_lossy(), "", 1),
                    );
                }
            }
        }
        out.sort();
        out
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new(rtbox()).args(["stop", &self.name]).output();
    }
}

//! Running the kreg binary under test against the test cluster, and a "workstation": this
//! machine in a private mount namespace whose /etc is a copy, so trust-local and skopeo meet
//! real /etc paths without touching the machine's own /etc.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::{text, TestCluster};

pub const KREG: &str = env!("CARGO_BIN_EXE_kreg");

/// The arguments of a `kreg up` on the API tier: a LoadBalancer (the harness's controller
/// gives the address) and `--no-wait` (no node can run the registry there); JSON on stdout.
pub fn api_tier_up<'a>(ns: &'a str, timeout: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "up",
        "-n",
        ns,
        "--expose",
        "loadbalancer",
        "--no-wait",
        "--yes",
        "-o",
        "json",
        "--timeout",
        timeout,
    ];
    args.extend_from_slice(extra);
    args
}

/// Removes an installation in `ns` with everything it stored, then the namespace itself
/// (whether kreg created it or not): a clean slate before and after a test.
pub fn purge(tc: &TestCluster, ns: &str) {
    let _ = kreg(
        tc,
        &["down", "-n", ns, "--purge", "--yes", "--timeout", "30s"],
    );
    let _ = tc.kubectl(&[
        "delete",
        "namespace",
        ns,
        "--ignore-not-found",
        "--timeout=90s",
    ]);
}

/// Runs kreg with the cluster's kubeconfig.
pub fn kreg(tc: &TestCluster, args: &[&str]) -> Output {
    Command::new(KREG)
        .args(args)
        .arg("--kubeconfig")
        .arg(&tc.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("kreg runs")
}

/// Runs kreg, asserts exit 0, returns stdout parsed as JSON.
pub fn kreg_json(tc: &TestCluster, args: &[&str]) -> Value {
    let out = kreg(tc, args);
    assert!(
        out.status.success(),
        "kreg {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        text(&out.stderr),
        text(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "kreg {args:?}: stdout is not JSON ({e}): {}",
            text(&out.stdout)
        )
    })
}

/// A workstation: this machine's network, a private copy of /etc.
pub struct Workstation {
    dir: tempfile::TempDir,
}

impl Workstation {
    pub fn new() -> Workstation {
        let dir = tempfile::tempdir().unwrap();
        let st = Command::new("cp")
            .args(["-a", "/etc"])
            .arg(dir.path().join("etc"))
            .status()
            .unwrap();
        assert!(st.success());
        Workstation { dir }
    }

    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    pub fn add_host(&self, ip: &str, name: &str) {
        append_line(&self.etc().join("hosts"), &format!("{ip} {name}"));
    }

    /// Runs a shell script with /etc replaced by the copy.
    pub fn sh(&self, script: &str) -> Output {
        let wrapped = format!("mount --bind {} /etc && {script}", self.etc().display());
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &wrapped])
            .output()
            .unwrap()
    }

    /// `kreg trust-local` then `skopeo copy` of the hello image to `registry`, no TLS flags.
    pub fn trust_and_push(&self, tc: &TestCluster, registry: &str) -> Output {
        let hello = tc
            .hello_image
            .clone()
            .expect("the harness builds the hello image");
        self.sh(&format!(
            "{KREG} trust-local --yes --kubeconfig {} && skopeo copy --quiet oci-archive:{} docker://{registry}/hello:1",
            tc.kubeconfig.display(),
            hello.display()
        ))
    }
}

pub fn append_line(path: &Path, line: &str) {
    let mut s = std::fs::read_to_string(path).unwrap_or_default();
    if !s.ends_with('\n') && !s.is_empty() {
        s.push('\n');
    }
    s.push_str(line);
    s.push('\n');
    std::fs::write(path, s).unwrap();
}

/// `registry.1.2.3.4.nip.io:31000` -> `registry.1.2.3.4.nip.io`
pub fn host_of(registry: &str) -> &str {
    registry
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(registry)
}

/// There is no DNS here: the nip.io name goes into every node's hosts file (a Pod may land on
/// any node; the workstation's is separate), as real DNS would answer.
pub fn resolve_on_node(tc: &TestCluster, ip: &str, registry: &str) {
    assert!(!tc.nodes.is_empty(), "node tier");
    for node in &tc.nodes {
        append_line(
            &node.etc().join("hosts"),
            &format!("{ip} {}", host_of(registry)),
        );
    }
}

/// Waits for a pod to be Ready; on failure shows its description.
pub fn wait_ready(tc: &TestCluster, pod: &str) {
    let out = tc.kubectl(&[
        "wait",
        "--for=condition=Ready",
        &format!("pod/{pod}"),
        "--timeout=120s",
    ]);
    if !out.status.success() {
        let desc = text(&tc.kubectl(&["describe", "pod", pod]).stdout);
        panic!(
            "pod {pod} did not become ready: {}\n{desc}",
            text(&out.stderr)
        );
    }
}

/// Runs a Pod of `image` and checks the hello image's greeting in its log.
pub fn run_hello(tc: &TestCluster, pod: &str, image: &str) {
    run_hello_on(tc, pod, image, None);
}

/// [`run_hello`] on the node named (`spec.nodeName`: that node's containerd pulls), or where
/// the scheduler puts it.
pub fn run_hello_on(tc: &TestCluster, pod: &str, image: &str, node: Option<&str>) {
    let _ = tc.kubectl(&["delete", "pod", pod, "--ignore-not-found", "--wait"]);
    let overrides = node.map(|n| serde_json::json!({"spec": {"nodeName": n}}).to_string());
    let mut args = vec!["run", pod, "--image", image, "--restart=Never"];
    if let Some(o) = &overrides {
        args.extend(["--overrides", o.as_str()]);
    }
    tc.kubectl_ok(&args);
    wait_ready(tc, pod);
    let logs = tc.kubectl_ok(&["logs", pod]);
    assert!(logs.contains("hello from kreg"), "{logs}");
    tc.kubectl_ok(&["delete", "pod", pod, "--wait=false"]);
}

/// The waiting message of the pod's container once its pull failed.
pub fn pull_error(tc: &TestCluster, pod: &str) -> String {
    for _ in 0..90 {
        let msg = tc.kubectl_ok(&[
            "get",
            "pod",
            pod,
            "-o",
            "jsonpath={.status.containerStatuses[0].state.waiting.message}",
        ]);
        if !msg.trim().is_empty() {
            return msg;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    panic!(
        "pod {pod} never reported a pull error: {}",
        text(&tc.kubectl(&["describe", "pod", pod]).stdout)
    );
}

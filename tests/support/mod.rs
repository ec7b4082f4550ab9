//! Shared by the cluster tests (`mod support;` at the top of each tests/*.rs): finds the test
//! cluster that `tests/cluster/kcluster up api|node` started, from the variables that
//! `eval "$(tests/cluster/kcluster env)"` exports.
//!
//! Without a cluster a test is skipped with a visible `SKIPPED:` line on a workstation, and
//! fails when `CI` or `KREG_TEST_REQUIRE_CLUSTER` is set (tests/run.sh sets the latter): cluster
//! tests never skip silently there.
#![allow(dead_code)]

pub mod kreg;
pub mod oci;
pub mod pull;
pub mod rt;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How much cluster a test needs. `Node` includes everything `Api` has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// etcd + kube-apiserver + controller-manager + scheduler, the harness's load balancer and
    /// storage provisioner; no node can run a pod.
    Api,
    /// The API tier plus real nodes (containerd, kubelet, kube-proxy), each in its own network
    /// and PID namespace, on different containerd releases (see [`TestCluster::nodes`]).
    Node,
}

impl Tier {
    fn name(self) -> &'static str {
        match self {
            Tier::Api => "api",
            Tier::Node => "node",
        }
    }
}

/// The running test cluster.
pub struct TestCluster {
    /// Admin kubeconfig (system:masters).
    pub kubeconfig: PathBuf,
    /// The tier that is running (at least the one the test asked for).
    pub tier: Tier,
    /// Absolute path of `tests/cluster/kcluster`.
    pub kcluster: PathBuf,
    /// The node's network namespace (node tier): its /etc lives in /etc/netns/<netns>.
    pub netns: Option<String>,
    /// The node's InternalIP (node tier).
    pub node_ip: Option<String>,
    /// `kreg-test/hello:1` as an OCI archive, for `skopeo copy oci-archive:...`.
    pub hello_image: Option<PathBuf>,
    /// Every real node (node tier), in the harness's order; the first is the one `netns` and
    /// `node_ip` name. Empty on the API tier. A Pod may land on any of them.
    pub nodes: Vec<TestNode>,
}

/// One real node of the node tier (`KREG_TEST_NODES`, `KREG_TEST_NODE<i>_*` from `kcluster env`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestNode {
    /// The Node's name (also its hostname).
    pub name: String,
    /// Its network namespace: its /etc lives in /etc/netns/<netns>.
    pub netns: String,
    /// Its InternalIP.
    pub ip: String,
    /// Its containerd socket, as seen from this machine.
    pub containerd_sock: Option<PathBuf>,
    /// The containerd line it runs: "1.6", "1.7" or "2.1" (tests/cluster/README.md).
    pub runtime: Option<String>,
    /// kube-proxy's mode on it: "iptables" or "nftables".
    pub proxy_mode: Option<String>,
}

impl TestNode {
    /// The node's own /etc: `/etc/netns/<netns>` (edit files there in place).
    pub fn etc(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.netns)
    }
}

/// The nodes `kcluster env` announced; a cluster from before KREG_TEST_NODES has one node.
fn nodes_from_env() -> Vec<TestNode> {
    match var("KREG_TEST_NODES") {
        Some(names) => names
            .split_whitespace()
            .enumerate()
            .map(|(i, name)| {
                let v = |what: &str| var(&format!("KREG_TEST_NODE{}_{what}", i + 1));
                TestNode {
                    name: name.to_string(),
                    netns: v("NETNS").unwrap_or_else(|| name.to_string()),
                    ip: v("IP").unwrap_or_else(|| {
                        panic!(
                            "KREG_TEST_NODES names {name} but KREG_TEST_NODE{}_IP is not set",
                            i + 1
                        )
                    }),
                    containerd_sock: v("CONTAINERD_SOCK").map(PathBuf::from),
                    runtime: v("RUNTIME"),
                    proxy_mode: v("PROXY_MODE"),
                }
            })
            .collect(),
        None => match (var("KREG_TEST_NETNS"), var("KREG_TEST_NODE_IP")) {
            (Some(netns), Some(ip)) => vec![TestNode {
                name: netns.clone(),
                netns,
                ip,
                containerd_sock: var("KREG_TEST_CONTAINERD_SOCK").map(PathBuf::from),
                runtime: None,
                proxy_mode: None,
            }],
            _ => Vec::new(),
        },
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn set_and_true(name: &str) -> bool {
    var(name).is_some_and(|v| !matches!(v.trim(), "0" | "false" | "no"))
}

/// CI, or tests/run.sh (`KREG_TEST_REQUIRE_CLUSTER=1`): a missing cluster is a failure.
fn cluster_required() -> bool {
    set_and_true("CI") || set_and_true("KREG_TEST_REQUIRE_CLUSTER")
}

fn not_available(want: Tier, why: &str) -> Option<TestCluster> {
    let how = format!(
        "run ./tests/run.sh, or: sudo tests/cluster/kcluster up {} && eval \"$(tests/cluster/kcluster env)\"",
        want.name()
    );
    if cluster_required() {
        panic!("this test needs the {} tier of the test cluster: {why}. CI and tests/run.sh (KREG_TEST_REQUIRE_CLUSTER) never skip cluster tests; {how}", want.name());
    }
    eprintln!(
        "SKIPPED: needs the {} tier of the test cluster: {why}; {how}",
        want.name()
    );
    None
}

/// The running cluster if it offers at least `tier`; see the module docs for what happens if not.
pub fn require(tier: Tier) -> Option<TestCluster> {
    let Some(kubeconfig) = var("KREG_TEST_KUBECONFIG").map(PathBuf::from) else {
        return not_available(tier, "KREG_TEST_KUBECONFIG is not set");
    };
    let running = match var("KREG_TEST_TIER").as_deref().map(str::trim) {
        Some("api") => Tier::Api,
        Some("node") => Tier::Node,
        Some(other) => panic!("KREG_TEST_TIER={other:?}: expected api or node"),
        None => return not_available(tier, "KREG_TEST_TIER is not set"),
    };
    if running < tier {
        return not_available(tier, &format!("the {} tier is running", running.name()));
    }
    if !kubeconfig.is_file() {
        return not_available(
            tier,
            &format!(
                "{} does not exist (is the cluster down?)",
                kubeconfig.display()
            ),
        );
    }
    let kcluster = var("KREG_TEST_KCLUSTER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/kcluster"));
    Some(TestCluster {
        kubeconfig,
        tier: running,
        kcluster,
        netns: var("KREG_TEST_NETNS"),
        node_ip: var("KREG_TEST_NODE_IP"),
        hello_image: var("KREG_TEST_HELLO_IMAGE").map(PathBuf::from),
        nodes: if running == Tier::Node {
            nodes_from_env()
        } else {
            Vec::new()
        },
    })
}

/// Lossy UTF-8 of a process's output.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"))
}

fn ok(out: Output, what: &str) -> String {
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\nstderr: {}\nstdout: {}",
            out.status,
            text(&out.stderr).trim_end(),
            text(&out.stdout).trim_end()
        );
    }
    text(&out.stdout)
}

/// Numbers the files of [`TestCluster::apply_json`].
static APPLIED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl TestCluster {
    /// The text under `key` of Secret `ns/name` (kubectl get + jsonpath + base64, in one place).
    pub fn secret_text(&self, ns: &str, name: &str, key: &str) -> String {
        let path = format!("jsonpath={{.data.{}}}", key.replace('.', "\\."));
        let b64 = self.kubectl_ok(&["-n", ns, "get", "secret", name, "-o", &path]);
        String::from_utf8(b64decode(&b64)).expect("UTF-8 text")
    }

    /// `kubectl -n NS get WHAT -o jsonpath={PATH}`, trimmed (`path` without the braces).
    pub fn jsonpath(&self, ns: &str, what: &str, path: &str) -> String {
        let jp = format!("jsonpath={{{path}}}");
        self.kubectl_ok(&["-n", ns, "get", what, "-o", &jp])
            .trim()
            .to_string()
    }

    /// Waits for Job `name` in kreg-system to end, polling every 2 s at most `tries` times;
    /// returns "succeeded/failed" as last read.
    pub fn wait_job(&self, name: &str, tries: u32) -> String {
        let mut state = String::new();
        for _ in 0..tries {
            state = self.kubectl_ok(&[
                "-n",
                "kreg-system",
                "get",
                "job",
                name,
                "-o",
                "jsonpath={.status.succeeded}/{.status.failed}",
            ]);
            if state.starts_with('1') || state.ends_with('1') {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        state
    }

    /// `$KUBECTL --kubeconfig <admin> ARGS...` (the harness's kubectl, of the cluster's
    /// version; `kubectl` on PATH if KUBECTL is unset). The discovery cache is this test
    /// process's own: ~/.kube/cache is keyed by host:port, and a 1.20 cluster's cache on the
    /// same port sent kubectl to batch/v1beta1 CronJobs that a 1.34 server does not serve.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        let kubectl = var("KUBECTL").unwrap_or_else(|| "kubectl".to_string());
        let cache = std::env::temp_dir().join(format!("kreg-test-kubectl-{}", std::process::id()));
        run(
            Command::new(&kubectl)
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .arg("--cache-dir")
                .arg(cache)
                .args(args)
                .env_remove("KUBECONFIG"),
            &format!("{kubectl} {args:?}"),
        )
    }

    /// Like [`TestCluster::kubectl`]; panics with its stderr unless it succeeds, returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        ok(self.kubectl(args), &format!("kubectl {args:?}"))
    }

    /// `kubectl apply` of JSON objects (one List).
    pub fn apply_json(&self, docs: &[serde_json::Value]) {
        let path = std::env::temp_dir().join(format!(
            "kreg-apply-{}-{}.json",
            std::process::id(),
            APPLIED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs});
        std::fs::write(&path, serde_json::to_vec(&list).unwrap()).unwrap();
        self.kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(path);
    }

    /// Deletes namespace `ns` if it exists and waits (up to 90 s) for it to be gone.
    pub fn remove_namespace(&self, ns: &str) {
        let _ = self.kubectl(&[
            "delete",
            "namespace",
            ns,
            "--ignore-not-found",
            "--timeout=90s",
        ]);
    }

    /// The Gateway API CRDs on, a GatewayClass `class` (no controller serves it) and, in
    /// namespace `ns` (made anew), Gateway `public` with `listener`.
    pub fn gateway_fixture(&self, ns: &str, class: &str, listener: serde_json::Value) {
        self.remove_namespace(ns);
        self.kcluster_ok(&["gateway-crds", "on"]);
        self.kubectl_ok(&["create", "namespace", ns]);
        self.apply_json(&[
            serde_json::json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "GatewayClass",
                "metadata": {"name": class},
                "spec": {"controllerName": "example.test/no-controller"},
            }),
            serde_json::json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "Gateway",
                "metadata": {"name": "public", "namespace": ns},
                "spec": {"gatewayClassName": class, "listeners": [listener]},
            }),
        ]);
    }

    /// `kcluster ARGS...`.
    pub fn kcluster(&self, args: &[&str]) -> Output {
        run(
            Command::new(&self.kcluster).args(args),
            &format!("{} {args:?}", self.kcluster.display()),
        )
    }

    /// Like [`TestCluster::kcluster`]; panics with its stderr unless it succeeds, returns stdout.
    pub fn kcluster_ok(&self, args: &[&str]) -> String {
        ok(self.kcluster(args), &format!("kcluster {args:?}"))
    }

    /// Runs a command in the first node's network, mount and PID namespaces (`kcluster
    /// exec-node`); CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE=k8s.io are set and the node's
    /// runtime comes first on PATH, so `ctr images ls` works as is.
    pub fn exec_node(&self, args: &[&str]) -> Output {
        let mut all = vec!["exec-node"];
        all.extend_from_slice(args);
        self.kcluster(&all)
    }

    /// Like [`TestCluster::exec_node`], on the node named `node`.
    pub fn exec_node_on(&self, node: &str, args: &[&str]) -> Output {
        let mut all = vec!["exec-node", "--node", node];
        all.extend_from_slice(args);
        self.kcluster(&all)
    }

    /// Every node's containerd trust file for `registry` (`certs.d/<registry>/ca.crt`, which
    /// kreg's node agent writes): its path, for messages, and its text. Panics when one is
    /// missing.
    pub fn node_trust_files(&self, registry: &str) -> Vec<(String, String)> {
        self.nodes
            .iter()
            .map(|n| {
                let file = n
                    .etc()
                    .join("containerd/certs.d")
                    .join(registry)
                    .join("ca.crt");
                let pem = std::fs::read_to_string(&file)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                (file.display().to_string(), pem)
            })
            .collect()
    }

    /// How many real nodes the cluster has (node tier): what "every node" means in a report.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node's own /etc (node tier): `/etc/netns/<netns>`, bind-mounted over the node's /etc
    /// entries. Edit files there in place (the node's hosts file is a bind mount of that inode).
    pub fn node_etc(&self) -> Option<PathBuf> {
        self.netns.as_ref().map(|n| Path::new("/etc/netns").join(n))
    }
}

/// The bytes of standard base64 text (a Secret's `.data` value read with jsonpath).
/// The names of the files in `dir` (none when it does not exist): what a staleness test
/// compares with the files it would generate.
pub fn file_names(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn b64decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .expect("base64")
}

/// Imports the harness's hello image (`docker.io/kreg-test/hello:1`, which `kcluster up node`
/// preloads) into every node again when dropped. A test that removes it from the nodes (a CRI
/// RemoveImage of any reference to the same image removes them all) holds one, so the test
/// files after it find the nodes as the harness left them, whether it passed or not.
pub struct HelloBack<'a>(pub &'a TestCluster);

impl Drop for HelloBack<'_> {
    fn drop(&mut self) {
        let Some(tar) = self.0.hello_image.as_ref() else {
            return;
        };
        let tar = tar.display().to_string();
        for node in &self.0.nodes {
            let out = self.0.exec_node_on(
                &node.name,
                &["ctr", "-n", "k8s.io", "images", "import", &tar],
            );
            if !out.status.success() {
                eprintln!(
                    "re-importing {tar} into {}: {}",
                    node.name,
                    text(&out.stderr)
                );
            }
        }
    }
}

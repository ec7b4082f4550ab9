//! Pod Security Admission on the node tier (Kubernetes 1.34's built-in admission plugin, not a
//! model of it): a tenant namespace enforcing `baseline`, where the API server really refuses a
//! privileged Pod. `kreg up` into that namespace is refused before it writes anything (its node
//! agent is privileged), and a Pod of the tenant pulls an image from kreg's registry (installed in
//! its own namespace) and runs under `baseline`. Run with `--test-threads=1`.

mod support;

use support::kreg::{host_of, kreg, kreg_json, resolve_on_node, Workstation};
use support::{require, text, TestCluster, Tier};

const TENANT: &str = "kreg-test-psa-tenant";

/// Deletes the tenant namespace and kreg's install when the test ends, even on panic.
struct Cleanup<'a>(&'a TestCluster);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = kreg(self.0, &["down", "--purge", "--yes", "--timeout", "60s"]);
        self.0.remove_namespace(TENANT);
    }
}

fn apply_in(tc: &TestCluster, yaml: &str, extra: &[&str]) -> std::process::Output {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, yaml.as_bytes()).unwrap();
    let path = f.path().to_str().unwrap().to_string();
    let mut args = vec!["apply", "-f", path.as_str()];
    args.extend_from_slice(extra);
    tc.kubectl(&args)
}

fn pod(name: &str, image: &str, privileged: bool) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {TENANT}}}\n\
         spec:\n  restartPolicy: Never\n  containers:\n  - name: c\n    image: {image}\n\
         \x20   securityContext: {{privileged: {privileged}}}\n"
    )
}

#[test]
fn baseline_tenant_pulls_from_kreg_and_up_refuses_a_baseline_namespace() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    tc.remove_namespace(TENANT);
    let _cleanup = Cleanup(&tc);
    tc.kubectl_ok(&["create", "namespace", TENANT]);
    tc.kubectl_ok(&[
        "label",
        "namespace",
        TENANT,
        "pod-security.kubernetes.io/enforce=baseline",
    ]);

    // 1. The API server enforces it: a privileged Pod is refused (server-side dry run).
    let refused = apply_in(
        &tc,
        &pod("privileged", "docker.io/kreg-test/hello:1", true),
        &["--dry-run=server"],
    );
    assert!(
        !refused.status.success() && text(&refused.stderr).contains("violates PodSecurity"),
        "a privileged Pod in a baseline namespace was not refused: {}{}",
        text(&refused.stdout),
        text(&refused.stderr)
    );

    // 2. `up` into it: refused before the first write, with a hint that names the ways out.
    let out = kreg(&tc, &["up", "-n", TENANT, "--yes", "--timeout", "2m"]);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "up into a baseline namespace: {err}"
    );
    assert!(err.contains("enforces Pod Security `baseline`"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("-n kreg-system"),
        "{err}"
    );
    let left = tc.kubectl_ok(&[
        "-n",
        TENANT,
        "get",
        "all,secrets,configmaps,serviceaccounts,roles,rolebindings,persistentvolumeclaims",
        "-l",
        "app.kubernetes.io/managed-by=kreg",
        "-o",
        "name",
    ]);
    assert_eq!(left.trim(), "", "the refused up left objects behind");
    let state = tc.kubectl(&["-n", TENANT, "get", "configmap", "kreg-state"]);
    assert!(!state.status.success(), "the refused up wrote its record");
    let level = tc.kubectl_ok(&[
        "get",
        "namespace",
        TENANT,
        "-o",
        "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
    ]);
    assert_eq!(
        level.trim(),
        "baseline",
        "kreg relabelled the tenant's namespace"
    );

    // 3. kreg in its own namespace; the tenant's Pod pulls from it under `baseline`.
    let up = kreg_json(&tc, &["up", "--yes", "-o", "json", "--timeout", "4m"]);
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_trusted"], tc.node_count(), "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    let ip = up["address"].as_str().unwrap().to_string();
    let ws = Workstation::new();
    ws.add_host(&ip, host_of(&registry));
    resolve_on_node(&tc, &ip, &registry);
    let pushed = ws.trust_and_push(&tc, &registry);
    assert!(pushed.status.success(), "push: {}", text(&pushed.stderr));
    let applied = apply_in(
        &tc,
        &pod("hello", &format!("{registry}/hello:1"), false),
        &[],
    );
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let done = tc.kubectl(&[
        "-n",
        TENANT,
        "wait",
        "--for=condition=Ready",
        "pod/hello",
        "--timeout=120s",
    ]);
    let desc = text(
        &tc.kubectl(&["-n", TENANT, "describe", "pod", "hello"])
            .stdout,
    );
    assert!(
        done.status.success(),
        "the tenant's Pod did not run: {desc}"
    );
    let logs = tc.kubectl_ok(&["-n", TENANT, "logs", "hello"]);
    assert!(logs.contains("hello from kreg"), "{logs}");
}

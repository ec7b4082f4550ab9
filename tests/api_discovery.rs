//! KEP-1755 tool discovery on the API tier: `kreg up` publishes
//! `kube-public/local-registry-hosting` with exactly the content Tilt, Skaffold and ctlptl read,
//! leaves a ConfigMap of that name it did not create alone, and `kreg down` withdraws its own.

mod support;

use support::kreg::{api_tier_up, kreg, kreg_json};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kt-discovery";

fn hosting(tc: &TestCluster) -> Option<String> {
    let out = tc.kubectl(&[
        "-n",
        "kube-public",
        "get",
        "configmap",
        "local-registry-hosting",
        "-o",
        "jsonpath={.data.localRegistryHosting\\.v1}",
    ]);
    out.status.success().then(|| text(&out.stdout))
}

fn up(tc: &TestCluster) -> (serde_json::Value, String) {
    let out = kreg(tc, &api_tier_up(NS, "60s", &[]));
    assert!(out.status.success(), "up: {}", text(&out.stderr));
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        text(&out.stderr),
    )
}

fn clean(tc: &TestCluster) {
    let _ = kreg(
        tc,
        &["down", "-n", NS, "--purge", "--yes", "--timeout", "20s"],
    );
    let _ = tc.kubectl(&[
        "-n",
        "kube-public",
        "delete",
        "configmap",
        "local-registry-hosting",
        "--ignore-not-found",
    ]);
}

#[test]
fn up_publishes_local_registry_hosting_and_down_withdraws_it() {
    let Some(tc) = require(Tier::Api) else { return };
    clean(&tc);
    tc.kcluster_ok(&["lb", "ip"]);

    let (first, _) = up(&tc);
    assert_eq!(first["discovery"], "published", "{first}");
    let reg = first["registry"].as_str().unwrap();
    let expected = format!(
        "host: {reg}\nhostFromContainerRuntime: {reg}\nhostFromClusterNetwork: {reg}\nhelp: 'kreg registry {reg}: run `kreg trust-local` once to trust its CA, then push to {reg}/<name>:<tag>; `kreg status` shows its health'\n"
    );
    assert_eq!(hosting(&tc).as_deref(), Some(expected.as_str()));
    let labels = tc.kubectl_ok(&[
        "-n",
        "kube-public",
        "get",
        "configmap",
        "local-registry-hosting",
        "-o",
        "jsonpath={.metadata.labels}",
    ]);
    assert!(labels.contains("kreg"), "{labels}");

    // A re-run changes nothing; down removes it.
    let (second, _) = up(&tc);
    assert_eq!(second["changed"], serde_json::json!([]), "{second}");
    let down = kreg_json(&tc, &["down", "-n", NS, "--yes", "-o", "json"]);
    assert!(
        down["removed"]
            .to_string()
            .contains("local-registry-hosting"),
        "{down}"
    );
    assert_eq!(hosting(&tc), None);
    clean(&tc);
}

#[test]
fn a_foreign_local_registry_hosting_is_left_alone() {
    let Some(tc) = require(Tier::Api) else { return };
    clean(&tc);
    tc.kcluster_ok(&["lb", "ip"]);
    let theirs = "host: localhost:5001\nhelp: https://kind.sigs.k8s.io/docs/user/local-registry/\n";
    tc.kubectl_ok(&[
        "-n",
        "kube-public",
        "create",
        "configmap",
        "local-registry-hosting",
        &format!("--from-literal=localRegistryHosting.v1={theirs}"),
    ]);

    let (report, stderr) = up(&tc);
    assert_eq!(
        report["discovery"], "left alone: another tool owns it",
        "{report}"
    );
    assert!(stderr.contains("not created by kreg"), "{stderr}");
    assert_eq!(hosting(&tc).as_deref(), Some(theirs));
    let _ = kreg_json(&tc, &["down", "-n", NS, "--yes", "-o", "json"]);
    assert_eq!(
        hosting(&tc).as_deref(),
        Some(theirs),
        "down must not delete another tool's ConfigMap"
    );
    clean(&tc);
}

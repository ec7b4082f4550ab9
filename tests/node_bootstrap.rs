//! Issue 19: `kreg up` on a cluster whose nodes never saw kreg's image, with no `--agent-image`
//! and no `KREG_AGENT_IMAGE`: kreg builds its image from its own executable, pushes it into the
//! bootstrap store, and every node pulls it by digest from its own 127.0.0.1:5057 over plain
//! HTTP; node trust is then proved as always, by a pull of the probe image through each runtime.
//! Then the same with `route_localnet` off on every node (what nftables/IPVS kube-proxy leave),
//! and with `--auth` (the registry's gate is kreg's image too).

mod support;

use std::process::{Command, Output};

use support::kreg::KREG;
use support::{require, text, TestCluster, Tier};

/// kreg without the harness's pre-imported agent image: a user's `kreg up`.
fn kreg_bare(tc: &TestCluster, args: &[&str]) -> Output {
    Command::new(KREG)
        .args(args)
        .arg("--kubeconfig")
        .arg(&tc.kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("KREG_AGENT_IMAGE")
        .env("NO_COLOR", "1")
        .output()
        .expect("kreg runs")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status.code(),
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

/// The digest of the image this kreg makes of itself (what `up` pushes).
fn own_digest() -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(KREG)
        .args(["agent-image", "--out"])
        .arg(dir.path().join("agent.tar"))
        .output()
        .unwrap();
    let line = ok(&out, "kreg agent-image");
    line.trim()
        .strip_prefix("kreg/agent@")
        .unwrap_or_else(|| panic!("unexpected output {line:?}"))
        .to_string()
}

/// Removes every image of `digest` from the node's runtime, so the next pull must fetch it.
fn forget(tc: &TestCluster, node: &str, digest: &str) {
    let ls = ok(
        &tc.exec_node_on(node, &["ctr", "-n", "k8s.io", "images", "ls"]),
        "ctr images ls",
    );
    for line in ls.lines().filter(|l| l.contains(digest)) {
        let name = line.split_whitespace().next().unwrap();
        ok(
            &tc.exec_node_on(
                node,
                &["ctr", "-n", "k8s.io", "images", "rm", "--sync", name],
            ),
            "ctr images rm",
        );
    }
    assert!(
        !has_content(tc, node, digest),
        "{node} still holds {digest} after removing its images"
    );
}

fn has_content(tc: &TestCluster, node: &str, digest: &str) -> bool {
    let ls = ok(
        &tc.exec_node_on(node, &["ctr", "-n", "k8s.io", "content", "ls", "-q"]),
        "ctr content ls",
    );
    ls.lines().any(|l| l.trim() == digest)
}

fn up_json(tc: &TestCluster, ns: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "up",
        "-n",
        ns,
        "--expose",
        "nodeport",
        "--yes",
        "-o",
        "json",
        "--timeout",
        "5m",
    ];
    args.extend_from_slice(extra);
    let out = kreg_bare(tc, &args);
    let stdout = ok(&out, &format!("kreg {args:?}"));
    let up: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(up["healthy"], true, "{up}\n{}", text(&out.stderr));
    assert_eq!(
        up["nodes_trusted"],
        tc.node_count(),
        "every node trusts the registry (each pulled the probe through its runtime): {up}"
    );
    assert!(
        text(&out.stderr).contains("served to the nodes by the bootstrap"),
        "{}",
        text(&out.stderr)
    );
    up
}

/// `curl` on a node; the HTTP status (000: no answer).
fn node_http(tc: &TestCluster, node: &str, method: &str, url: &str) -> String {
    let out = tc.exec_node_on(
        node,
        &[
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
            // Distribution answers 404 for an OCI manifest a client does not accept.
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            "-X",
            method,
            url,
        ],
    );
    text(&out.stdout).trim().to_string()
}

fn gone(tc: &TestCluster, ns: &str, what: &str) -> bool {
    let out = tc.kubectl(&["-n", ns, "get", what, "--ignore-not-found", "-o", "name"]);
    out.status.success() && text(&out.stdout).trim().is_empty()
}

#[test]
fn up_serves_its_own_image_to_nodes_that_never_saw_it() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ns = "kt-boot";
    let _ = kreg_bare(&tc, &["down", "-n", ns, "--purge", "--yes"]);
    let digest = own_digest();
    let reference = format!("127.0.0.1:5057/kreg/agent@{digest}");
    for n in &tc.nodes {
        forget(&tc, &n.name, &digest);
    }

    // 1. A plain `kreg up`: no agent image anywhere, nodes get it from their loopback.
    let t = std::time::Instant::now();
    let up = up_json(&tc, ns, &[]);
    eprintln!(
        "bootstrap up: {:.1}s (bootstrap {} ms)",
        t.elapsed().as_secs_f64(),
        up["timings_ms"]["bootstrap_ms"]
    );
    let image = tc.jsonpath(
        ns,
        "daemonset/kreg-node-trust",
        ".spec.template.spec.containers[0].image",
    );
    assert_eq!(image, reference, "the agent is this kreg, pinned by digest");
    for n in &tc.nodes {
        assert!(
            has_content(&tc, &n.name, &digest),
            "{} pulled kreg's image",
            n.name
        );
        // Read-only: the relay refuses an upload; it serves the image by digest.
        let relay = "http://127.0.0.1:5057/v2/kreg/agent";
        let post = node_http(&tc, &n.name, "POST", &format!("{relay}/blobs/uploads/"));
        assert!(
            post.starts_with('4') || post.starts_with('5'),
            "the relay on {} accepted an upload: {post}",
            n.name
        );
        let get = node_http(&tc, &n.name, "GET", &format!("{relay}/manifests/{digest}"));
        assert_eq!(get, "200", "the relay on {} serves kreg's image", n.name);
    }
    // The store's in-cluster port is read-only too; its writable port is on its pod's
    // loopback, which only a port-forward reaches.
    let store_ip = tc.jsonpath(ns, "svc/kreg-bootstrap", ".spec.clusterIP");
    let post = node_http(
        &tc,
        &tc.nodes[0].name,
        "POST",
        &format!("http://{store_ip}:5000/v2/kreg/agent/blobs/uploads/"),
    );
    assert!(
        post.starts_with('4') || post.starts_with('5'),
        "the store accepted an upload on its Service: {post}"
    );
    // A second run changes nothing.
    let again = up_json(&tc, ns, &[]);
    assert_eq!(again["changed"], serde_json::json!([]), "{again}");

    // `down` removes the bootstrap with the rest.
    ok(&kreg_bare(&tc, &["down", "-n", ns, "--yes"]), "kreg down");
    for what in [
        "deployment/kreg-bootstrap",
        "service/kreg-bootstrap",
        "daemonset/kreg-bootstrap-relay",
    ] {
        assert!(gone(&tc, ns, what), "{what} is left after down");
    }

    // 2. As under nftables or IPVS kube-proxy: no NodePort answers on the nodes' 127.0.0.1.
    for n in &tc.nodes {
        forget(&tc, &n.name, &digest);
    }
    let set = |v: &str| {
        for n in &tc.nodes {
            let key = "net.ipv4.conf.all.route_localnet";
            ok(
                &tc.exec_node_on(&n.name, &["sysctl", "-w", &format!("{key}={v}")]),
                "sysctl",
            );
        }
    };
    set("0");
    let result = std::panic::catch_unwind(|| {
        let up = up_json(&tc, ns, &[]);
        let port = tc.jsonpath(ns, "svc/kreg-registry", ".spec.ports[0].nodePort");
        (up, port)
    });
    let (_, port) = match &result {
        Ok(r) => r.clone(),
        Err(_) => {
            set("1");
            panic!("up failed with route_localnet off");
        }
    };
    // The proof that loopback NodePorts were really off while the bootstrap worked.
    let node_port = node_http(
        &tc,
        &tc.nodes[0].name,
        "GET",
        &format!("https://127.0.0.1:{port}/v2/"),
    );
    set("1");
    assert_eq!(
        node_port, "000",
        "a NodePort still answered on the node's 127.0.0.1: the test proves nothing"
    );
    ok(&kreg_bare(&tc, &["down", "-n", ns, "--yes"]), "kreg down");

    // 3. --auth: the registry's gate runs from the same image, pulled the same way.
    for n in &tc.nodes {
        forget(&tc, &n.name, &digest);
    }
    up_json(&tc, ns, &["--auth"]);
    let images = tc.jsonpath(
        ns,
        "deployment/kreg-registry",
        ".spec.template.spec.containers[*].image",
    );
    assert!(
        images.contains(&reference),
        "the gate runs kreg's bootstrapped image: {images}"
    );
    ok(
        &kreg_bare(&tc, &["down", "-n", ns, "--purge", "--yes"]),
        "kreg down --purge",
    );
}

//! Node trust on a node whose containerd has no CRI `config_path` (containerd 1.6-2.1's
//! default): `kreg up` must not restart a production runtime on its own. It reports the node
//! with the remedy; with `--allow-runtime-restart` it sets config_path, restarts containerd,
//! and a Pod then pulls over TLS. This test restarts the node tier itself, so tests/run.sh runs
//! it last (the marker below).

// tests/run.sh: last

mod support;

use support::kreg::{kreg, kreg_json, resolve_on_node, run_hello, Workstation};
use support::{require, text, Tier};

#[test]
fn unset_config_path_is_reported_and_fixed_only_with_allow_runtime_restart() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    tc.kcluster_ok(&["down"]);
    tc.kcluster_ok(&["up", "node", "--no-config-path"]);
    // Every node (containerd 1.6 and 1.7) starts without config_path.
    let nodes = tc.node_count();
    assert!(nodes >= 2, "{:?}", tc.nodes);
    let configs: Vec<_> = tc
        .nodes
        .iter()
        .map(|n| n.etc().join("containerd/config.toml"))
        .collect();
    let befores: Vec<String> = configs
        .iter()
        .map(|c| std::fs::read_to_string(c).unwrap())
        .collect();
    for before in &befores {
        assert!(
            !before
                .lines()
                .any(|l| l.trim_start().starts_with("config_path")),
            "{before}"
        );
    }

    // Without permission: reported, nothing touched, exit 2.
    let out = kreg(&tc, &["up", "--yes", "-o", "json", "--timeout", "3m"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["nodes_trusted"], 0, "{report}");
    let reason = report["untrusted_nodes"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.contains("config_path") && reason.contains("--allow-runtime-restart"),
        "{reason}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("only 0 of {nodes} nodes trust the CA"))
            && err.contains("config_path"),
        "{err}"
    );
    for (config, before) in configs.iter().zip(&befores) {
        assert_eq!(
            &std::fs::read_to_string(config).unwrap(),
            before,
            "containerd's config must not change without --allow-runtime-restart"
        );
    }
    let status = kreg(&tc, &["status"]);
    assert_eq!(
        status.status.code(),
        Some(1),
        "status must report the untrusted node"
    );

    // With permission: config_path set, containerd restarted, every node trusts the CA.
    let up = kreg_json(
        &tc,
        &[
            "up",
            "--yes",
            "-o",
            "json",
            "--allow-runtime-restart",
            "--timeout",
            "3m",
        ],
    );
    assert_eq!(up["nodes_trusted"], nodes, "{up}");
    assert_eq!(up["healthy"], true);
    for config in &configs {
        let after = std::fs::read_to_string(config).unwrap();
        assert!(
            after.contains("config_path = \"/etc/containerd/certs.d\""),
            "{}: {after}",
            config.display()
        );
    }

    // And a Pod pulls from the registry over TLS.
    let registry = up["registry"].as_str().unwrap();
    let ip = up["address"].as_str().unwrap();
    let ws = Workstation::new();
    ws.add_host(ip, support::kreg::host_of(registry));
    resolve_on_node(&tc, ip, registry);
    let out = ws.trust_and_push(&tc, registry);
    assert!(out.status.success(), "{}", text(&out.stderr));
    run_hello(&tc, "hello-restart", &format!("{registry}/hello:1"));
    let out = kreg(&tc, &["down", "--yes", "--purge"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

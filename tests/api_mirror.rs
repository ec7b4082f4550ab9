//! `kreg up --mirror` on the API tier (no node: `--no-wait`): the objects of each pull-through
//! cache, its certificate naming the ClusterIP nodes use, the credentials check that refuses
//! before anything is applied, `up` keeping caches and removing one by `--no-mirror`, and `down` / `--purge`.
//! Pulls through a cache need a node: tests/node_mirror.rs.

mod support;

use serde_json::Value;
use support::kreg::{api_tier_up, kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kt-apimirror";

fn get_json(tc: &TestCluster, what: &[&str]) -> Value {
    let mut args = vec!["-n", NS, "get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&tc.kubectl_ok(&args)).unwrap()
}

fn exists(tc: &TestCluster, kind: &str, name: &str) -> bool {
    tc.kubectl(&["-n", NS, "get", kind, name]).status.success()
}

fn env_of(deploy: &Value, name: &str) -> Value {
    deploy["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn mirrors_are_applied_pruned_and_removed() {
    let Some(tc) = require(Tier::Api) else {
        return;
    };
    purge(&tc, NS);
    let hub = [
        "--mirror",
        "docker.io",
        "--mirror-credentials",
        "docker.io=hub-login",
    ];

    // 1. A missing credentials Secret is refused before anything exists.
    let out = kreg(&tc, &api_tier_up(NS, "60s", &hub));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("Secret hub-login does not exist")
            && err.contains("create secret generic hub-login"),
        "{err}"
    );
    assert!(
        !tc.kubectl(&["get", "namespace", NS]).status.success(),
        "nothing may be applied when the Secret is missing"
    );

    // A Secret without a password is refused too.
    tc.kubectl_ok(&["create", "namespace", NS]);
    tc.kubectl_ok(&[
        "-n",
        NS,
        "create",
        "secret",
        "generic",
        "hub-login",
        "--from-literal=username=me",
    ]);
    let out = kreg(&tc, &api_tier_up(NS, "60s", &hub));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("has no password"),
        "{}",
        text(&out.stderr)
    );
    assert!(!exists(&tc, "deployment", "kreg-registry"));
    tc.kubectl_ok(&["-n", NS, "delete", "secret", "hub-login"]);
    tc.kubectl_ok(&[
        "-n",
        NS,
        "create",
        "secret",
        "generic",
        "hub-login",
        "--from-literal=username=me",
        "--from-literal=password=not-printed-anywhere",
    ]);

    // 2. Two caches.
    let mut args = hub.to_vec();
    args.extend_from_slice(&["--mirror", "ghcr.io"]);
    let up = kreg_json(&tc, &api_tier_up(NS, "60s", &args));
    let mirrors = up["mirrors"].as_array().unwrap();
    assert_eq!(mirrors.len(), 2, "{up}");
    assert_eq!(mirrors[0]["name"], "kreg-mirror-docker-io");
    assert_eq!(mirrors[1]["url"], "https://ghcr.io");

    let d = get_json(&tc, &["deployment", "kreg-mirror-docker-io"]);
    assert_eq!(
        env_of(&d, "REGISTRY_PROXY_REMOTEURL")["value"],
        "https://registry-1.docker.io"
    );
    assert_eq!(
        env_of(&d, "REGISTRY_PROXY_PASSWORD")["valueFrom"]["secretKeyRef"]["name"],
        "hub-login"
    );
    let ghcr = get_json(&tc, &["deployment", "kreg-mirror-ghcr-io"]);
    assert_eq!(env_of(&ghcr, "REGISTRY_PROXY_USERNAME"), Value::Null);

    // The certificate names the ClusterIP that nodes are given, and chains to kreg's CA.
    let ip = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "service",
        "kreg-mirror-docker-io",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    assert_eq!(mirrors[0]["address"], ip.as_str());
    let tls = get_json(&tc, &["secret", "kreg-mirror-docker-io-tls"]);
    let pem = {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD
            .decode(tls["data"]["tls.crt"].as_str().unwrap())
            .unwrap();
        String::from_utf8(b).unwrap()
    };
    let info = kreg::pki::inspect(&pem).unwrap();
    assert_eq!(info.ips, vec![ip.parse::<std::net::IpAddr>().unwrap()]);
    assert_eq!(info.dns_names, [format!("kreg-mirror-docker-io.{NS}.svc")]);
    kreg::pki::verify_signed_by(&pem, up["ca_pem"].as_str().unwrap()).unwrap();

    // Node trust carries the caches in its agents' environment (no ConfigMap).
    let ds = get_json(&tc, &["daemonset", "kreg-node-trust"]);
    let mirrors_env: Value =
        serde_json::from_str(env_of(&ds, "KREG_MIRRORS")["value"].as_str().unwrap()).unwrap();
    assert_eq!(mirrors_env[0]["upstream"], "docker.io", "{mirrors_env}");
    assert_eq!(mirrors_env[0]["address"], format!("{ip}"), "{mirrors_env}");
    assert_eq!(mirrors_env[1]["upstream"], "ghcr.io", "{mirrors_env}");
    assert!(
        !tc.kubectl_ok(&["-n", NS, "get", "all,secrets,configmaps", "-o", "yaml"])
            .contains("not-printed-anywhere"),
        "the upstream password must stay in its Secret"
    );

    // 3. The same up again changes nothing.
    let again = kreg_json(&tc, &api_tier_up(NS, "60s", &args));
    assert_eq!(again["changed"], serde_json::json!([]), "{again}");

    // 4. A plain `up` keeps every cache (choices are sticky); `--no-mirror docker.io` drops
    //    that one (its PVC, the cached data, stays).
    let kept = kreg_json(&tc, &api_tier_up(NS, "60s", &[]));
    assert_eq!(kept["mirrors"].as_array().unwrap().len(), 2, "{kept}");
    assert_eq!(kept["changed"], serde_json::json!([]), "{kept}");
    let up = kreg_json(&tc, &api_tier_up(NS, "60s", &["--no-mirror", "docker.io"]));
    assert_eq!(up["mirrors"].as_array().unwrap().len(), 1, "{up}");
    for kind in ["deployment", "service", "secret"] {
        let name = if kind == "secret" {
            "kreg-mirror-docker-io-tls"
        } else {
            "kreg-mirror-docker-io"
        };
        assert!(!exists(&tc, kind, name), "{kind} {name} must be pruned");
    }
    assert!(exists(&tc, "pvc", "kreg-mirror-docker-io"));
    assert!(exists(&tc, "deployment", "kreg-mirror-ghcr-io"));

    // 5. status lists the cache; with no node it cannot be ready, so status is unhealthy.
    let out = kreg(&tc, &["status", "-n", NS, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["mirrors"][0]["upstream"], "ghcr.io", "{status}");
    assert_eq!(status["mirrors"][0]["healthy"], false, "{status}");
    assert!(
        status["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("mirror ghcr.io:")),
        "{status}"
    );

    // 6. down removes the caches and keeps their PVCs; --purge deletes them.
    let out = kreg(
        &tc,
        &["down", "-n", NS, "--yes", "-o", "json", "--timeout", "20s"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let removed = report["removed"].to_string();
    assert!(
        removed.contains("Deployment/kreg-mirror-ghcr-io"),
        "{report}"
    );
    assert!(
        removed.contains("Secret/kreg-mirror-ghcr-io-tls"),
        "{report}"
    );
    let kept = report["kept"].to_string();
    assert!(
        kept.contains("PersistentVolumeClaim/kreg-mirror-docker-io"),
        "{report}"
    );
    assert!(
        kept.contains("PersistentVolumeClaim/kreg-mirror-ghcr-io"),
        "{report}"
    );
    assert!(!exists(&tc, "service", "kreg-mirror-ghcr-io"));
    let out = kreg(
        &tc,
        &[
            "down",
            "-n",
            NS,
            "--yes",
            "--purge",
            "-o",
            "json",
            "--timeout",
            "20s",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["removed"]
            .to_string()
            .contains("PersistentVolumeClaim/kreg-mirror-ghcr-io"),
        "{report}"
    );
    purge(&tc, NS);
}

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
    let report = kreg_json(
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
    assert!(
        report["removed"]
            .to_string()
            .contains("PersistentVolumeClaim/kreg-mirror-ghcr-io"),
        "{report}"
    );
    purge(&tc, NS);
}

const NP_NS: &str = "kt-apimirror-np";

/// A Node object without a kubelet (the API tier has none): only its addresses matter here.
fn fake_node(tc: &TestCluster, name: &str, v4: &str, v6: &str) {
    let node = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kreg-test": "apimirror-np"}},
        "status": {"addresses": [
            {"type": "InternalIP", "address": v4},
            {"type": "InternalIP", "address": v6},
            {"type": "Hostname", "address": name},
        ]},
    });
    let file = std::env::temp_dir().join(format!("kreg-{name}.json"));
    std::fs::write(&file, node.to_string()).unwrap();
    tc.kubectl_ok(&["create", "-f", file.to_str().unwrap()]);
    let addresses = tc.kubectl_ok(&[
        "get",
        "node",
        name,
        "-o",
        "jsonpath={.status.addresses[*].address}",
    ]);
    assert!(addresses.contains(v4), "node {name}: {addresses}");
}

fn delete_fake_nodes(tc: &TestCluster) {
    tc.kubectl_ok(&[
        "delete",
        "nodes",
        "-l",
        "kreg-test=apimirror-np",
        "--ignore-not-found",
    ]);
}

/// The ipBlocks of NetworkPolicy kreg-mirrors, in order.
fn policy_cidrs(tc: &TestCluster) -> Vec<String> {
    get_np_json(tc)["spec"]["ingress"][0]["from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ipBlock"]["cidr"].as_str().unwrap().to_string())
        .collect()
}

/// Issue 11 item 7: credentials only with an https:// upstream (on the command line and in
/// the recorded state), and a NetworkPolicy that admits only the nodes to the caches, applied
/// by `up`, shown by `--dry-run`, checked by `status`, removed by `down`.
#[test]
fn caches_admit_only_the_nodes_and_logins_need_https() {
    let Some(tc) = require(Tier::Api) else {
        return;
    };
    purge(&tc, NP_NS);
    delete_fake_nodes(&tc);
    let has_np = |tc: &TestCluster| {
        tc.kubectl(&["-n", NP_NS, "get", "networkpolicy", "kreg-mirrors"])
            .status
            .success()
    };

    // 1. A login for a plain-HTTP upstream is refused before anything is applied.
    let out = kreg(
        &tc,
        &api_tier_up(
            NP_NS,
            "60s",
            &[
                "--mirror",
                "corp.example:5000=http://10.0.0.9:5000",
                "--mirror-credentials",
                "corp.example:5000=corp-login",
            ],
        ),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: --mirror-credentials corp.example:5000")
            && err.contains("http://10.0.0.9:5000 is plain HTTP")
            && err.contains("hint: use the upstream's https:// URL"),
        "{err}"
    );
    assert!(
        !tc.kubectl(&["get", "namespace", NP_NS]).status.success(),
        "nothing may be applied"
    );

    // 2. Two nodes (IPv4 and IPv6 each); a cache with a login.
    fake_node(&tc, "kt-np-a", "10.0.9.7", "fd00:9::7");
    fake_node(&tc, "kt-np-b", "10.0.9.8", "fd00:9::8");
    tc.kubectl_ok(&["create", "namespace", NP_NS]);
    tc.kubectl_ok(&[
        "-n",
        NP_NS,
        "create",
        "secret",
        "generic",
        "hub-login",
        "--from-literal=username=me",
        "--from-literal=password=pw",
    ]);
    let hub = [
        "--mirror",
        "docker.io",
        "--mirror-credentials",
        "docker.io=hub-login",
    ];

    // --dry-run shows the policy with the nodes' addresses and applies nothing.
    let mut dry = api_tier_up(NP_NS, "60s", &hub);
    dry.push("--dry-run");
    let plan = kreg_json(&tc, &dry);
    let np = plan["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "NetworkPolicy")
        .cloned()
        .unwrap_or_else(|| panic!("no NetworkPolicy in the dry run: {plan}"));
    assert_eq!(np["metadata"]["name"], "kreg-mirrors");
    assert_eq!(
        np["spec"]["ingress"][0]["from"].as_array().unwrap().len(),
        4,
        "{np}"
    );
    assert!(!has_np(&tc), "--dry-run applies nothing");

    let out = kreg(&tc, &api_tier_up(NP_NS, "60s", &hub));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let up: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = [
        "10.0.9.7/32",
        "10.0.9.8/32",
        "fd00:9::7/128",
        "fd00:9::8/128",
    ];
    assert_eq!(policy_cidrs(&tc), want);
    let np = get_np_json(&tc);
    assert_eq!(
        np["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kreg"
    );
    assert_eq!(
        np["spec"]["podSelector"]["matchLabels"]["kreg.dev/role"],
        "mirror"
    );
    // The cache pods carry the label the policy selects; the registry's do not.
    let d = get_json_in(&tc, NP_NS, &["deployment", "kreg-mirror-docker-io"]);
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"]["kreg.dev/role"],
        "mirror"
    );
    let reg = get_json_in(&tc, NP_NS, &["deployment", "kreg-registry"]);
    assert_eq!(
        reg["spec"]["template"]["metadata"]["labels"]["kreg.dev/role"],
        Value::Null
    );
    // No enforcing network plugin here: said once, and in the JSON.
    let access = &up["mirror_access"];
    assert_eq!(access["network_policy"], "kreg-mirrors", "{up}");
    assert_eq!(access["open_to_pods"], true, "{up}");
    assert_eq!(access["allowed_sources"].as_array().unwrap().len(), 4);
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("warning: caches with credentials (docker.io)")
            .count(),
        1,
        "{err}"
    );

    // 3. status reports the access; a node added later is named until the next `up`.
    fake_node(&tc, "kt-np-c", "10.0.9.9", "fd00:9::9");
    let out = kreg(&tc, &["status", "-n", NP_NS, "-o", "json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["mirror_access"]["open_to_pods"], true, "{status}");
    let warnings = status["warnings"].to_string();
    assert!(
        warnings.contains("does not admit 10.0.9.9, fd00:9::9"),
        "{status}"
    );
    let again = kreg_json(&tc, &api_tier_up(NP_NS, "60s", &[]));
    assert!(
        again["changed"]
            .to_string()
            .contains("NetworkPolicy/kreg-mirrors"),
        "{again}"
    );
    assert_eq!(policy_cidrs(&tc).len(), 6);

    // 4. A login over http:// recorded by an older kreg is not kept by a later `up`.
    let cm = get_json_in(&tc, NP_NS, &["configmap", "kreg-state"]);
    let mut state: Value =
        serde_json::from_str(cm["data"]["state.json"].as_str().unwrap()).unwrap();
    state["mirrors"][0]["url"] = "http://10.0.0.9:5000".into();
    let patch = serde_json::json!({"data": {"state.json": state.to_string()}});
    tc.kubectl_ok(&[
        "-n",
        NP_NS,
        "patch",
        "configmap",
        "kreg-state",
        "--type",
        "merge",
        "-p",
        &patch.to_string(),
    ]);
    let before = get_json_in(&tc, NP_NS, &["deployment", "kreg-mirror-docker-io"]);
    let out = kreg(&tc, &api_tier_up(NP_NS, "60s", &[]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("plain-HTTP upstream URL http://10.0.0.9:5000")
            && err.contains("--no-mirror docker.io"),
        "{err}"
    );
    let after = get_json_in(&tc, NP_NS, &["deployment", "kreg-mirror-docker-io"]);
    assert_eq!(
        before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
        "nothing may be applied"
    );

    // 5. down removes the policy with the caches.
    let report = kreg_json(
        &tc,
        &[
            "down",
            "-n",
            NP_NS,
            "--yes",
            "-o",
            "json",
            "--timeout",
            "20s",
        ],
    );
    assert!(
        report["removed"]
            .to_string()
            .contains("NetworkPolicy/kreg-mirrors"),
        "{report}"
    );
    assert!(!has_np(&tc));
    delete_fake_nodes(&tc);
    purge(&tc, NP_NS);
}

fn get_np_json(tc: &TestCluster) -> Value {
    get_json_in(tc, NP_NS, &["networkpolicy", "kreg-mirrors"])
}

fn get_json_in(tc: &TestCluster, ns: &str, what: &[&str]) -> Value {
    let mut args = vec!["-n", ns, "get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&tc.kubectl_ok(&args)).unwrap()
}

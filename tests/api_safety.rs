//! Safe by default (issue 11), on the API tier: kreg deletes only what it created, choices
//! are sticky (a plain `up` never re-opens an `--auth` registry), a security downgrade needs
//! confirmation, cloud load balancers are internal unless `--public`, hostile flags get clear
//! errors. Each test failed before its fix. Run with --test-threads=1 (the harness's
//! load-balancer and flavour modes are global).

mod support;

use serde_json::Value;
use support::kreg::{api_tier_up, kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

fn up(tc: &TestCluster, ns: &str, extra: &[&str]) -> Value {
    kreg_json(tc, &api_tier_up(ns, "60s", extra))
}

/// A clean slate: no kreg in `ns`, no fake flavour nodes (their DaemonSet pods would never
/// go, and hold the namespace).
fn fresh(tc: &TestCluster, ns: &str) {
    tc.kcluster_ok(&["flavor", "clear"]);
    // The Node the NodePort test adds, should that test have stopped half-way.
    let _ = tc.kubectl(&[
        "delete",
        "node",
        EXTRA_NODE,
        "--ignore-not-found",
        "--wait=false",
    ]);
    purge(tc, ns);
}

/// A fake Node added by [`a_node_port_registry_keeps_the_node_it_is_named_after`].
const EXTRA_NODE: &str = "a-first";

fn get_json(tc: &TestCluster, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&tc.kubectl_ok(&all)).unwrap()
}

/// The registry Deployment's environment, `NAME=value` per line.
fn registry_env(tc: &TestCluster, ns: &str) -> String {
    tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "deploy",
        "kreg-registry",
        "-o",
        "jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value}{\"\\n\"}{end}",
    ])
}

/// Whether the registry is behind kreg's gate (`--auth`): the registry on the pod's loopback
/// and a `gate` container beside it.
fn gated(tc: &TestCluster, ns: &str) -> bool {
    let containers = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "deploy",
        "kreg-registry",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].name}",
    ]);
    let loopback = registry_env(tc, ns).contains("REGISTRY_HTTP_ADDR=127.0.0.1:5001");
    assert_eq!(
        containers.split_whitespace().any(|c| c == "gate"),
        loopback,
        "the registry is on loopback exactly when the gate is in front: {containers}"
    );
    loopback
}

fn state(tc: &TestCluster, ns: &str) -> Value {
    let json = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "configmap",
        "kreg-state",
        "-o",
        "jsonpath={.data.state\\.json}",
    ]);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("state.json: {e}: {json}"))
}

/// Whether the namespace is gone or on its way (deletion is asynchronous).
fn namespace_deleted(tc: &TestCluster, ns: &str) -> bool {
    let out = tc.kubectl(&["get", "namespace", ns, "-o", "jsonpath={.status.phase}"]);
    !out.status.success() || text(&out.stdout).trim() == "Terminating"
}

#[test]
fn a_namespace_kreg_did_not_create_survives_up_and_purge() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-team-apps";
    fresh(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    tc.kubectl_ok(&["create", "namespace", ns]);
    tc.kubectl_ok(&[
        "-n",
        ns,
        "create",
        "configmap",
        "users-data",
        "--from-literal=keep=me",
    ]);
    let theirs = get_json(&tc, &["get", "namespace", ns]);
    let uid = theirs["metadata"]["uid"].as_str().unwrap().to_string();

    up(&tc, ns, &[]);
    let after_up = get_json(&tc, &["get", "namespace", ns]);
    assert_eq!(
        after_up["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        Value::Null,
        "up labelled a namespace it did not create: {}",
        after_up["metadata"]
    );
    assert_eq!(
        state(&tc, ns)["created"].get(format!("Namespace/{ns}")),
        None
    );

    let out = kreg(&tc, &["down", "-n", ns, "--purge", "--yes", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["kept"]
            .to_string()
            .contains(&format!("Namespace/{ns} (not created by kreg)")),
        "{report}"
    );
    assert!(
        !namespace_deleted(&tc, ns),
        "down --purge deleted the user's namespace"
    );
    let still = get_json(&tc, &["get", "namespace", ns]);
    assert_eq!(still["metadata"]["uid"], uid.as_str());
    assert_eq!(
        tc.kubectl_ok(&[
            "-n",
            ns,
            "get",
            "configmap",
            "users-data",
            "-o",
            "jsonpath={.data.keep}"
        ]),
        "me"
    );
    // kreg's own data went: the PVC and the CA it created.
    for what in [
        "pvc/kreg-registry-data",
        "secret/kreg-ca",
        "configmap/kreg-state",
    ] {
        assert!(
            !tc.kubectl(&["-n", ns, "get", what]).status.success(),
            "{what} survived --purge"
        );
    }
    fresh(&tc, ns);
}

#[test]
fn a_namespace_kreg_created_is_deleted_by_purge_and_kept_by_down() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-own-ns";
    fresh(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    up(&tc, ns, &[]);
    let uid = get_json(&tc, &["get", "namespace", ns])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let recorded = state(&tc, ns);
    assert_eq!(recorded["created"][format!("Namespace/{ns}")], uid.as_str());
    assert!(
        recorded["created"]["Secret/kreg-ca"].is_string(),
        "{recorded}"
    );
    assert!(
        recorded["created"]["PersistentVolumeClaim/kreg-registry-data"].is_string(),
        "{recorded}"
    );

    // A plain down keeps the record (not installed any more), so the kept namespace, PVC and
    // CA stay known as kreg's; status says not installed.
    let out = kreg(&tc, &["down", "-n", ns, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kept = state(&tc, ns);
    assert_eq!(kept["installed"], false, "{kept}");
    assert_eq!(kept["created"], recorded["created"]);
    let status = kreg(&tc, &["status", "-n", ns, "-o", "json"]);
    assert_eq!(status.status.code(), Some(1));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["installed"], false, "{status}");

    up(&tc, ns, &[]);
    let out = kreg(&tc, &["down", "-n", ns, "--purge", "--yes", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["removed"]
            .to_string()
            .contains(&format!("Namespace/{ns}")),
        "{report}"
    );
    assert!(
        namespace_deleted(&tc, ns),
        "kreg's own namespace must go with --purge"
    );
    fresh(&tc, ns);
}

#[test]
fn an_object_kreg_did_not_create_is_refused_not_taken_over() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-foreign";
    fresh(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    tc.kubectl_ok(&["create", "namespace", ns]);
    tc.kubectl_ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        "kreg-auth",
        "--from-literal=password=theirs",
    ]);
    let out = kreg(&tc, &api_tier_up(ns, "60s", &["--auth"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("Secret kreg-auth exists") && err.contains("not created by kreg"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    // Nothing half-applied, and their Secret untouched.
    for what in [
        "deploy/kreg-registry",
        "secret/kreg-ca",
        "configmap/kreg-state",
    ] {
        assert!(
            !tc.kubectl(&["-n", ns, "get", what]).status.success(),
            "{what} was created"
        );
    }
    assert_eq!(
        tc.kubectl_ok(&[
            "-n",
            ns,
            "get",
            "secret",
            "kreg-auth",
            "-o",
            "jsonpath={.data.password}"
        ]),
        "dGhlaXJz"
    );
    fresh(&tc, ns);
}

#[test]
fn a_plain_up_keeps_auth_and_dropping_it_needs_yes() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-sticky";
    fresh(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    tc.kubectl_ok(&["create", "namespace", "kt-sticky-team"]);

    let first = up(
        &tc,
        ns,
        &[
            "--auth",
            "--pull-secret-namespaces",
            "kt-sticky-team",
            "--gc-schedule",
            "0 3 * * 0",
            "--gc-image",
            "mirror.example/kubectl:1",
        ],
    );
    assert!(gated(&tc, ns));

    // What the README suggests to re-issue the certificate: a plain `up`. It used to drop
    // auth (anonymous pushes and /v2/_catalog answered 200), the pull secrets and the gc
    // CronJob.
    let plain = up(&tc, ns, &[]);
    assert!(
        gated(&tc, ns),
        "a plain up re-opened the registry: {}",
        plain["changed"]
    );
    tc.kubectl_ok(&["-n", "kt-sticky-team", "get", "secret", "kreg-pull"]);
    tc.kubectl_ok(&["-n", ns, "get", "cronjob", "kreg-gc"]);
    assert_eq!(first["anonymous_access"], false, "{first}");
    assert_eq!(plain["anonymous_access"], false, "{plain}");
    assert_eq!(plain["auth"]["username"], "kreg", "{plain}");
    assert_eq!(
        plain["changed"],
        serde_json::json!([]),
        "a plain up changed things"
    );

    // Dropping auth is a downgrade: without a terminal and without --yes it is refused, and
    // nothing changes.
    let mut args = api_tier_up(ns, "60s", &["--no-auth"]);
    args.retain(|a| *a != "--yes");
    let out = kreg(&tc, &args);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("change: authentication: on -> off (a security downgrade)"),
        "the plan names it: {err}"
    );
    assert!(err.contains("refusing a security downgrade"), "{err}");
    assert!(err.contains("hint:") && err.contains("--yes"), "{err}");
    assert!(gated(&tc, ns));
    tc.kubectl_ok(&["-n", "kt-sticky-team", "get", "secret", "kreg-pull"]);

    // With --yes it goes, and takes the pull secrets along; the gc schedule stays.
    let out = kreg(&tc, &api_tier_up(ns, "60s", &["--no-auth"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let open: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(open["anonymous_access"], true, "{open}");
    assert!(
        text(&out.stderr).contains("no authentication:"),
        "{}",
        text(&out.stderr)
    );
    assert!(!gated(&tc, ns));
    assert!(!tc
        .kubectl(&["-n", "kt-sticky-team", "get", "secret", "kreg-pull"])
        .status
        .success());
    tc.kubectl_ok(&["-n", ns, "get", "cronjob", "kreg-gc"]);
    let status = kreg(&tc, &["status", "-n", ns, "-o", "json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["anonymous_access"], true, "{status}");
    assert!(
        status["warnings"].to_string().contains("no authentication"),
        "{status}"
    );

    // --no-gc-schedule drops the CronJob, and the plan says so.
    let out = kreg(&tc, &api_tier_up(ns, "60s", &["--no-gc-schedule"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("change: gc schedule:"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tc
        .kubectl(&["-n", ns, "get", "cronjob", "kreg-gc"])
        .status
        .success());

    fresh(&tc, ns);
    let _ = tc.kubectl(&["delete", "namespace", "kt-sticky-team", "--wait=false"]);
}

#[test]
fn cloud_load_balancers_are_internal_unless_public_and_public_needs_auth() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-cloud-lb";
    fresh(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    tc.kcluster_ok(&["flavor", "clear"]);
    tc.kcluster_ok(&["flavor", "eks"]);
    let svc_annotations = |tc: &TestCluster| {
        get_json(tc, &["-n", ns, "get", "svc", "kreg-registry"])["metadata"]["annotations"].clone()
    };

    let out = kreg(&tc, &api_tier_up(ns, "60s", &["--no-node-trust"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["flavor"], "eks");
    assert_eq!(first["anonymous_access"], true);
    let err = text(&out.stderr);
    assert!(
        err.contains("no authentication: every machine in the cloud network"),
        "{err}"
    );
    let notes = svc_annotations(&tc);
    assert_eq!(
        notes["service.beta.kubernetes.io/aws-load-balancer-scheme"], "internal",
        "{notes}"
    );
    assert_eq!(
        notes["service.beta.kubernetes.io/aws-load-balancer-internal"], "true",
        "{notes}"
    );

    // --public alone is refused before anything changes.
    let out = kreg(
        &tc,
        &api_tier_up(ns, "60s", &["--public", "--no-node-trust"]),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--public without --auth"), "{err}");
    assert!(err.contains("--allow-anonymous-push"), "{err}");
    assert_eq!(
        svc_annotations(&tc)["service.beta.kubernetes.io/aws-load-balancer-scheme"],
        "internal"
    );

    // With --auth: public, limited to the given ranges.
    let public = up(
        &tc,
        ns,
        &[
            "--public",
            "--auth",
            "--lb-source-ranges",
            "203.0.113.0/24",
            "--no-node-trust",
        ],
    );
    assert_eq!(public["anonymous_access"], false);
    let svc = get_json(&tc, &["-n", ns, "get", "svc", "kreg-registry"]);
    assert_eq!(
        svc["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"],
        Value::Null,
        "{}",
        svc["metadata"]
    );
    assert_eq!(
        svc["spec"]["loadBalancerSourceRanges"],
        serde_json::json!(["203.0.113.0/24"])
    );
    fresh(&tc, ns);
    tc.kcluster_ok(&["flavor", "clear"]);
}

#[test]
fn hostile_flags_get_clear_errors_and_ipv6_hosts_are_canonical() {
    let Some(tc) = require(Tier::Api) else { return };
    let out = kreg(
        &tc,
        &[
            "up",
            "-n",
            "kt-timeout",
            "--yes",
            "--timeout",
            "10000000000000000000",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("error: --timeout") && err.contains("hint:"),
        "{err}"
    );

    let ns = "kt-v6host";
    fresh(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let r = up(&tc, ns, &["--host", "FD00:0:0::5"]);
    assert_eq!(r["host"], "fd00::5", "{r}");
    assert_eq!(r["registry"], "[fd00::5]", "{r}");
    fresh(&tc, ns);
}

#[test]
fn a_node_port_registry_keeps_the_node_it_is_named_after() {
    use k8s_openapi::api::core::v1::Node;
    use kube::api::{Api, Patch, PatchParams, PostParams};
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-nodeport";
    fresh(&tc, ns);
    tc.kcluster_ok(&["flavor", "clear"]);
    tc.kcluster_ok(&["flavor", "kind", "--count", "1"]);
    let nodeport = |tc: &TestCluster| {
        kreg_json(
            tc,
            &[
                "up",
                "-n",
                ns,
                "--expose",
                "nodeport",
                "--no-node-trust",
                "--no-wait",
                "--yes",
                "-o",
                "json",
                "--timeout",
                "60s",
            ],
        )
    };
    let first = nodeport(&tc);
    assert_eq!(first["address"], "172.18.0.2", "{first}");

    // A Ready node that the API lists first appears: the registry's name must not move.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&tc.kubeconfig).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        let nodes: Api<Node> = Api::all(kube::Client::try_from(cfg).unwrap());
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": EXTRA_NODE}
        }))
        .unwrap();
        nodes.create(&PostParams::default(), &node).await.unwrap();
        let status = serde_json::json!({"status": {
            "addresses": [{"type": "InternalIP", "address": "172.18.0.99"}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "test", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }});
        nodes
            .patch_status(EXTRA_NODE, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    });
    let again = nodeport(&tc);
    assert_eq!(
        again["registry"], first["registry"],
        "the registry was renamed"
    );
    assert_eq!(state(&tc, ns)["nodeAddress"]["node"], "kind-control-plane");

    // Once that node is gone, the next up moves to a node that exists.
    tc.kubectl_ok(&["delete", "node", "kind-control-plane"]);
    let moved = nodeport(&tc);
    assert_eq!(moved["address"], "172.18.0.99", "{moved}");
    assert_eq!(state(&tc, ns)["nodeAddress"]["node"], "a-first");

    fresh(&tc, ns);
    tc.kcluster_ok(&["flavor", "clear"]);
    fresh(&tc, ns);
}

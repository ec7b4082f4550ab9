//! Exposure transitions (issue 21): nodeport → (a refused ingress) → ingress → gateway →
//! loadbalancer → nodeport on the API tier, one installation. After each step only the current
//! mode's objects exist (an Ingress or a route of an earlier mode is gone), the NodePort comes
//! back as it was, and the refused step changed no object and not the state record. The
//! refusal's hint is followed literally, each of its three ways, and works. A rename is said in
//! the plan. `down` then leaves none of kreg's labelled objects. No ingress or Gateway
//! controller runs: this proves what is stored.
//! Run with --test-threads=1 (fake nodes, the Gateway API CRDs and IngressClasses are
//! cluster-wide).

mod support;

use std::process::Output;

use serde_json::Value;
use support::kreg::{kreg, purge};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kt-moves";
const GW_NS: &str = "kt-moves-gw";

fn up(tc: &TestCluster, extra: &[&str]) -> Output {
    let mut args = vec![
        "up",
        "-n",
        NS,
        "--no-wait",
        "--no-node-trust",
        "--yes",
        "-o",
        "json",
        "--timeout",
        "90s",
    ];
    args.extend_from_slice(extra);
    kreg(tc, &args)
}

fn up_ok(tc: &TestCluster, extra: &[&str]) -> Value {
    up_said(tc, extra).0
}

/// `up_ok` with what `up` said on stderr (its plan).
fn up_said(tc: &TestCluster, extra: &[&str]) -> (Value, String) {
    let out = up(tc, extra);
    let err = text(&out.stderr);
    assert!(out.status.success(), "kreg up {extra:?} failed:\n{err}");
    (
        serde_json::from_slice(&out.stdout).expect("up -o json"),
        err,
    )
}

/// The state record as stored.
fn record(tc: &TestCluster) -> String {
    tc.jsonpath(NS, "configmap/kreg-state", ".data.state\\.json")
}

/// kreg's labelled objects of the exposure kinds, as `kind/name`.
fn exposure(tc: &TestCluster) -> Vec<String> {
    let out = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "services,ingresses,tlsroutes,httproutes",
        "-l",
        "app.kubernetes.io/managed-by=kreg",
        "-o",
        "name",
    ]);
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

fn service_type(tc: &TestCluster) -> String {
    tc.jsonpath(NS, "service/kreg-registry", ".spec.type")
}

fn node_port(tc: &TestCluster) -> String {
    tc.jsonpath(NS, "service/kreg-registry", ".spec.ports[0].nodePort")
}

fn fixtures(tc: &TestCluster) {
    tc.kcluster_ok(&["flavor", "kubeadm"]);
    tc.kcluster_ok(&["lb", "ip"]);
    tc.apply_json(&[serde_json::json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {
            "name": "kt-moves",
            "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
        },
        "spec": {"controller": "example.test/no-controller"},
    })]);
    tc.gateway_fixture(
        GW_NS,
        "kt-moves",
        serde_json::json!({
            "name": "tls", "protocol": "TLS", "port": 443,
            "tls": {"mode": "Passthrough"},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }),
    );
}

fn cleanup(tc: &TestCluster) {
    purge(tc, NS);
    tc.remove_namespace(GW_NS);
    let _ = tc.kubectl(&["delete", "ingressclass", "kt-moves", "--ignore-not-found"]);
    let _ = tc.kubectl(&["delete", "gatewayclass", "kt-moves", "--ignore-not-found"]);
    tc.kcluster_ok(&["flavor", "clear"]);
}

#[test]
fn exposure_transitions_leave_only_the_current_modes_objects() {
    let Some(tc) = require(Tier::Api) else { return };
    cleanup(&tc);
    fixtures(&tc);

    // 1. NodePort.
    let first = up_ok(&tc, &["--expose", "nodeport"]);
    let port = node_port(&tc);
    assert_eq!(service_type(&tc), "NodePort");
    assert_eq!(exposure(&tc), ["service/kreg-registry"]);
    assert!(
        first["registry"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}")),
        "{first}"
    );

    // 2. A name the CA cannot sign for: refused before anything changed.
    let before = record(&tc);
    let out = up(&tc, &["--expose", "ingress", "--host", "registry.try.test"]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "refused: {err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(
        service_type(&tc),
        "NodePort",
        "the Service was switched: {err}"
    );
    assert_eq!(node_port(&tc), port, "the NodePort was released");
    assert_eq!(record(&tc), before, "the state record changed");
    assert_eq!(exposure(&tc), ["service/kreg-registry"]);

    // The hint's last way, followed: the plain `kreg up` keeps the current name.
    assert!(
        err.contains("run `kreg up` without --host and --expose to keep the current name"),
        "{err}"
    );
    let kept = up_ok(&tc, &[]);
    assert_eq!(kept["registry"], first["registry"], "{kept}");
    assert_eq!(node_port(&tc), port);

    // 3. The hint, followed: a --host under a name the CA permits.
    let under = err
        .lines()
        .find_map(|l| l.split("choose a --host under ").nth(1))
        .and_then(|rest| rest.split([',', ' ', ';']).next())
        .unwrap_or_else(|| panic!("the hint names what the CA permits: {err}"))
        .to_string();
    let host = format!("registry-moves.{under}");
    let (r, said) = up_said(&tc, &["--expose", "ingress", "--host", &host]);
    assert_eq!(r["expose"], "ingress", "{r}");
    // The new name is said in the plan (no terminal here: the flags asked for it).
    let renamed = format!(
        "change: registry name: {} -> {host}",
        first["registry"].as_str().unwrap()
    );
    assert!(said.contains(&renamed), "{said}");
    assert_eq!(service_type(&tc), "ClusterIP");
    assert_eq!(
        exposure(&tc),
        [
            "ingress.networking.k8s.io/kreg-registry",
            "service/kreg-registry"
        ]
    );

    // 4. Gateway: the Ingress goes, the route comes.
    let gw_host = format!("registry-gw.{under}");
    up_ok(&tc, &["--expose", "gateway", "--host", &gw_host]);
    assert_eq!(
        exposure(&tc),
        [
            "service/kreg-registry",
            "tlsroute.gateway.networking.k8s.io/kreg-registry"
        ]
    );

    // 5. LoadBalancer: no route, no Ingress. The --host is kept (sticky), and with it the
    //    name on 443: no rename is said.
    let (lb, said) = up_said(&tc, &["--expose", "loadbalancer"]);
    assert_eq!(lb["registry"], gw_host.as_str(), "{lb}");
    assert!(!said.contains("registry name:"), "{said}");
    assert_eq!(service_type(&tc), "LoadBalancer");
    assert_eq!(exposure(&tc), ["service/kreg-registry"]);

    // 6. Back to NodePort: the same port as at first, so image references keep working.
    let last = up_ok(&tc, &["--expose", "nodeport"]);
    assert_eq!(service_type(&tc), "NodePort");
    assert_eq!(
        node_port(&tc),
        port,
        "the NodePort changed across the switches"
    );
    assert!(
        last["registry"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}")),
        "{last}"
    );
    assert_eq!(exposure(&tc), ["service/kreg-registry"]);
    // A plain `up` keeps every choice and the name, and says no rename.
    let (again, said) = up_said(&tc, &[]);
    assert_eq!(again["registry"], last["registry"], "{again}");
    assert!(!said.contains("registry name:"), "{said}");

    // 7. The refused name again, and the hint's other way followed: the same command with
    //    --rotate-ca works in one run (the new CA, made for the name, signs at once).
    let refused = ["--expose", "ingress", "--host", "registry.try.test"];
    let out = up(&tc, &refused);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "refused again: {err}");
    assert!(err.contains("add --rotate-ca to this command"), "{err}");
    let mut rotated = refused.to_vec();
    rotated.push("--rotate-ca");
    let r = up_ok(&tc, &rotated);
    assert_eq!(r["registry"], "registry.try.test", "{r}");
    let leaf = tc.secret_text(NS, "kreg-tls", "tls.crt");
    let next_ca = tc.secret_text(NS, "kreg-ca-next", "ca.crt");
    kreg::pki::verify_signed_by(&leaf, &next_ca).expect("the new CA signed the new name");
    assert_eq!(
        exposure(&tc),
        [
            "ingress.networking.k8s.io/kreg-registry",
            "service/kreg-registry"
        ]
    );

    // `down`: nothing labelled of a swept kind is left (the record stays, marked removed).
    let out = kreg(&tc, &["down", "-n", NS, "--yes", "--timeout", "60s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let left = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "services,deployments,daemonsets,ingresses,tlsroutes,httproutes,cronjobs,networkpolicies",
        "-l",
        "app.kubernetes.io/managed-by=kreg",
        "-o",
        "name",
    ]);
    assert!(left.trim().is_empty(), "down left: {left}");

    cleanup(&tc);
}

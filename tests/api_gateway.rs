//! `kreg up --expose gateway` against the API tier with the Gateway API CRDs installed
//! (`kcluster gateway-crds on`): the API server stores kreg's TLSRoute, or HTTPRoute and
//! BackendTLSPolicy, with the fields the chosen listener needs; `--dry-run` lists them; `down`
//! removes them; without the Gateway API, `up --expose gateway` refuses with nothing applied.
//! No Gateway controller runs here: nothing programs the Gateway or carries traffic, so these
//! tests prove what is stored, not that a push goes through a Gateway.
//! Run with --test-threads=1 (the CRDs and the Gateways are cluster-wide).

mod support;

use serde_json::Value;
use support::kreg::{kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

const HOST: &str = "registry.example.test";
const GW_NS: &str = "kt-gw-infra";

/// `kreg up --expose gateway` on the API tier (no node: --no-wait); JSON on stdout.
fn up_args<'a>(ns: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "up",
        "-n",
        ns,
        "--expose",
        "gateway",
        "--host",
        HOST,
        "--no-wait",
        "--yes",
        "-o",
        "json",
        "--timeout",
        "60s",
    ];
    args.extend_from_slice(extra);
    args
}

/// A GatewayClass and, in GW_NS, one Gateway with `listener` (routes admitted from every
/// namespace, as kreg's route lives in kreg's namespace).
fn gateway_fixture(tc: &TestCluster, listener: Value) {
    tc.gateway_fixture(GW_NS, "kt-gw", listener);
}

fn remove_gateways(tc: &TestCluster) {
    tc.remove_namespace(GW_NS);
}

fn get(tc: &TestCluster, ns: &str, what: &str) -> Value {
    serde_json::from_str(&tc.kubectl_ok(&["-n", ns, "get", what, "-o", "json"])).unwrap()
}

fn exists(tc: &TestCluster, ns: &str, what: &str) -> bool {
    tc.kubectl(&["-n", ns, "get", what]).status.success()
}

/// The parentRef every kreg route carries: the fixture's Gateway and the chosen listener.
fn assert_parent(route: &Value, listener: &str) {
    let parent = &route["spec"]["parentRefs"][0];
    assert_eq!(parent["kind"], "Gateway", "{route}");
    assert_eq!(parent["namespace"], GW_NS, "{route}");
    assert_eq!(parent["name"], "public", "{route}");
    assert_eq!(parent["sectionName"], listener, "{route}");
    assert_eq!(
        route["spec"]["hostnames"],
        serde_json::json!([HOST]),
        "{route}"
    );
    assert_eq!(
        route["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kreg",
        "{route}"
    );
}

fn backend(route: &Value) -> &Value {
    &route["spec"]["rules"][0]["backendRefs"][0]
}

/// The kinds and names `up --dry-run` lists.
fn dry_run_kinds(tc: &TestCluster, ns: &str) -> Vec<String> {
    let mut args = up_args(ns, &[]);
    args.push("--dry-run");
    let dry = kreg_json(tc, &args);
    dry["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_passthrough_listener_gets_a_tlsroute_to_the_registry() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-gw-pass";
    purge(&tc, ns);
    gateway_fixture(
        &tc,
        serde_json::json!({
            "name": "tls", "protocol": "TLS", "port": 443,
            "tls": {"mode": "Passthrough"},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }),
    );

    let listed = dry_run_kinds(&tc, ns);
    assert!(
        listed.contains(&"TLSRoute/kreg-registry".to_string()),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|k| k.starts_with("HTTPRoute/")),
        "{listed:?}"
    );
    assert!(
        !exists(&tc, ns, "tlsroute/kreg-registry"),
        "--dry-run applies nothing"
    );

    let r = kreg_json(&tc, &up_args(ns, &[]));
    assert_eq!(r["expose"], "gateway");
    assert_eq!(r["registry"], HOST);
    let route = get(&tc, ns, "tlsroute/kreg-registry");
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_parent(&route, "tls");
    assert_eq!(backend(&route)["name"], "kreg-registry", "{route}");
    assert_eq!(backend(&route)["port"], 443, "{route}");
    assert_eq!(
        tc.jsonpath(ns, "service/kreg-registry", ".spec.type"),
        "ClusterIP"
    );
    // The registry serves its own certificate through the passthrough: it must name the host.
    let leaf = kreg::pki::inspect(&tc.secret_text(ns, "kreg-tls", "tls.crt")).unwrap();
    assert!(
        leaf.dns_names.contains(&HOST.to_string()),
        "{:?}",
        leaf.dns_names
    );
    assert!(!exists(&tc, ns, "httproute/kreg-registry"));

    // A route someone edited (its backend pointed elsewhere) is put back by the next `up`,
    // which says what it restored.
    tc.kubectl_ok(&[
        "-n",
        ns,
        "patch",
        "tlsroute",
        "kreg-registry",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/rules/0/backendRefs/0/port","value":5000}]"#,
    ]);
    let out = kreg(&tc, &up_args(ns, &[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("TLSRoute/kreg-registry had been changed") && err.contains("restored"),
        "{err}"
    );
    assert_eq!(
        backend(&get(&tc, ns, "tlsroute/kreg-registry"))["port"],
        443
    );

    let out = kreg(&tc, &["down", "-n", ns, "--yes", "--timeout", "30s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !exists(&tc, ns, "tlsroute/kreg-registry"),
        "down removes kreg's route"
    );

    purge(&tc, ns);
    remove_gateways(&tc);
}

#[test]
fn an_https_listener_gets_an_httproute_and_a_backend_tls_policy() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-gw-https";
    purge(&tc, ns);
    gateway_fixture(
        &tc,
        serde_json::json!({
            "name": "https", "protocol": "HTTPS", "port": 443, "hostname": "*.example.test",
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "gw-cert"}]},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }),
    );

    let listed = dry_run_kinds(&tc, ns);
    for want in [
        "HTTPRoute/kreg-registry",
        "BackendTLSPolicy/kreg-registry",
        "ConfigMap/kreg-registry-ca",
    ] {
        assert!(listed.contains(&want.to_string()), "{want}: {listed:?}");
    }
    assert!(
        !listed.iter().any(|k| k.starts_with("TLSRoute/")),
        "{listed:?}"
    );

    let r = kreg_json(&tc, &up_args(ns, &["--gateway", "kt-gw-infra/public"]));
    assert_eq!(r["expose"], "gateway");
    let route = get(&tc, ns, "httproute/kreg-registry");
    assert_parent(&route, "https");
    assert_eq!(backend(&route)["name"], "kreg-registry", "{route}");
    assert_eq!(backend(&route)["port"], 443, "{route}");
    let timeouts = &route["spec"]["rules"][0]["timeouts"];
    assert_eq!(timeouts["request"], "0s", "{route}");
    assert_eq!(timeouts["backendRequest"], "0s", "{route}");

    let policy = get(&tc, ns, "backendtlspolicy/kreg-registry");
    assert_eq!(
        policy["spec"]["targetRefs"],
        serde_json::json!([{"group": "", "kind": "Service", "name": "kreg-registry"}]),
        "{policy}"
    );
    let validation = &policy["spec"]["validation"];
    assert_eq!(validation["hostname"], HOST, "{policy}");
    assert_eq!(
        validation["caCertificateRefs"][0]["kind"], "ConfigMap",
        "{policy}"
    );
    assert_eq!(
        validation["caCertificateRefs"][0]["name"], "kreg-registry-ca",
        "{policy}"
    );
    // The ConfigMap holds the CA the registry's certificate chains to.
    let ca = tc.jsonpath(ns, "configmap/kreg-registry-ca", ".data.ca\\.crt");
    assert_eq!(
        kreg::pki::cert_sha256(&ca).unwrap(),
        r["ca_sha256"].as_str().unwrap(),
        "the policy's CA is kreg's"
    );

    let out = kreg(&tc, &["down", "-n", ns, "--yes", "--timeout", "30s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for gone in [
        "httproute/kreg-registry",
        "backendtlspolicy/kreg-registry",
        "configmap/kreg-registry-ca",
    ] {
        assert!(!exists(&tc, ns, gone), "down removes {gone}");
    }

    purge(&tc, ns);
    remove_gateways(&tc);
}

#[test]
fn without_the_gateway_api_expose_gateway_refuses_and_applies_nothing() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-gw-none";
    purge(&tc, ns);
    remove_gateways(&tc);
    tc.kcluster_ok(&["gateway-crds", "off"]);

    let out = kreg(&tc, &up_args(ns, &[]));
    assert!(!out.status.success(), "up must refuse");
    let err = text(&out.stderr);
    assert!(err.contains("does not serve the Gateway API"), "{err}");
    assert!(
        err.contains("install the Gateway API CRDs"),
        "the hint: {err}"
    );
    assert!(
        !tc.kubectl(&["get", "namespace", ns]).status.success(),
        "nothing applied: no namespace {ns}"
    );
}

#[test]
fn an_ip_host_is_refused_before_anything_is_applied() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-gw-ip";
    purge(&tc, ns);
    gateway_fixture(
        &tc,
        serde_json::json!({
            "name": "tls", "protocol": "TLS", "port": 443,
            "tls": {"mode": "Passthrough"},
            "allowedRoutes": {"namespaces": {"from": "All"}},
        }),
    );
    // The upstream CRDs' CEL rule refuses an IP in a route's hostnames (and the API server one
    // in an Ingress rule): kreg says so first instead of failing halfway through.
    let mut args = up_args(ns, &[]);
    let host = args.iter().position(|a| *a == "--host").unwrap() + 1;
    args[host] = "10.213.0.9";
    let out = kreg(&tc, &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("is an IP address"), "{err}");
    assert!(
        !tc.kubectl(&["get", "namespace", ns]).status.success(),
        "nothing applied: no namespace {ns}"
    );
    remove_gateways(&tc);
}

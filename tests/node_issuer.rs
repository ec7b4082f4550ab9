//! `kreg up --issuer` with a real cert-manager controller (`kcluster cert-manager start`: the
//! cert-manager v1.21 library's control loops, no webhook): the standard bootstrap (a
//! self-signed ClusterIssuer signs a CA Certificate, a CA ClusterIssuer signs with it) makes
//! the issuer; kreg's Certificate is issued by it, both nodes' containerd trust its CA (each
//! pulls the probe image through its runtime), a workstation pushes trusting only that CA, a
//! Pod pulls; a wrong issuer changes nothing; `down` removes kreg's Certificate and leaves the
//! issuers.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::kreg::{host_of, kreg, kreg_json, resolve_on_node, run_hello, Workstation, KREG};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kreg-system";
/// kcluster's `--cluster-resource-namespace`: where a ClusterIssuer's Secret lives.
const CM_NS: &str = "cert-manager";
const ISSUER: &str = "kreg-test-ca";

fn sha(pem: &str) -> String {
    kreg::pki::cert_sha256(pem).unwrap()
}

/// Stops cert-manager (and deletes its CRDs with every object of theirs) when the test ends.
struct CertManager<'a>(&'a TestCluster);
impl Drop for CertManager<'_> {
    fn drop(&mut self) {
        let _ = self.0.kcluster(&["cert-manager", "stop"]);
    }
}

fn wait_ready(tc: &TestCluster, what: &[&str]) {
    let mut args = vec!["wait", "--for=condition=Ready", "--timeout=90s"];
    args.extend_from_slice(what);
    let out = tc.kubectl(&args);
    if !out.status.success() {
        let mut describe = vec!["describe"];
        describe.extend_from_slice(what);
        panic!(
            "{what:?} not Ready: {}\n{}\ncert-manager log: {}",
            text(&out.stderr),
            text(&tc.kubectl(&describe).stdout),
            std::fs::read_to_string(format!(
                "{}/logs/cert-manager.log",
                std::env::var("KREG_TEST_RUN").unwrap_or_default()
            ))
            .unwrap_or_default()
        );
    }
}

/// The standard CA bootstrap: self-signed ClusterIssuer -> CA Certificate (its Secret in the
/// cluster resource namespace) -> CA ClusterIssuer. Returns the CA certificate.
fn ca_issuer(tc: &TestCluster) -> String {
    tc.apply_json(&[
        json!({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
               "metadata": {"name": "kreg-test-selfsigned"}, "spec": {"selfSigned": {}}}),
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
               "metadata": {"name": "kreg-test-root", "namespace": CM_NS},
               "spec": {"isCA": true, "commonName": "kreg test root CA", "secretName": "kreg-test-root",
                        "duration": "8760h", "privateKey": {"algorithm": "ECDSA", "size": 256},
                        "issuerRef": {"name": "kreg-test-selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"}}}),
    ]);
    wait_ready(tc, &["-n", CM_NS, "certificate/kreg-test-root"]);
    tc.apply_json(&[
        json!({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": {"name": ISSUER}, "spec": {"ca": {"secretName": "kreg-test-root"}}}),
    ]);
    wait_ready(tc, &[&format!("clusterissuer/{ISSUER}")]);
    tc.secret_text(CM_NS, "kreg-test-root", "tls.crt")
}

fn uid_rv(tc: &TestCluster, what: &str) -> String {
    tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        what,
        "-o",
        "jsonpath={.metadata.uid}/{.metadata.resourceVersion}",
    ])
}

/// kreg's Certificate in `ns`, as JSON.
fn certificate(tc: &TestCluster, ns: &str) -> Value {
    let json = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "certificate",
        "kreg-registry",
        "-o",
        "json",
    ]);
    serde_json::from_str(&json).unwrap()
}

fn exists(tc: &TestCluster, args: &[&str]) -> bool {
    tc.kubectl(&[&["get"], args].concat()).status.success()
}

#[test]
fn a_cert_manager_issuer_signs_and_its_ca_is_what_nodes_and_workstations_trust() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    tc.remove_namespace(NS);
    // 0. Without cert-manager's API: refused before anything is written.
    tc.kcluster_ok(&["cert-manager", "stop"]);
    let out = kreg(
        &tc,
        &["up", "--yes", "--issuer", "ClusterIssuer/kreg-test-ca"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("does not serve cert-manager's API")
            && err.contains("install cert-manager first"),
        "{err}"
    );
    assert!(!exists(&tc, &["namespace", NS]), "up made its namespace");

    tc.kcluster_ok(&["cert-manager", "start"]);
    let _cm = CertManager(&tc);
    let ca = ca_issuer(&tc);

    // 1. A wrong issuer, before anything exists: a clear error, nothing made.
    let out = kreg(
        &tc,
        &["up", "--yes", "--issuer", "ClusterIssuer/no-such-ca"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("there is no ClusterIssuer/no-such-ca") && err.contains("nothing was changed"),
        "{err}"
    );
    assert!(err.contains("kubectl get clusterissuers"), "{err}");
    assert!(!exists(&tc, &["namespace", NS]), "up made its namespace");

    // The dry run shows the Certificate `up` would apply, and changes nothing.
    let issuer = format!("ClusterIssuer/{ISSUER}");
    let dry = kreg_json(&tc, &["up", "--dry-run", "-o", "json", "--issuer", &issuer]);
    let planned: Vec<&Value> = dry["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "Certificate")
        .collect();
    assert_eq!(planned.len(), 1, "{dry}");
    assert_eq!(planned[0]["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    assert!(
        !exists(&tc, &["namespace", NS]),
        "the dry run made the namespace"
    );

    // 2. up --issuer: healthy means every node pulled the probe image through containerd,
    //    trusting the issuer's CA that kreg read from the Secret cert-manager wrote.
    let nodes = tc.node_count();
    assert!(nodes >= 2, "the node tier has two nodes");
    let up = kreg_json(
        &tc,
        &[
            "up",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "5m",
            "--issuer",
            &format!("ClusterIssuer/{ISSUER}"),
        ],
    );
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_trusted"], nodes, "{up}");
    assert_eq!(up["issuer"], format!("ClusterIssuer/{ISSUER}"), "{up}");
    assert_eq!(up["ca_sha256"], sha(&ca).as_str(), "{up}");
    assert!(
        up["changed"]
            .as_array()
            .unwrap()
            .contains(&json!("Certificate/kreg-registry")),
        "{up}"
    );
    let registry = up["registry"].as_str().unwrap().to_string();
    let ip = up["address"].as_str().unwrap().to_string();
    let cert = certificate(&tc, NS);
    assert_eq!(cert["spec"]["issuerRef"]["name"], ISSUER);
    assert_eq!(cert["spec"]["secretName"], "kreg-tls");
    assert_eq!(
        cert["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kreg"
    );
    let leaf = tc.secret_text(NS, "kreg-tls", "tls.crt");
    kreg::pki::verify_signed_by(&leaf, &ca).expect("the serving certificate is the issuer's");
    assert_eq!(sha(&tc.secret_text(NS, "kreg-tls", "ca.crt")), sha(&ca));
    assert!(
        !exists(&tc, &["-n", NS, "secret", "kreg-ca"]),
        "kreg made a CA of its own"
    );
    for (file, pem) in tc.node_trust_files(&registry) {
        assert_eq!(sha(&pem), sha(&ca), "{file} is not the issuer's CA");
    }
    let status = kreg_json(&tc, &["status", "-o", "json"]);
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(
        status["issuer"],
        format!("ClusterIssuer/{ISSUER}"),
        "{status}"
    );

    // 3. Sticky: a plain `up` keeps the issuer and rewrites nothing.
    let again = kreg_json(&tc, &["up", "--yes", "-o", "json", "--timeout", "3m"]);
    assert_eq!(
        again["issuer"],
        format!("ClusterIssuer/{ISSUER}"),
        "{again}"
    );
    assert_eq!(again["changed"], json!([]), "{again}");

    // 4. Another issuer on the installed registry: refused before any write.
    let (state, certificate) = (
        uid_rv(&tc, "configmap/kreg-state"),
        uid_rv(&tc, "certificate/kreg-registry"),
    );
    let out = kreg(
        &tc,
        &["up", "--yes", "--issuer", "ClusterIssuer/no-such-ca"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nothing was changed") && err.contains("kreg down"),
        "{err}"
    );
    assert_eq!(uid_rv(&tc, "configmap/kreg-state"), state);
    assert_eq!(uid_rv(&tc, "certificate/kreg-registry"), certificate);

    // 5. The workstation: trust-local installs the issuer's CA; a push trusting nothing but
    //    the Secret's ca.crt works, one trusting another CA does not.
    let ws = Workstation::new();
    ws.add_host(&ip, host_of(&registry));
    resolve_on_node(&tc, &ip, &registry);
    let out = ws.sh(&format!(
        "{KREG} trust-local --yes --kubeconfig {}",
        tc.kubeconfig.display()
    ));
    assert!(out.status.success(), "trust-local: {}", text(&out.stderr));
    let installed = ws
        .etc()
        .join("containers/certs.d")
        .join(&registry)
        .join("ca.crt");
    assert_eq!(sha(&std::fs::read_to_string(installed).unwrap()), sha(&ca));
    let hello = tc.hello_image.clone().unwrap();
    let push = |certs: &Path, tag: &str| {
        ws.sh(&format!(
            "skopeo copy --quiet --dest-cert-dir {} oci-archive:{} docker://{registry}/hello:{tag}",
            certs.display(),
            hello.display()
        ))
    };
    let dir = tempfile::tempdir().unwrap();
    let only = dir.path().join("issuer");
    std::fs::create_dir(&only).unwrap();
    std::fs::write(
        only.join("ca.crt"),
        tc.secret_text(NS, "kreg-tls", "ca.crt"),
    )
    .unwrap();
    let out = push(&only, "1");
    assert!(
        out.status.success(),
        "push trusting the issuer's CA: {}",
        text(&out.stderr)
    );
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let theirs = kreg::pki::generate_ca(
        time::OffsetDateTime::now_utc(),
        &kreg::pki::ca_scope(None, Some(host_of(&registry)), NS, &[]),
    )
    .unwrap();
    std::fs::write(other.join("ca.crt"), theirs.cert_pem).unwrap();
    let out = push(&other, "2");
    assert!(!out.status.success(), "a push trusting another CA worked");

    // 6. A Pod from the registry: the node's containerd pulls trusting the issuer's CA.
    run_hello(&tc, "hello-issuer", &format!("{registry}/hello:1"));

    // 7. down removes kreg's Certificate (and its Secret), never the issuers.
    let out = kreg(&tc, &["down", "--yes", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let down: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        down["removed"]
            .as_array()
            .unwrap()
            .contains(&json!("Certificate/kreg-registry")),
        "{down}"
    );
    assert!(
        !exists(&tc, &["-n", NS, "certificate", "kreg-registry"]),
        "the Certificate stayed"
    );
    assert!(
        !exists(&tc, &["-n", NS, "secret", "kreg-tls"]),
        "the serving certificate stayed"
    );
    for issuer in [ISSUER, "kreg-test-selfsigned"] {
        assert!(
            exists(&tc, &["clusterissuer", issuer]),
            "down removed ClusterIssuer {issuer}"
        );
    }
    assert!(exists(&tc, &["-n", CM_NS, "certificate", "kreg-test-root"]));

    let _ = tc.kubectl(&["delete", "pod", "hello-issuer", "--wait=false"]);
    let out = kreg(&tc, &["down", "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    tc.remove_namespace(NS);
}

/// A namespaced `Issuer` in kreg's namespace (as a tenant without cluster rights has): its CA,
/// kept in a Secret of that namespace, is what kreg reads, the nodes' containerd trust (each
/// pulls the probe through its runtime) and `status` names; `down` removes kreg's Certificate
/// and leaves the Issuer and its CA.
#[test]
fn a_namespaced_issuer_signs_in_kregs_namespace() {
    const TENANT: &str = "kt-issuer";
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["-n", TENANT, "down", "--purge", "--yes"]);
    tc.remove_namespace(TENANT);
    tc.kcluster_ok(&["cert-manager", "start"]);
    let _cm = CertManager(&tc);
    tc.kubectl_ok(&["create", "namespace", TENANT]);
    tc.apply_json(&[
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
               "metadata": {"name": "kt-selfsigned", "namespace": TENANT}, "spec": {"selfSigned": {}}}),
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
               "metadata": {"name": "kt-root", "namespace": TENANT},
               "spec": {"isCA": true, "commonName": "kreg tenant CA", "secretName": "kt-root",
                        "duration": "8760h", "privateKey": {"algorithm": "ECDSA", "size": 256},
                        "issuerRef": {"name": "kt-selfsigned", "kind": "Issuer", "group": "cert-manager.io"}}}),
    ]);
    wait_ready(&tc, &["-n", TENANT, "certificate/kt-root"]);
    tc.apply_json(&[json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": {"name": "kt-ca", "namespace": TENANT}, "spec": {"ca": {"secretName": "kt-root"}}})]);
    wait_ready(&tc, &["-n", TENANT, "issuer/kt-ca"]);
    let ca = tc.secret_text(TENANT, "kt-root", "tls.crt");

    let nodes = tc.node_count();
    let up = kreg_json(
        &tc,
        &[
            "up",
            "-n",
            TENANT,
            "--yes",
            "-o",
            "json",
            "--timeout",
            "5m",
            "--issuer",
            "Issuer/kt-ca",
        ],
    );
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_trusted"], nodes, "{up}");
    assert_eq!(up["issuer"], "Issuer/kt-ca", "{up}");
    assert_eq!(up["ca_sha256"], sha(&ca).as_str(), "{up}");
    let cert = certificate(&tc, TENANT);
    assert_eq!(cert["spec"]["issuerRef"]["kind"], "Issuer", "{cert}");
    assert_eq!(cert["spec"]["issuerRef"]["name"], "kt-ca", "{cert}");
    let leaf = tc.secret_text(TENANT, "kreg-tls", "tls.crt");
    kreg::pki::verify_signed_by(&leaf, &ca).expect("the serving certificate is the Issuer's");
    let registry = up["registry"].as_str().unwrap().to_string();
    for (file, pem) in tc.node_trust_files(&registry) {
        assert_eq!(sha(&pem), sha(&ca), "{file} is not the Issuer's CA");
    }
    let status = kreg_json(&tc, &["-n", TENANT, "status", "-o", "json"]);
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(status["issuer"], "Issuer/kt-ca", "{status}");

    let out = kreg(&tc, &["-n", TENANT, "down", "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for what in ["certificate/kreg-registry", "secret/kreg-tls"] {
        assert!(!exists(&tc, &["-n", TENANT, what]), "down left {what}");
    }
    for what in ["issuer/kt-ca", "issuer/kt-selfsigned", "secret/kt-root"] {
        assert!(exists(&tc, &["-n", TENANT, what]), "down removed {what}");
    }
    assert!(
        exists(&tc, &["namespace", TENANT]),
        "down --purge deleted the namespace kreg did not create"
    );
    tc.remove_namespace(TENANT);
}

//! Bring your own CA on the node tier: a CA made with OpenSSL (RSA, as many company PKIs
//! still issue) and stored the way a user stores one (`kubectl create secret tls`) is what
//! `kreg up --ca-secret` signs the registry's certificate with, what both nodes' containerd
//! trust (each pulls the probe image through its runtime), and the only CA a workstation needs
//! to push; `down --purge` leaves the user's Secret.

mod support;

use std::path::Path;
use std::process::Command;

use support::kreg::{host_of, kreg, kreg_json, resolve_on_node, run_hello, Workstation, KREG};
use support::pull::Pullers;
use support::{require, text, Tier};

const NS: &str = "kreg-system";

/// An OpenSSL CA: `(certificate path, certificate PEM)`; the key is next to it.
fn openssl_ca(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
        ])
        .args(["-subj", &format!("/CN={name}/O=Example Corp")])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl: {}", text(&out.stderr));
    let pem = std::fs::read_to_string(&crt).unwrap();
    (crt, pem)
}

fn sha(pem: &str) -> String {
    kreg::pki::cert_sha256(pem).unwrap()
}

/// The file holds exactly one certificate, the user's CA.
fn only_the_users_ca(what: &str, pem: &str, ca: &str) {
    assert_eq!(
        pem.matches("BEGIN CERTIFICATE").count(),
        1,
        "{what} holds more than one certificate:\n{pem}"
    );
    assert!(!pem.contains("PRIVATE KEY"), "{what} holds a key");
    assert_eq!(sha(pem), sha(ca), "{what} is not the user's CA");
}

fn identity(tc: &support::TestCluster, name: &str) -> String {
    tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "secret",
        name,
        "-o",
        "jsonpath={.metadata.uid}/{.metadata.resourceVersion}",
    ])
}

#[test]
fn the_users_ca_is_what_nodes_and_workstations_trust() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    let _ = tc.kubectl(&[
        "delete",
        "namespace",
        NS,
        "--ignore-not-found",
        "--timeout=120s",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, ca) = openssl_ca(dir.path(), "corp-dev-ca");
    let key_file = dir.path().join("corp-dev-ca.key");
    tc.kubectl_ok(&["create", "namespace", NS]);
    tc.kubectl_ok(&[
        "-n",
        NS,
        "create",
        "secret",
        "tls",
        "corp-ca",
        "--cert",
        ca_file.to_str().unwrap(),
        "--key",
        key_file.to_str().unwrap(),
    ]);
    let theirs = identity(&tc, "corp-ca");

    // 1. up: healthy means every node pulled the probe image through containerd, trusting the
    //    certificate the user's CA signed.
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
            "--ca-secret",
            "corp-ca",
        ],
    );
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_total"], nodes, "{up}");
    assert_eq!(up["nodes_trusted"], nodes, "{up}");
    assert_eq!(up["ca_secret"], "corp-ca");
    assert_eq!(up["ca_sha256"], sha(&ca).as_str());
    let registry = up["registry"].as_str().unwrap().to_string();
    let ip = up["address"].as_str().unwrap().to_string();
    let leaf = tc.secret_text(NS, "kreg-tls", "tls.crt");
    kreg::pki::verify_signed_by(&leaf, &ca)
        .expect("the serving certificate chains to the user's CA");
    assert!(
        tc.kubectl(&["-n", NS, "get", "secret", "kreg-ca"])
            .status
            .code()
            != Some(0),
        "kreg made a CA of its own"
    );
    for (file, pem) in tc.node_trust_files(&registry) {
        only_the_users_ca(&file, &pem, &ca);
    }

    // 2. The workstation: trust-local installs the user's CA, and a push trusting nothing but
    //    the user's own CA file works; with another CA it does not (the check is real).
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
    only_the_users_ca(
        "trust-local's file",
        &std::fs::read_to_string(installed).unwrap(),
        &ca,
    );
    let hello = tc.hello_image.clone().unwrap();
    let push = |certs: &Path, tag: &str| {
        ws.sh(&format!(
            "skopeo copy --quiet --dest-cert-dir {} oci-archive:{} docker://{registry}/hello:{tag}",
            certs.display(),
            hello.display()
        ))
    };
    let users = dir.path().join("users");
    std::fs::create_dir(&users).unwrap();
    std::fs::copy(&ca_file, users.join("ca.crt")).unwrap();
    let out = push(&users, "1");
    assert!(
        out.status.success(),
        "push trusting the user's CA: {}",
        text(&out.stderr)
    );
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, other_ca) = openssl_ca(dir.path(), "someone-else");
    std::fs::write(other.join("ca.crt"), other_ca).unwrap();
    let out = push(&other, "2");
    let err = text(&out.stderr);
    assert!(!out.status.success(), "a push trusting another CA worked");
    assert!(err.contains("x509") || err.contains("certificate"), "{err}");

    // 3. A Pod from the registry: the node's containerd pulls with the user's CA.
    run_hello(&tc, "hello-corp", &format!("{registry}/hello:1"));

    // 4. down --purge removes kreg's objects and leaves the user's CA (and the namespace the
    //    user made).
    let out = kreg(&tc, &["down", "--purge", "--yes", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        identity(&tc, "corp-ca"),
        theirs,
        "down --purge touched the user's CA"
    );
    let kept = text(&out.stdout);
    assert!(kept.contains("Secret/corp-ca (your CA"), "{kept}");
    assert!(
        tc.kubectl(&["-n", NS, "get", "secret", "kreg-tls"])
            .status
            .code()
            != Some(0),
        "the serving certificate stayed"
    );
    tc.kubectl_ok(&["delete", "namespace", NS, "--timeout=120s"]);
}

/// "Rotation works the same": `up --ca-secret corp-ca --rotate-ca` moves a registry from
/// kreg's own CA to the user's with both nodes pulling through containerd all along, and not
/// one pull failing on the certificate (nodes trust both CAs before the registry switches).
#[test]
fn a_rotation_to_the_users_ca_keeps_every_node_pulling() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _restore = support::HelloBack(&tc);
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    let up = |extra: &[&str]| {
        let mut args = vec!["up", "--yes", "-o", "json", "--timeout", "6m"];
        args.extend_from_slice(extra);
        kreg_json(&tc, &args)
    };
    let first = up(&[]);
    let own_sha = first["ca_sha256"].as_str().unwrap().to_string();
    let registry = first["registry"].as_str().unwrap().to_string();
    let ip = first["address"].as_str().unwrap().to_string();
    let ws = Workstation::new();
    ws.add_host(&ip, host_of(&registry));
    resolve_on_node(&tc, &ip, &registry);
    let push = ws.trust_and_push(&tc, &registry);
    assert!(push.status.success(), "push: {}", text(&push.stderr));
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, ca) = openssl_ca(dir.path(), "corp-dev-ca");
    let key_file = dir.path().join("corp-dev-ca.key");
    tc.kubectl_ok(&[
        "-n",
        NS,
        "create",
        "secret",
        "tls",
        "corp-ca",
        "--cert",
        ca_file.to_str().unwrap(),
        "--key",
        key_file.to_str().unwrap(),
    ]);
    let theirs = identity(&tc, "corp-ca");

    let pullers = Pullers::start(&tc, &format!("{registry}/hello:1"));
    let out = kreg(
        &tc,
        &[
            "up",
            "--ca-secret",
            "corp-ca",
            "--rotate-ca",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "6m",
        ],
    );
    std::thread::sleep(std::time::Duration::from_secs(5));
    let (pulls, x509, restart) = pullers.stop();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "up --rotate-ca failed:\n{stderr}");
    eprintln!(
        "pulls during the switch to the user's CA: {pulls:?} ok; {} refused while the registry pod was replaced; {} x509",
        restart.len(),
        x509.len()
    );
    assert!(
        x509.is_empty(),
        "{} pulls failed on the certificate (first: {:?}); up said:\n{stderr}",
        x509.len(),
        x509.first()
    );
    assert!(pulls.iter().all(|n| *n > 0), "every node pulled: {pulls:?}");

    // Serving under the user's CA; both still handed out until the next `up`.
    let rotated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rotated["ca_secret"], "corp-ca", "{rotated}");
    assert_eq!(rotated["ca_sha256"], sha(&ca).as_str());
    let leaf = tc.secret_text(NS, "kreg-tls", "tls.crt");
    kreg::pki::verify_signed_by(&leaf, &ca).unwrap();
    for (file, pem) in tc.node_trust_files(&registry) {
        assert!(kreg::pki::bundle_has_key_of(&pem, &ca).unwrap(), "{file}");
    }
    // The next `up` hands out the user's CA alone, and the nodes still pull.
    let after = up(&[]);
    assert_eq!(after["ca_secret"], "corp-ca");
    only_the_users_ca("up's ca_pem", after["ca_pem"].as_str().unwrap(), &ca);
    assert_ne!(after["ca_sha256"], own_sha.as_str());
    run_hello(&tc, "hello-rotated", &format!("{registry}/hello:1"));

    let out = kreg(&tc, &["down", "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        identity(&tc, "corp-ca"),
        theirs,
        "down --purge touched the user's CA"
    );
    tc.kubectl_ok(&["delete", "namespace", NS, "--timeout=120s"]);
}

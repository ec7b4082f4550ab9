//! CA custody on the node tier: `kreg up --rotate-ca` while every node keeps pulling from the
//! registry through its own containerd (CRI, with the hosts.toml and CA kreg's node agent
//! wrote). Not one pull may fail with x509: nodes get the old and the new CA together before
//! the registry's certificate switches.

mod support;

use std::time::Duration;

use kreg::node::cri::Cri;
use serde_json::Value;
use support::kreg::{host_of, kreg, kreg_json, resolve_on_node, Workstation};
use support::pull::Pullers;
use support::{require, text, Tier};

fn up(tc: &support::TestCluster, extra: &[&str]) -> Value {
    let mut args = vec!["up", "--yes", "-o", "json", "--timeout", "6m"];
    args.extend_from_slice(extra);
    kreg_json(tc, &args)
}

fn secret_exists(tc: &support::TestCluster, name: &str) -> bool {
    tc.kubectl(&["-n", "kreg-system", "get", "secret", name])
        .status
        .success()
}

#[test]
fn rotate_ca_keeps_every_node_pulling() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    // The pull loop removes the pushed hello image from the nodes, and with it the harness's
    // copy (same image): it goes back when this test ends.
    let _restore = support::HelloBack(&tc);
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    let first = up(&tc, &[]);
    let registry = first["registry"].as_str().unwrap().to_string();
    let ip = first["address"].as_str().unwrap();
    let ws = Workstation::new();
    ws.add_host(ip, host_of(&registry));
    resolve_on_node(&tc, ip, &registry);
    let push = ws.trust_and_push(&tc, &registry);
    assert!(push.status.success(), "push: {}", text(&push.stderr));
    let image = format!("{registry}/hello:1");

    // Every node pulls the image again and again through its runtime while the CA rotates.
    let pullers = Pullers::start(&tc, &image);

    let out = kreg(
        &tc,
        &[
            "up",
            "--rotate-ca",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "6m",
        ],
    );
    let stderr = text(&out.stderr);
    // A few more pulls under the new certificate.
    std::thread::sleep(Duration::from_secs(5));
    let (pulls, x509, restart) = pullers.stop();
    assert!(out.status.success(), "up --rotate-ca failed:\n{stderr}");
    let rotated: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The point is the x509 window: no pull may fail on the certificate. The registry pod is
    // replaced when its serving certificate changes (Distribution reads it at start), so pulls
    // in that moment are refused at the TCP level: counted and said, not a trust failure.
    eprintln!(
        "pulls during the rotation: {pulls:?} ok; {} refused while the registry pod was replaced; {} x509",
        restart.len(),
        x509.len()
    );
    assert!(
        x509.is_empty(),
        "{} pulls failed on the certificate during the rotation (first: {:?}); up said:\n{stderr}",
        x509.len(),
        x509.first()
    );
    assert!(pulls.iter().all(|n| *n > 0), "every node pulled: {pulls:?}");
    // And after it, under the new certificate, every node pulls.
    for node in &tc.nodes {
        let sock = node.containerd_sock.clone().expect("node socket");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let pulled = rt.block_on(async {
            let cri = Cri::new(&sock);
            let _ = cri.remove(&image).await;
            cri.pull(&image, None, Duration::from_secs(60)).await
        });
        assert!(
            pulled.is_ok(),
            "{} after the rotation: {pulled:?}",
            node.name
        );
    }

    // The registry serves under the new CA; the old one stays trusted until the next `up`.
    assert_ne!(rotated["ca_sha256"], first["ca_sha256"], "{rotated}");
    let handed_out = kreg::pki::check_kreg_ca(
        rotated["ca_pem"].as_str().unwrap(),
        host_of(&registry),
        time::OffsetDateTime::now_utc(),
        false,
    )
    .unwrap();
    assert_eq!(
        handed_out,
        [
            first["ca_sha256"].as_str().unwrap(),
            rotated["ca_sha256"].as_str().unwrap()
        ],
        "clients get the old and the new CA, in that order"
    );
    assert!(!secret_exists(&tc, "kreg-ca-next"), "rotation finished");
    assert!(secret_exists(&tc, "kreg-ca-previous"));
    let leaf = tc.secret_text("kreg-system", "kreg-tls", "tls.crt");
    let new_pem = tc.secret_text("kreg-system", "kreg-ca", "ca.crt");
    kreg::pki::verify_signed_by(&leaf, &new_pem).unwrap();
    assert_eq!(
        kreg::pki::cert_sha256(&new_pem).unwrap(),
        rotated["ca_sha256"].as_str().unwrap()
    );
    assert!(
        kreg::pki::ca_scope_of(&new_pem).unwrap().is_some(),
        "the new CA is name-constrained"
    );

    // The next `up` stops handing out the old CA; pulls still work.
    let after = up(&tc, &[]);
    assert!(!secret_exists(&tc, "kreg-ca-previous"));
    assert_eq!(
        kreg::pki::check_kreg_ca(
            after["ca_pem"].as_str().unwrap(),
            host_of(&registry),
            time::OffsetDateTime::now_utc(),
            false,
        )
        .unwrap()
        .len(),
        1
    );
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

#[test]
fn trust_local_installs_only_kregs_ca_and_system_needs_a_check() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    // No node needs to trust anything here: this is about the workstation.
    let first = up(&tc, &["--no-node-trust"]);
    let registry = first["registry"].as_str().unwrap().to_string();
    let sha = first["ca_sha256"].as_str().unwrap().to_string();
    let ws = Workstation::new();
    let kc = tc.kubeconfig.display().to_string();
    let k = support::kreg::KREG;
    let docker_ca = format!("/etc/docker/certs.d/{registry}/ca.crt");
    // The system store lives under /usr on Debian: a private one in the workstation's mounts.
    let store = tempfile::tempdir().unwrap();
    let k = format!(
        "mount --bind {} /usr/local/share/ca-certificates && {k}",
        store.path().display()
    );

    // --system without a terminal and without --ca-sha256: refused, nothing written.
    let out = ws.sh(&format!(
        "{k} trust-local --system --yes --kubeconfig {kc} </dev/null; echo rc=$?; test -e {docker_ca} && echo written"
    ));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("rc=") && !stdout.contains("rc=0") && !stdout.contains("written"),
        "{stdout}{stderr}"
    );
    assert!(
        stderr.contains("error:") && stderr.contains("hint:") && stderr.contains(&sha),
        "{stderr}"
    );
    // The wrong fingerprint: refused.
    let wrong = "00".repeat(32);
    let out = ws.sh(&format!(
        "{k} trust-local --system --ca-sha256 {wrong} --kubeconfig {kc}; echo rc=$?; test -e {docker_ca} && echo written"
    ));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rc=") && !stdout.contains("rc=0") && !stdout.contains("written"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
    // The right one: installed, and its SHA-256 printed.
    let out = ws.sh(&format!(
        "{k} trust-local --system --ca-sha256 {} --kubeconfig {kc} && test -e {docker_ca} && echo written",
        sha.to_uppercase()
    ));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("written") && stdout.contains(&format!("CA sha256: {sha}")),
        "{stdout}{}",
        text(&out.stderr)
    );
    let stored = std::fs::read_dir(store.path()).unwrap().count();
    assert_eq!(stored, 1, "the CA in the (private) system store");

    // Someone puts another certificate into the state ConfigMap: trust-local refuses it.
    let leaf = tc.secret_text("kreg-system", "kreg-tls", "tls.crt");
    let record = tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "get",
        "configmap",
        "kreg-state",
        "-o",
        "jsonpath={.data.state\\.json}",
    ]);
    let mut record: Value = serde_json::from_str(&record).unwrap();
    assert!(record["caPem"].is_string(), "the record's field: {record}");
    record["caPem"] = leaf.clone().into();
    let patch =
        serde_json::json!({"data": {"ca.crt": leaf, "state.json": record.to_string()}}).to_string();
    tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "patch",
        "configmap",
        "kreg-state",
        "--type=merge",
        "-p",
        &patch,
    ]);
    let ws2 = Workstation::new();
    let k = support::kreg::KREG;
    let out = ws2.sh(&format!(
        "{k} trust-local --yes --kubeconfig {kc}; echo rc=$?; test -e {docker_ca} && echo written"
    ));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rc=") && !stdout.contains("rc=0") && !stdout.contains("written"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("not kreg's CA"),
        "{}",
        text(&out.stderr)
    );
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

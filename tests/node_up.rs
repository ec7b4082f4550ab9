//! The whole promise on the node tier: `kreg up` on a real kubelet + containerd node, workstation
//! trust with `kreg trust-local`, a push over TLS with skopeo (no --tls-verify=false anywhere),
//! a Pod pulled by the node's containerd with kreg's CA, and `kreg down` taking the trust away.
//!
//! The "workstation" is this machine in a private mount namespace whose /etc is a copy, so
//! trust-local's writes to /etc/docker and /etc/containers never touch the machine's own /etc.
//! There is no DNS here: the nip.io name is added to that copy's hosts file and to the node's.

mod support;

use support::kreg::{
    host_of, kreg, kreg_json, pull_error, resolve_on_node, run_hello, Workstation, KREG,
};
use support::{require, text, Tier};

#[test]
fn up_push_run_down() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ws = Workstation::new();
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);

    // 1. up: healthy, every node (two, on containerd 1.6 and 1.7) trusts the CA.
    let nodes = tc.node_count();
    assert!(nodes >= 2, "the node tier has two nodes: {:?}", tc.nodes);
    let up = kreg_json(&tc, &["up", "--yes", "-o", "json", "--timeout", "4m"]);
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["expose"], "nodeport");
    assert_eq!(up["nodes_total"], nodes, "{up}");
    assert_eq!(up["nodes_trusted"], nodes, "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    let node_ip = up["address"].as_str().unwrap().to_string();
    assert_eq!(host_of(&registry), format!("registry.{node_ip}.nip.io"));

    // Every node's containerd got hosts.toml and ca.crt in its own config_path.
    let node_dirs: Vec<_> = tc
        .nodes
        .iter()
        .map(|n| n.etc().join("containerd/certs.d").join(&registry))
        .collect();
    for dir in &node_dirs {
        let node_ca = std::fs::read_to_string(dir.join("ca.crt"))
            .unwrap_or_else(|e| panic!("node trust wrote {}/ca.crt: {e}", dir.display()));
        assert_eq!(node_ca, up["ca_pem"].as_str().unwrap());
        let hosts_toml = std::fs::read_to_string(dir.join("hosts.toml")).unwrap();
        assert!(
            hosts_toml.contains(&format!("https://{registry}")),
            "{hosts_toml}"
        );
    }
    let node_dir = node_dirs[0].clone();

    // 2. status agrees and exits 0.
    let status = kreg_json(&tc, &["status", "-o", "json"]);
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(status["ca_sha256"], up["ca_sha256"]);
    assert_eq!(status["nodes_trusted"], nodes, "{status}");
    assert!(status["cert_not_after"].as_str().unwrap().starts_with('2'));

    ws.add_host(&node_ip, host_of(&registry));
    resolve_on_node(&tc, &node_ip, &registry);

    // 3. The CA from `status -o json` is all a CI client needs: a push trusting only it.
    let certs = tempfile::tempdir().unwrap();
    std::fs::write(
        certs.path().join("ca.crt"),
        status["ca_pem"].as_str().unwrap(),
    )
    .unwrap();
    let hello = tc.hello_image.clone().unwrap();
    let out = ws.sh(&format!(
        "skopeo copy --quiet --dest-cert-dir {} oci-archive:{} docker://{registry}/hello:0",
        certs.path().display(),
        hello.display()
    ));
    assert!(
        out.status.success(),
        "push with the status CA failed: {}",
        text(&out.stderr)
    );

    // 4. Node trust keeps itself: files deleted on the node come back when its pod restarts
    //    (the pod also re-checks every 60 s).
    std::fs::remove_file(node_dir.join("ca.crt")).unwrap();
    std::fs::remove_file(node_dir.join("hosts.toml")).unwrap();
    tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "delete",
        "pod",
        "-l",
        "app.kubernetes.io/name=kreg-node-trust",
        "--wait=false",
    ]);
    let back = (0..90).any(|_| {
        std::thread::sleep(std::time::Duration::from_secs(1));
        node_dir.join("ca.crt").exists() && node_dir.join("hosts.toml").exists()
    });
    assert!(back, "node trust did not restore the deleted files");

    // 5. Workstation trust, then a push over TLS.
    let kc = tc.kubeconfig.display().to_string();
    let out = ws.trust_and_push(&tc, &registry);
    assert!(
        out.status.success(),
        "trust-local + skopeo copy failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let ws_ca = ws
        .etc()
        .join("containers/certs.d")
        .join(&registry)
        .join("ca.crt");
    assert_eq!(
        std::fs::read_to_string(&ws_ca).unwrap(),
        up["ca_pem"].as_str().unwrap()
    );
    // Re-running trust-local is a no-op.
    let again = ws.sh(&format!(
        "{} trust-local --yes --kubeconfig {kc}",
        env!("CARGO_BIN_EXE_kreg")
    ));
    assert!(
        text(&again.stderr).contains("already trusted"),
        "{}",
        text(&again.stderr)
    );

    // 6. A Pod from the registry: the node's containerd pulls over TLS with kreg's CA.
    run_hello(&tc, "hello", &format!("{registry}/hello:1"));

    // 7. down: every node's trust files are gone; the CA and the images stay.
    let out = kreg(&tc, &["down", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for dir in &node_dirs {
        assert!(
            !dir.join("hosts.toml").exists() && !dir.join("ca.crt").exists(),
            "down must remove the trust of every node: {} is left",
            dir.display()
        );
    }

    // 8. up again without node trust: the same CA, the image is still there...
    let back = kreg_json(
        &tc,
        &[
            "up",
            "--yes",
            "-o",
            "json",
            "--no-node-trust",
            "--timeout",
            "4m",
        ],
    );
    assert_eq!(back["ca_sha256"], up["ca_sha256"]);
    let registry2 = back["registry"].as_str().unwrap().to_string();
    let out = ws.sh(&format!("{KREG} trust-local --yes --kubeconfig {kc} && skopeo inspect --raw docker://{registry2}/hello:1"));
    assert!(
        out.status.success(),
        "the image must survive down/up:\n{}",
        text(&out.stderr)
    );

    // ...and the nodes, which no longer trust the CA, fail to pull with an x509 error:
    // the trust kreg installed was what made the pull work.
    for node in &tc.nodes {
        let _ = tc.exec_node_on(
            &node.name,
            &[
                "ctr",
                "-n",
                "k8s.io",
                "images",
                "rm",
                &format!("{registry2}/hello:1"),
            ],
        );
    }
    let _ = tc.kubectl(&["delete", "pod", "hello2", "--ignore-not-found", "--wait"]);
    tc.kubectl_ok(&[
        "run",
        "hello2",
        "--image",
        &format!("{registry2}/hello:1"),
        "--restart=Never",
        "--image-pull-policy=Always",
    ]);
    let err = pull_error(&tc, "hello2");
    assert!(
        err.contains("x509") || err.contains("certificate signed by unknown authority"),
        "{err}"
    );
    tc.kubectl_ok(&["delete", "pod", "hello2", "--wait=false"]);

    let out = kreg(&tc, &["down", "--yes", "--purge"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

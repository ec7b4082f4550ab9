//! The zero-TLS mode people use today, done by kreg: `--expose localhost` serves plain HTTP on a
//! NodePort that every node's containerd pulls from as `localhost:<port>`; `kreg port-forward`
//! makes the same reference work for pushes from this machine. Nodes reach it through the
//! Service's ClusterIP, so it also works where kube-proxy answers no NodePort on 127.0.0.1
//! (nftables and IPVS modes): the test turns that off on every node and pulls again.

mod support;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::kreg::{kreg, kreg_json, run_hello, KREG};
use support::{require, text, Tier};

#[test]
fn localhost_mode_pushes_through_port_forward_and_nodes_pull_from_localhost() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ns = "kt-local";
    let _ = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);

    let up = kreg_json(
        &tc,
        &[
            "up",
            "-n",
            ns,
            "--expose",
            "localhost",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "3m",
        ],
    );
    assert_eq!(up["expose"], "localhost");
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_trusted"], tc.node_count(), "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    let port: u16 = registry
        .strip_prefix("localhost:")
        .expect("localhost:<port>")
        .parse()
        .unwrap();
    assert!(
        !tc.kubectl(&["-n", ns, "get", "secret", "kreg-tls"])
            .status
            .success(),
        "no certificate in zero-TLS mode"
    );
    let cluster_ip = tc.jsonpath(ns, "svc/kreg-registry", ".spec.clusterIP");
    for node in &tc.nodes {
        let hosts = std::fs::read_to_string(
            node.etc()
                .join("containerd/certs.d")
                .join(&registry)
                .join("hosts.toml"),
        )
        .unwrap_or_else(|e| panic!("no hosts.toml on {}: {e}", node.name));
        assert!(
            hosts.contains(&format!("server = \"http://{registry}\"")),
            "{hosts}"
        );
        assert!(
            hosts.contains(&format!("[host.\"http://{cluster_ip}:5000\"]")),
            "nodes go through the ClusterIP first: {hosts}"
        );
    }

    // trust-local has nothing to do and says so.
    let out = kreg(&tc, &["trust-local", "-n", ns]);
    assert!(
        out.status.success() && text(&out.stderr).contains("no CA to trust"),
        "{}",
        text(&out.stderr)
    );

    // Push through kreg port-forward, to the very reference the nodes pull.
    let kubectl_dir =
        std::path::Path::new(&std::env::var("KUBECTL").expect("kcluster env sets KUBECTL"))
            .parent()
            .unwrap()
            .to_path_buf();
    let path = format!(
        "{}:{}",
        kubectl_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut pf = Command::new(KREG)
        .args(["port-forward", "-n", ns, "--kubeconfig"])
        .arg(&tc.kubeconfig)
        .env("PATH", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let listening = (0..40).any(|_| {
        std::thread::sleep(Duration::from_millis(500));
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let hello = tc.hello_image.clone().unwrap();
    let push = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci-archive:{}", hello.display()))
        .arg(format!("docker://{registry}/hello:1"))
        .output()
        .unwrap();
    let _ = pf.kill();
    let pf_out = pf.wait_with_output().unwrap();
    assert!(
        listening,
        "kreg port-forward did not listen on {port}: {}",
        text(&pf_out.stderr)
    );
    assert_eq!(
        text(&pf_out.stdout).trim(),
        registry,
        "port-forward prints the address on stdout"
    );
    assert!(
        push.status.success(),
        "push through the port-forward failed: {}",
        text(&push.stderr)
    );

    // The node's containerd pulls it by the localhost reference.
    run_hello(&tc, "hello-local", &format!("{registry}/hello:1"));

    // As under kube-proxy's nftables mode: no NodePort answers on the nodes' 127.0.0.1
    // (route_localnet off drops kube-proxy's DNAT of loopback traffic). A tag no node has
    // cached is still pulled by the same localhost reference, through the ClusterIP.
    let tag = format!("{registry}/hello:nft-{}", std::process::id());
    let mut pf2 = Command::new(KREG)
        .args(["port-forward", "-n", ns, "--kubeconfig"])
        .arg(&tc.kubeconfig)
        .env("PATH", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let listening = (0..40).any(|_| {
        std::thread::sleep(Duration::from_millis(500));
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let copy = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci-archive:{}", hello.display()))
        .arg(format!("docker://{tag}"))
        .output()
        .unwrap();
    let _ = pf2.kill();
    let _ = pf2.wait();
    assert!(
        listening && copy.status.success(),
        "push of {tag}: {}",
        text(&copy.stderr)
    );
    let set = |v: &str| {
        for node in &tc.nodes {
            let key = "net.ipv4.conf.all.route_localnet";
            let out = tc.exec_node_on(&node.name, &["sysctl", "-w", &format!("{key}={v}")]);
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
    };
    set("0");
    let localhost_node_port = tc.exec_node_on(
        &tc.nodes[0].name,
        &[
            "curl",
            "-sS",
            "--max-time",
            "3",
            &format!("http://{registry}/v2/"),
        ],
    );
    let pulled = std::panic::catch_unwind(|| run_hello(&tc, "hello-nft", &tag));
    set("1");
    assert!(
        !localhost_node_port.status.success(),
        "the NodePort still answers on the node's localhost; the test proves nothing"
    );
    assert!(
        pulled.is_ok(),
        "no pull by {tag} without the localhost NodePort"
    );

    let out = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

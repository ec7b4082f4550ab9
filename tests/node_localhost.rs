//! The zero-TLS mode people use today, done by kreg: `--expose localhost` serves plain HTTP on a
//! NodePort that every node's containerd pulls from as `localhost:<port>`; `kreg port-forward`
//! makes the same reference work for pushes from this machine.

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
    for node in &tc.nodes {
        let hosts = std::fs::read_to_string(
            node.etc()
                .join("containerd/certs.d")
                .join(&registry)
                .join("hosts.toml"),
        )
        .unwrap_or_else(|e| panic!("no hosts.toml on {}: {e}", node.name));
        assert!(hosts.contains(&format!("http://{registry}")), "{hosts}");
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
        .env("PATH", path)
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

    // The node's containerd pulls it from its own localhost.
    run_hello(&tc, "hello-local", &format!("{registry}/hello:1"));

    let out = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

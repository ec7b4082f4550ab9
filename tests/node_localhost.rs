//! The zero-TLS mode people use today, done by kreg: `--expose localhost` serves plain HTTP on a
//! NodePort that every node's containerd pulls from as `localhost:<port>`; `kreg port-forward`
//! makes the same reference work for pushes from this machine. Nodes reach it through the
//! Service's ClusterIP, so it also works where kube-proxy answers no NodePort on 127.0.0.1
//! (nftables and IPVS modes): the test pulls a new tag on the node tier's nftables node.

mod support;

use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::kreg::{kreg, kreg_json, run_hello, run_hello_on, KREG};
use support::{require, text, TestCluster, Tier};

#[test]
fn localhost_mode_pushes_through_port_forward_and_nodes_pull_from_localhost() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ns = "kt-local";
    let _ = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);

    let (_, registry, port) = up_localhost(&tc, ns, "localhost");
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
    let hello = tc.hello_image.clone().unwrap();
    let (listening, push, pf_out) = through_port_forward(&tc, ns, port, || {
        skopeo_copy(&hello, &format!("{registry}/hello:1"))
    });
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

    // kube-proxy's nftables mode answers no NodePort on a node's 127.0.0.1 (iptables mode does,
    // with route_localnet). On the node that runs it, a tag no node has cached is still pulled
    // by the same localhost reference, through the ClusterIP. A cluster with no nftables node
    // (Kubernetes 1.20) gets that mode's loopback behaviour by route_localnet off on every node.
    let tag = format!("{registry}/hello:nft-{}", std::process::id());
    let (listening, copy, _) = through_port_forward(&tc, ns, port, || skopeo_copy(&hello, &tag));
    assert!(
        listening && copy.status.success(),
        "push of {tag}: {}",
        text(&copy.stderr)
    );
    let nft = tc
        .nodes
        .iter()
        .find(|n| n.proxy_mode.as_deref() == Some("nftables"))
        .map(|n| n.name.clone());
    let set = |v: &str| {
        for node in &tc.nodes {
            let key = "net.ipv4.conf.all.route_localnet";
            let out = tc.exec_node_on(&node.name, &["sysctl", "-w", &format!("{key}={v}")]);
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
    };
    if nft.is_none() {
        set("0");
    }
    let node = nft.clone().unwrap_or_else(|| tc.nodes[0].name.clone());
    let localhost_node_port = tc.exec_node_on(
        &node,
        &[
            "curl",
            "-sS",
            "--max-time",
            "3",
            &format!("http://{registry}/v2/"),
        ],
    );
    let pulled = std::panic::catch_unwind(|| run_hello_on(&tc, "hello-nft", &tag, Some(&node)));
    if nft.is_none() {
        set("1");
    }
    assert!(
        !localhost_node_port.status.success(),
        "the NodePort answers on {node}'s localhost (kube-proxy {}); the test proves nothing",
        nft.as_deref()
            .map_or("iptables, route_localnet off", |_| "nftables")
    );
    assert!(
        pulled.is_ok(),
        "no pull by {tag} on {node} without the localhost NodePort"
    );

    let out = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Removes the workstation's firewall rule however the test ends.
struct NoRoute(Vec<String>);

impl Drop for NoRoute {
    fn drop(&mut self) {
        let mut args: Vec<&str> = vec!["-D"];
        args.extend(self.0.iter().map(String::as_str));
        let _ = Command::new("iptables").args(&args).status();
    }
}

/// `--expose localhost-tls` (issue 13): one reference, `localhost:<port>/...`, over TLS for a
/// workstation that reaches no node (its client, uid 65534 here, may use loopback only), for
/// the nodes (through the Service's ClusterIP, named in the certificate) and for Pod specs.
/// The push is TLS-verified with kreg's CA, and the registry is the one `kreg env` names.
#[test]
fn localhost_tls_is_one_name_for_a_workstation_without_node_routes_and_for_the_nodes() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ns = "kt-local-tls";
    let _ = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);
    let (up, registry, port) = up_localhost(&tc, ns, "localhost-tls");
    let cluster_ip = tc.jsonpath(ns, "svc/kreg-registry", ".spec.clusterIP");
    let leaf = tc.secret_text(ns, "kreg-tls", "tls.crt");
    for ip in ["127.0.0.1", "::1", cluster_ip.as_str()] {
        let ip = ip.parse().unwrap();
        assert!(
            kreg::pki::leaf_covers(
                &leaf,
                "localhost",
                &[ip],
                time::OffsetDateTime::now_utc(),
                time::Duration::ZERO
            ),
            "the certificate does not name localhost and {ip}"
        );
    }
    for node in &tc.nodes {
        let dir = node.etc().join("containerd/certs.d").join(&registry);
        let hosts = std::fs::read_to_string(dir.join("hosts.toml"))
            .unwrap_or_else(|e| panic!("no hosts.toml on {}: {e}", node.name));
        assert!(
            hosts.contains(&format!("[host.\"https://{cluster_ip}:5000\"]")),
            "{hosts}"
        );
        assert!(dir.join("ca.crt").exists(), "no ca.crt on {}", node.name);
    }
    let env = kreg_json(&tc, &["env", "-n", ns, "-o", "json"]);
    assert_eq!(env["registry"], registry.as_str(), "{env}");
    assert_eq!(env["plain_http"], false, "{env}");

    // The workstation: a client with loopback only, kreg's CA, and `kreg port-forward`.
    let ws = std::env::temp_dir().join(format!("kreg-ws-{}", std::process::id()));
    let certs = ws.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::write(certs.join("ca.crt"), up["ca_pem"].as_str().unwrap()).unwrap();
    let image = ws.join("hello.oci.tar");
    std::fs::copy(tc.hello_image.clone().unwrap(), &image).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(&ws)
        .status()
        .unwrap();
    let rule: Vec<String> = [
        "OUTPUT",
        "-m",
        "owner",
        "--uid-owner",
        "65534",
        "!",
        "-o",
        "lo",
        "-j",
        "REJECT",
    ]
    .map(String::from)
    .to_vec();
    let mut insert = vec!["-I".to_string()];
    insert.extend(rule.iter().cloned());
    assert!(Command::new("iptables")
        .args(&insert)
        .status()
        .unwrap()
        .success());
    let _no_route = NoRoute(rule);
    let as_client = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "env"])
            .arg(format!("HOME={}", ws.display()))
            .args(args)
            .output()
            .unwrap()
    };
    let node_ip = up["address"].as_str().unwrap();
    let direct = as_client(&[
        "curl",
        "-sS",
        "--max-time",
        "3",
        "-k",
        &format!("https://{node_ip}:{port}/v2/"),
    ]);
    assert!(
        !direct.status.success(),
        "the client still reaches the node at {node_ip}: the test proves nothing"
    );

    let tag = format!(
        "{}/hello:tls-{}",
        env["registry"].as_str().unwrap(),
        std::process::id()
    );
    let (listening, push, pf_out) = through_port_forward(&tc, ns, port, || {
        as_client(&[
            "skopeo",
            "copy",
            "--quiet",
            "--dest-cert-dir",
            certs.to_str().unwrap(),
            &format!("oci-archive:{}", image.display()),
            &format!("docker://{tag}"),
        ])
    });
    drop(_no_route);
    let _ = std::fs::remove_dir_all(&ws);
    assert!(
        listening,
        "no port-forward on {port}: {}",
        text(&pf_out.stderr)
    );
    assert!(
        push.status.success(),
        "TLS push of {tag} from the workstation failed: {}",
        text(&push.stderr)
    );

    // The very reference, in a Pod spec: the node pulls it through the ClusterIP over TLS.
    run_hello(&tc, "hello-local-tls", &tag);

    let out = kreg(&tc, &["down", "-n", ns, "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Runs `kreg port-forward -n NS` (the harness's kubectl on PATH) while `f` runs: whether it
/// listened on `port`, what `f` returned, and the port-forward's output.
fn through_port_forward<T>(
    tc: &TestCluster,
    ns: &str,
    port: u16,
    f: impl FnOnce() -> T,
) -> (bool, T, Output) {
    let kubectl = std::env::var("KUBECTL").expect("kcluster env sets KUBECTL");
    let kubectl_dir = std::path::Path::new(&kubectl).parent().unwrap();
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
    let out = f();
    let _ = pf.kill();
    (listening, out, pf.wait_with_output().unwrap())
}

/// `skopeo copy` of an OCI archive to a plain-HTTP registry reference.
fn skopeo_copy(archive: &std::path::Path, dest: &str) -> Output {
    Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci-archive:{}", archive.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .unwrap()
}

/// `kreg up --expose EXPOSE` into `ns`, checked healthy and trusted by every node: the report,
/// the registry (`localhost:<port>`) and the port.
fn up_localhost(tc: &TestCluster, ns: &str, expose: &str) -> (serde_json::Value, String, u16) {
    let args = [
        "up",
        "-n",
        ns,
        "--expose",
        expose,
        "--yes",
        "-o",
        "json",
        "--timeout",
        "3m",
    ];
    let up = kreg_json(tc, &args);
    assert_eq!(up["expose"], expose);
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_trusted"], tc.node_count(), "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    let port: u16 = registry
        .strip_prefix("localhost:")
        .expect("localhost:<port>")
        .parse()
        .unwrap();
    (up, registry, port)
}

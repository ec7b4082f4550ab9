//! Real traffic through an ingress controller and a Gateway: Traefik (`kcluster traefik
//! start`, a host process listening on the bridge address 10.213.0.1:443) carries a skopeo
//! push from this machine and the nodes' containerd pulls, for `kreg up --expose ingress`
//! (IngressClass traefik) and both `--expose gateway` modes on Gateway traefik/public: the
//! TLS Passthrough listener (kreg's TLSRoute; the registry's own certificate end to end) and
//! the HTTPS listener (kreg's HTTPRoute and BackendTLSPolicy; Traefik terminates TLS with
//! kreg's certificate, granted by a ReferenceGrant, and verifies the registry against kreg's
//! CA). The image has a layer of several MB, read back on a node by checksum. Traffic is
//! proven to pass Traefik: its access log holds the uploads of the HTTP modes, and with
//! Traefik stopped a pull fails and `kreg status` is unhealthy. Traefik verifies every hop to
//! the registry (no insecureSkipVerify): behind the Ingress through kreg's ServersTransport,
//! which, pointed at another name, makes the registry unreachable until `up` restores it.
//! Run with --test-threads=1 (Traefik, its Gateway and the hosts entries are cluster-wide).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::kreg::{kreg, kreg_json, purge, Workstation, KREG};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kt-traffic";
/// Where Traefik listens and what it publishes in the Ingress and Gateway statuses.
const TRAEFIK_IP: &str = "10.213.0.1";
const LAYER: usize = 12 << 20;

/// One way in: what `up` is given and what it must choose.
struct Way {
    name: &'static str,
    host: &'static str,
    flags: &'static [&'static str],
    /// The route kind kreg writes (`None`: an Ingress).
    route: Option<&'static str>,
    /// Traefik reads HTTP here, so its access log shows the requests.
    logged: bool,
}

const WAYS: [Way; 3] = [
    Way {
        name: "ingress",
        host: "registry.ingress.kreg.test",
        flags: &["--expose", "ingress", "--ingress-class", "traefik"],
        route: None,
        logged: true,
    },
    Way {
        name: "gateway-tls",
        host: "registry.tls.kreg.test",
        flags: &["--expose", "gateway", "--gateway", "traefik/public"],
        route: Some("tlsroute"),
        logged: false,
    },
    Way {
        name: "gateway-https",
        host: "registry.https.kreg.test",
        flags: &["--expose", "gateway", "--gateway", "traefik/public"],
        route: Some("httproute"),
        logged: true,
    },
];

/// An OCI layout of busybox plus `/data.bin` (`size` random bytes, one uncompressed layer):
/// a Pod runs `/bin/busybox sha256sum /data.bin` from it. Returns the layout and the sum.
fn runnable_image(dir: &Path, tag: &str, size: usize) -> (PathBuf, String) {
    use rand::RngCore;
    let root = dir.join(format!("rootfs-{tag}"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let mut data = vec![0u8; size];
    rand::rng().fill_bytes(&mut data);
    std::fs::write(root.join("data.bin"), &data).unwrap();
    let layout = support::oci::image_of(dir, &root, tag);
    (layout, format!("{:x}", Sha256::digest(&data)))
}

fn pod_spec(pod: &str, image: &str, node: &str) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": NS},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "containers": [{
                "name": "sum", "image": image, "imagePullPolicy": "Always",
                "command": ["/bin/busybox", "sha256sum", "/data.bin"],
            }],
        },
    })
}

fn delete_pod(tc: &TestCluster, pod: &str) {
    let _ = tc.kubectl(&[
        "-n",
        NS,
        "delete",
        "pod",
        pod,
        "--ignore-not-found",
        "--wait",
    ]);
}

/// Runs the checksum Pod of `image` on `node` (always pulled); returns the printed sum.
fn sum_on_node(tc: &TestCluster, pod: &str, node: &str, image: &str) -> String {
    delete_pod(tc, pod);
    tc.apply_json(&[pod_spec(pod, image, node)]);
    let t = Instant::now();
    loop {
        let phase = tc.jsonpath(NS, &format!("pod/{pod}"), ".status.phase");
        if phase == "Succeeded" {
            break;
        }
        assert!(
            phase != "Failed" && t.elapsed() < Duration::from_secs(180),
            "pod {pod} on {node}: {phase}\n{}",
            text(&tc.kubectl(&["-n", NS, "describe", "pod", pod]).stdout)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let logs = tc.kubectl_ok(&["-n", NS, "logs", pod]);
    delete_pod(tc, pod);
    logs.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Runs the checksum Pod of `image` on `node` while nothing answers at the address: returns
/// the kubelet's event that says why the pull failed (the dial to Traefik's address).
fn failed_pull_on(tc: &TestCluster, pod: &str, node: &str, image: &str) -> String {
    delete_pod(tc, pod);
    tc.apply_json(&[pod_spec(pod, image, node)]);
    let selector = format!("involvedObject.name={pod}");
    for _ in 0..90 {
        let phase = tc.jsonpath(NS, &format!("pod/{pod}"), ".status.phase");
        assert_ne!(phase, "Succeeded", "{pod} pulled {image} without Traefik");
        let events = tc.kubectl_ok(&[
            "-n",
            NS,
            "get",
            "events",
            "--field-selector",
            &selector,
            "-o",
            "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
        ]);
        if let Some(e) = events.lines().find(|l| {
            l.starts_with("Failed: ")
                && (l.contains(TRAEFIK_IP) || l.contains("connection refused"))
        }) {
            delete_pod(tc, pod);
            return e.to_string();
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!(
        "pod {pod} never reported a failed pull from {TRAEFIK_IP}: {}",
        text(&tc.kubectl(&["-n", NS, "describe", "pod", pod]).stdout)
    );
}

/// `kreg status` until it says healthy (Traefik reloads its routes after a start).
fn wait_healthy(tc: &TestCluster) {
    let t = Instant::now();
    while status_code(tc) != Some(0) {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "kreg status unhealthy 60 s after Traefik started again: {}",
            text(&kreg(tc, &["-n", NS, "status"]).stdout)
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// Traefik's JSON access-log lines for `host`.
fn access_log(host: &str) -> Vec<Value> {
    let path = std::env::var("KREG_TEST_TRAEFIK_ACCESS_LOG")
        .expect("kcluster env names Traefik's access log (tests/cluster/addons/traefik.sh)");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["RequestHost"].as_str().is_some_and(|h| h == host))
        .collect()
}

/// The status condition `type` of a route's first parent, as Traefik set it.
fn parent_condition(route: &Value, type_: &str) -> String {
    let parent = &route["status"]["parents"][0];
    assert_eq!(
        parent["controllerName"], "traefik.io/gateway-controller",
        "{route}"
    );
    parent["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_)
        .map(|c| c["status"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn status_code(tc: &TestCluster) -> Option<i32> {
    kreg(tc, &["-n", NS, "status"]).status.code()
}

#[test]
fn pushes_and_pulls_go_through_traefik_by_ingress_and_both_gateway_modes() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    purge(&tc, NS);
    tc.kcluster_ok(&["traefik", "start", "--tls-from", NS]);
    // The user's side of the HTTPS listener: it serves kreg's own certificate (Secret
    // kreg-tls, which names the host), granted to the Gateway's namespace.
    tc.kubectl_ok(&["create", "namespace", NS]);
    tc.apply_json(&[serde_json::json!({
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "traefik-gateway", "namespace": NS},
        "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "traefik"}],
            "to": [{"group": "", "kind": "Secret", "name": "kreg-tls"}],
        },
    })]);
    // No DNS: every name points at Traefik, on the nodes and on the "workstation".
    let mut hosts = vec!["node-hosts", "add", TRAEFIK_IP];
    hosts.extend(WAYS.iter().map(|w| w.host));
    tc.kcluster_ok(&hosts);
    let ws = Workstation::new();
    for w in &WAYS {
        ws.add_host(TRAEFIK_IP, w.host);
    }
    let work = tempfile::tempdir().unwrap();
    let nodes: Vec<String> = tc.nodes.iter().map(|n| n.name.clone()).collect();
    assert!(!nodes.is_empty(), "node tier");

    for (i, w) in WAYS.iter().enumerate() {
        let t = Instant::now();
        // A layer of its own each time: no node holds its blobs, so every pull downloads.
        let (layout, sum) = runnable_image(work.path(), w.name, LAYER);
        let mut args = vec![
            "up",
            "-n",
            NS,
            "--host",
            w.host,
            "--yes",
            "-o",
            "json",
            "--timeout",
            "4m",
        ];
        args.extend_from_slice(w.flags);
        let up = kreg_json(&tc, &args);
        assert_eq!(up["healthy"], true, "{}: {up}", w.name);
        assert_eq!(up["registry"], w.host, "{}: {up}", w.name);
        assert_eq!(
            up["address"], TRAEFIK_IP,
            "{}: kreg reads Traefik's address from the status: {up}",
            w.name
        );
        match w.route {
            None => {
                assert_eq!(
                    tc.jsonpath(
                        NS,
                        "ingress/kreg-registry",
                        ".status.loadBalancer.ingress[0].ip"
                    ),
                    TRAEFIK_IP
                );
                for kind in ["tlsroute", "httproute"] {
                    let gone = tc.kubectl(&["-n", NS, "get", kind, "kreg-registry"]);
                    assert!(!gone.status.success(), "{}: a {kind} is left", w.name);
                }
                // Traefik verifies the registry (it has no insecureSkipVerify): through the
                // ServersTransport the Service names, with kreg's CA and the host.
                assert_eq!(
                    tc.jsonpath(
                        NS,
                        "service/kreg-registry",
                        ".metadata.annotations.traefik\\.ingress\\.kubernetes\\.io/service\\.serverstransport"
                    ),
                    format!("{NS}-kreg-registry@kubernetescrd")
                );
                assert_eq!(
                    tc.jsonpath(NS, "serverstransport/kreg-registry", ".spec.serverName"),
                    w.host
                );
                assert_eq!(
                    tc.jsonpath(
                        NS,
                        "serverstransport/kreg-registry",
                        ".spec.rootCAs[0].configMap"
                    ),
                    "kreg-registry-ca"
                );
            }
            Some(kind) => {
                let route: Value = serde_json::from_str(&tc.kubectl_ok(&[
                    "-n",
                    NS,
                    "get",
                    kind,
                    "kreg-registry",
                    "-o",
                    "json",
                ]))
                .unwrap();
                assert_eq!(parent_condition(&route, "Accepted"), "True", "{route}");
                assert_eq!(parent_condition(&route, "ResolvedRefs"), "True", "{route}");
                let ingress = tc.kubectl(&["-n", NS, "get", "ingress", "kreg-registry"]);
                assert!(!ingress.status.success(), "{}: the Ingress is left", w.name);
            }
        }

        // The push, from this machine, through the name kreg reported, TLS verified.
        let before = access_log(w.host).len();
        let reference = format!("{}/kt/big:{}", w.host, w.name);
        let push = ws.sh(&format!(
            "{KREG} -n {NS} trust-local --yes --kubeconfig {} && skopeo copy --quiet oci:{}:{} docker://{reference}",
            tc.kubeconfig.display(),
            layout.display(),
            w.name
        ));
        assert!(
            push.status.success(),
            "{}: push through Traefik: {}",
            w.name,
            text(&push.stderr)
        );
        if w.logged {
            let log = access_log(w.host);
            let uploads = log[before..]
                .iter()
                .filter(|l| {
                    l["RequestPath"]
                        .as_str()
                        .is_some_and(|p| p.starts_with("/v2/kt/big/blobs/uploads/"))
                        && matches!(l["RequestMethod"].as_str(), Some("PUT" | "PATCH"))
                })
                .count();
            assert!(
                uploads >= 1,
                "{}: Traefik's access log shows no blob upload for {}: {:?}",
                w.name,
                w.host,
                &log[before..]
            );
            assert!(
                log[before..]
                    .iter()
                    .all(|l| l["DownstreamStatus"].as_u64().is_some_and(|s| s < 500)),
                "{}: Traefik answered 5xx: {:?}",
                w.name,
                &log[before..]
            );
        }

        // The pull, by a node's containerd (through the same name), on alternating nodes.
        let node = &nodes[i % nodes.len()];
        let got = sum_on_node(&tc, &format!("sum-{}", w.name), node, &reference);
        assert_eq!(got, sum, "{}: the layer {node} pulled", w.name);
        if w.logged {
            let log = access_log(w.host);
            assert!(
                log[before..].iter().any(|l| l["RequestPath"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/v2/kt/big/blobs/sha256:"))
                    && l["RequestMethod"] == "GET"),
                "{}: Traefik's access log shows no blob download",
                w.name
            );
        }
        let status = kreg(&tc, &["-n", NS, "status"]);
        assert_eq!(
            status.status.code(),
            Some(0),
            "{}: kreg status: {}{}",
            w.name,
            text(&status.stdout),
            text(&status.stderr)
        );

        if w.route.is_none() {
            // The verification is real: a ServersTransport naming another host makes Traefik
            // refuse the registry's certificate (kreg status unhealthy); `up` puts kreg's
            // back (drift) and the registry answers through Traefik again.
            tc.kubectl_ok(&[
                "-n",
                NS,
                "patch",
                "serverstransport",
                "kreg-registry",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"serverName":"someone-else.kreg.test"}}"#,
            ]);
            let t = Instant::now();
            while status_code(&tc) == Some(0) {
                assert!(
                    t.elapsed() < Duration::from_secs(60),
                    "kreg status stays healthy with Traefik verifying another name"
                );
                std::thread::sleep(Duration::from_secs(2));
            }
            let out = kreg(&tc, &["-n", NS, "up", "--yes", "--timeout", "2m"]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert_eq!(
                tc.jsonpath(NS, "serverstransport/kreg-registry", ".spec.serverName"),
                w.host
            );
            wait_healthy(&tc);
        }

        if w.route == Some("tlsroute") {
            // Nothing but Traefik answers at the address: without it the pull fails and
            // `kreg status` says so; started again, the same pull works.
            tc.kcluster_ok(&["traefik", "stop"]);
            let why = failed_pull_on(&tc, "sum-stopped", node, &reference);
            eprintln!("without Traefik: {why}");
            assert_ne!(
                status_code(&tc),
                Some(0),
                "kreg status is healthy without Traefik"
            );
            tc.kcluster_ok(&["traefik", "start", "--tls-from", NS]);
            wait_healthy(&tc);
            let got = sum_on_node(&tc, "sum-restarted", node, &reference);
            assert_eq!(got, sum);
        }
        eprintln!("{}: up, push, pull in {:?}", w.name, t.elapsed());

        // Each way starts afresh: kreg's CA is constrained to the first host's names, so a
        // new --host needs a new CA (`down --purge`; the namespace and the grant are ours).
        let out = kreg(
            &tc,
            &["-n", NS, "down", "--purge", "--yes", "--timeout", "90s"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        for what in [
            "httproute/kreg-registry",
            "backendtlspolicy/kreg-registry",
            "tlsroute/kreg-registry",
            "ingress/kreg-registry",
            "serverstransport/kreg-registry",
            "configmap/kreg-registry-ca",
        ] {
            let gone = tc.kubectl(&["-n", NS, "get", what]);
            assert!(!gone.status.success(), "{}: down leaves {what}", w.name);
        }
        assert!(
            tc.kubectl(&["get", "namespace", NS]).status.success(),
            "down --purge deleted the namespace kreg did not create"
        );
    }

    purge(&tc, NS);
}

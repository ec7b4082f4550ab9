//! Smoke tests of the test cluster itself (node tier): before kreg's own node tests can mean
//! anything, a plain registry must run on a node and answer through a ClusterIP, a NodePort
//! and a load-balancer IP, from this machine and from every node; the storage provisioner must
//! give it a volume; an image pushed into it must be pullable by the nodes' containerd. The two
//! nodes run different containerd releases, each in its own PID namespace, and reach each
//! other's pods; the agent image resolves by digest on both. Run with `--test-threads=1`.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::{require, text, TestCluster, Tier};

/// Deletes the namespace (and whatever else was registered) when the test ends, even on panic.
struct Cleanup<'a> {
    tc: &'a TestCluster,
    ns: String,
    dirs: Vec<PathBuf>,
    lb_mode_reset: bool,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
        if self.lb_mode_reset {
            let _ = self.tc.kcluster(&["lb", "ip"]);
        }
        let _ = self.tc.kubectl(&[
            "delete",
            "namespace",
            &self.ns,
            "--ignore-not-found",
            "--wait=false",
        ]);
    }
}

fn fresh_namespace<'a>(tc: &'a TestCluster, ns: &str) -> Cleanup<'a> {
    tc.kubectl_ok(&[
        "delete",
        "namespace",
        ns,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=120s",
    ]);
    tc.kubectl_ok(&["create", "namespace", ns]);
    Cleanup {
        tc,
        ns: ns.to_string(),
        dirs: Vec::new(),
        lb_mode_reset: false,
    }
}

fn apply(tc: &TestCluster, yaml: &str) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, yaml.as_bytes()).unwrap();
    tc.kubectl_ok(&["apply", "-f", f.path().to_str().unwrap()]);
}

/// A Deployment of the node's local `registry:2` image, its PVC (storage class left to the
/// default) and Services of the given types, all named `reg`/`reg-<type>`.
fn deploy_registry(tc: &TestCluster, ns: &str, services: &[&str], pvc: bool) {
    let (volume, mount) = if pvc {
        (
            "      volumes: [{name: data, persistentVolumeClaim: {claimName: reg-data}}]\n",
            "        volumeMounts: [{name: data, mountPath: /var/lib/registry}]\n",
        )
    } else {
        ("", "")
    };
    let mut yaml = String::new();
    if pvc {
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: reg-data, namespace: {ns}}}\n\
             spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n---\n"
        ));
    }
    yaml.push_str(&format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: reg, namespace: {ns}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: reg}}}}
  template:
    metadata: {{labels: {{app: reg}}}}
    spec:
      terminationGracePeriodSeconds: 2
{volume}      containers:
      - name: registry
        image: registry:2
        imagePullPolicy: IfNotPresent
        ports: [{{containerPort: 5000, protocol: TCP}}]
        readinessProbe: {{httpGet: {{path: /v2/, port: 5000}}, periodSeconds: 1}}
{mount}"
    ));
    for ty in services {
        yaml.push_str(&format!(
            "---
apiVersion: v1
kind: Service
metadata: {{name: reg-{lower}, namespace: {ns}}}
spec:
  type: {ty}
  selector: {{app: reg}}
  ports: [{{port: 5000, targetPort: 5000, protocol: TCP}}]
",
            lower = ty.to_lowercase()
        ));
    }
    apply(tc, &yaml);
    let out = tc.kubectl(&[
        "-n",
        ns,
        "rollout",
        "status",
        "deploy/reg",
        "--timeout=120s",
    ]);
    if !out.status.success() {
        let desc = tc.kubectl(&["-n", ns, "describe", "pods"]);
        panic!(
            "the registry did not roll out: {}\n{}",
            text(&out.stderr),
            text(&desc.stdout)
        );
    }
}

/// `curl` from this machine (or, with `in_node`, from inside that node): (HTTP status, body).
fn curl(tc: &TestCluster, url: &str, in_node: Option<&str>) -> (String, String) {
    let args = ["-sS", "--max-time", "5", "-w", "\n%{http_code}", url];
    let out: Output = if let Some(node) = in_node {
        let mut all = vec!["curl"];
        all.extend_from_slice(&args);
        tc.exec_node_on(node, &all)
    } else {
        Command::new("curl").args(args).output().expect("curl runs")
    };
    let s = text(&out.stdout);
    let (body, code) = s.rsplit_once('\n').unwrap_or(("", s.as_str()));
    (code.trim().to_string(), body.to_string())
}

/// GET url until it answers 200 (kube-proxy may need a moment after the endpoints appear).
fn get_200(tc: &TestCluster, url: &str, in_node: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = curl(tc, url, in_node);
        if code == "200" {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "GET {url} (in node: {in_node:?}) never answered 200; last: {code} {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_registry_deployment_answers_through_cluster_ip_node_port_and_load_balancer() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let node_ip = tc.node_ip.clone().expect("the node tier has a node IP");
    let ns = "smoke-registry";
    let _cleanup = fresh_namespace(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    tc.kcluster_ok(&["storage", "on"]);

    deploy_registry(&tc, ns, &["ClusterIP", "NodePort", "LoadBalancer"], true);

    // The pod runs on a real node, with a volume from the default StorageClass.
    let on = tc.jsonpath(ns, "pods", ".items[0].spec.nodeName");
    assert!(
        tc.nodes.iter().any(|n| n.name == on),
        "{on}: {:?}",
        tc.nodes
    );
    assert_eq!(tc.jsonpath(ns, "pvc/reg-data", ".status.phase"), "Bound");
    assert_eq!(
        tc.jsonpath(ns, "pvc/reg-data", ".spec.storageClassName"),
        "standard"
    );

    let cluster_ip = tc.jsonpath(ns, "svc/reg-clusterip", ".spec.clusterIP");
    assert!(cluster_ip.starts_with("10.96."), "{cluster_ip}");
    let body = get_200(&tc, &format!("http://{cluster_ip}:5000/v2/"), None);
    assert_eq!(body.trim(), "{}");
    // From every node too (one of them reaches the pod on the other node).
    for node in &tc.nodes {
        get_200(
            &tc,
            &format!("http://{cluster_ip}:5000/v2/"),
            Some(&node.name),
        );
    }

    let node_port = tc.jsonpath(ns, "svc/reg-nodeport", ".spec.ports[0].nodePort");
    assert!(
        node_port
            .parse::<u16>()
            .is_ok_and(|p| (30000..=32767).contains(&p)),
        "{node_port}"
    );
    get_200(&tc, &format!("http://{node_ip}:{node_port}/v2/"), None);
    for node in &tc.nodes {
        get_200(&tc, &format!("http://{}:{node_port}/v2/", node.ip), None);
    }

    // The harness's load balancer hands out an IP that kube-proxy serves.
    let lb_ip = wait_for("a load-balancer IP", 30, || {
        let ip = tc.jsonpath(
            ns,
            "svc/reg-loadbalancer",
            ".status.loadBalancer.ingress[0].ip",
        );
        (!ip.is_empty()).then_some(ip)
    });
    assert!(lb_ip.starts_with("10.214.0."), "{lb_ip}");
    get_200(&tc, &format!("http://{lb_ip}:5000/v2/"), None);
    for node in &tc.nodes {
        get_200(&tc, &format!("http://{lb_ip}:5000/v2/"), Some(&node.name));
    }

    // Nothing listens on a port the Service does not have: the checks above can fail.
    let (code, _) = curl(&tc, &format!("http://{cluster_ip}:5001/v2/"), None);
    assert_eq!(code, "000", "an unserved port must not answer");
}

#[test]
fn an_image_pushed_over_plain_http_is_pulled_and_run_by_the_node() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let node_ip = tc.node_ip.clone().expect("the node tier has a node IP");
    let hello = tc
        .hello_image
        .clone()
        .expect("the harness builds the hello image");
    for node in &tc.nodes {
        let config = std::fs::read_to_string(node.etc().join("containerd/config.toml")).unwrap();
        assert!(
            // version 2 (containerd 1.x) quotes with ", version 3 (2.x) with '
            config.contains("config_path = \"/etc/containerd/certs.d\"")
                || config.contains("config_path = '/etc/containerd/certs.d'"),
            "this test needs containerd's config_path on {}:\n{config}",
            node.name
        );
    }

    let ns = "smoke-push";
    let mut cleanup = fresh_namespace(&tc, ns);
    deploy_registry(&tc, ns, &["NodePort"], false);
    let node_port = tc.jsonpath(ns, "svc/reg-nodeport", ".spec.ports[0].nodePort");
    let host = format!("{node_ip}:{node_port}");
    get_200(&tc, &format!("http://{host}/v2/"), None);

    // Push over plain HTTP.
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("oci-archive:{}", hello.display()))
        .arg(format!("docker://{host}/hello:1"))
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        text(&out.stderr)
    );
    let tags = get_200(&tc, &format!("http://{host}/v2/hello/tags/list"), None);
    assert!(tags.contains("\"1\""), "{tags}");

    let image = format!("{host}/hello:1");
    for node in &tc.nodes {
        let _ = tc.exec_node_on(&node.name, &["ctr", "images", "rm", &image]);
    }

    // Without a hosts.toml the nodes' containerd speaks HTTPS to the registry and fails.
    tc.kubectl_ok(&[
        "-n",
        ns,
        "run",
        "no-hosts",
        "--image",
        &image,
        "--restart=Never",
    ]);
    let err = wait_for("a pull error", 60, || {
        let m = tc.jsonpath(
            ns,
            "pod/no-hosts",
            ".status.containerStatuses[0].state.waiting.message",
        );
        (!m.is_empty()).then_some(m)
    });
    assert!(err.contains("HTTP response to HTTPS client"), "{err}");
    tc.kubectl_ok(&["-n", ns, "delete", "pod", "no-hosts", "--wait=false"]);

    // With one in the nodes' certs.d (config_path), the pull works over HTTP.
    for node in &tc.nodes {
        let dir = node.etc().join("containerd/certs.d").join(&host);
        cleanup.dirs.push(dir.clone());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("hosts.toml"),
            format!("server = \"http://{host}\"\n\n[host.\"http://{host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"),
        )
        .unwrap();
    }
    tc.kubectl_ok(&[
        "-n",
        ns,
        "run",
        "hello",
        "--image",
        &image,
        "--restart=Never",
    ]);
    let out = tc.kubectl(&[
        "-n",
        ns,
        "wait",
        "--for=condition=Ready",
        "pod/hello",
        "--timeout=120s",
    ]);
    if !out.status.success() {
        panic!(
            "pod hello never became Ready: {}\n{}",
            text(&out.stderr),
            tc.kubectl_ok(&["-n", ns, "describe", "pod", "hello"])
        );
    }
    assert_eq!(tc.jsonpath(ns, "pod/hello", ".status.phase"), "Running");
    let logs = wait_for("the pod's log", 30, || {
        let l = tc.kubectl_ok(&["-n", ns, "logs", "hello"]);
        l.contains("hello from kreg").then_some(l)
    });
    assert_eq!(logs.trim(), "hello from kreg");

    // The containerd of the node the pod ran on holds the image it pulled.
    let on = tc.jsonpath(ns, "pod/hello", ".spec.nodeName");
    let images = tc.exec_node_on(&on, &["ctr", "images", "ls", "-q"]);
    assert!(images.status.success(), "{}", text(&images.stderr));
    assert!(
        text(&images.stdout).lines().any(|l| l == image),
        "{}",
        text(&images.stdout)
    );
    tc.kubectl_ok(&[
        "-n",
        ns,
        "delete",
        "pod",
        "hello",
        "--wait=true",
        "--timeout=60s",
    ]);
    let _ = tc.exec_node_on(&on, &["ctr", "images", "rm", &image]);
}

#[test]
fn an_elb_hostname_resolves_and_answers_inside_the_node() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ns = "smoke-elb";
    let mut cleanup = fresh_namespace(&tc, ns);
    cleanup.lb_mode_reset = true;
    tc.kcluster_ok(&["lb", "hostname"]);
    deploy_registry(&tc, ns, &["LoadBalancer"], false);
    let host = wait_for("a load-balancer hostname", 30, || {
        let h = tc.jsonpath(
            ns,
            "svc/reg-loadbalancer",
            ".status.loadBalancer.ingress[0].hostname",
        );
        (!h.is_empty()).then_some(h)
    });
    assert!(host.ends_with(".elb.us-east-1.amazonaws.com"), "{host}");
    assert_eq!(
        tc.jsonpath(
            ns,
            "svc/reg-loadbalancer",
            ".status.loadBalancer.ingress[0].ip"
        ),
        ""
    );
    for node in &tc.nodes {
        let hosts = std::fs::read_to_string(node.etc().join("hosts")).unwrap();
        assert!(
            hosts
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(host.as_str())),
            "{}: {hosts}",
            node.name
        );
        let body = get_200(&tc, &format!("http://{host}:5000/v2/"), Some(&node.name));
        assert_eq!(body.trim(), "{}");
    }
}

/// Waits for a Pod to end and returns its phase (Succeeded or Failed).
fn finished_phase(tc: &TestCluster, ns: &str, pod: &str) -> String {
    wait_for(&format!("pod {ns}/{pod} to finish"), 120, || {
        let phase = tc.jsonpath(ns, &format!("pod/{pod}"), ".status.phase");
        matches!(phase.as_str(), "Succeeded" | "Failed").then_some(phase)
    })
}

#[test]
fn two_nodes_on_two_runtimes_reach_each_others_pods_and_services() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    assert!(
        tc.nodes.len() >= 2,
        "the node tier has two nodes: {:?}",
        tc.nodes
    );
    let ns = "smoke-nodes";
    let _cleanup = fresh_namespace(&tc, ns);

    // Each node runs the containerd it announces, and they differ (1.6 and 1.7).
    let mut runtimes = Vec::new();
    for node in &tc.nodes {
        let version = tc
            .kubectl_ok(&[
                "get",
                "node",
                &node.name,
                "-o",
                "jsonpath={.status.nodeInfo.containerRuntimeVersion}",
            ])
            .trim()
            .to_string();
        let want = node
            .runtime
            .clone()
            .expect("kcluster env names each node's runtime");
        assert!(
            version.starts_with(&format!("containerd://{want}.")),
            "{}: runs {version}, announced {want}",
            node.name
        );
        runtimes.push(version);
        // Its own PID namespace: a hostPID pod on it sees exactly one containerd, its own.
        let out = tc.exec_node_on(&node.name, &["pgrep", "-c", "-x", "containerd"]);
        assert_eq!(
            text(&out.stdout).trim(),
            "1",
            "{}: {}",
            node.name,
            text(&out.stderr)
        );
    }
    runtimes.dedup();
    assert_eq!(
        runtimes.len(),
        tc.nodes.len(),
        "one runtime per node: {runtimes:?}"
    );

    // A registry pod on every node, each behind its own ClusterIP Service.
    let mut yaml = String::new();
    for (i, node) in tc.nodes.iter().enumerate() {
        yaml.push_str(&format!(
            "---
apiVersion: v1
kind: Pod
metadata: {{name: reg{i}, namespace: {ns}, labels: {{app: reg{i}}}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: registry
    image: registry:2
    imagePullPolicy: IfNotPresent
    ports: [{{containerPort: 5000, protocol: TCP}}]
    readinessProbe: {{httpGet: {{path: /v2/, port: 5000}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {{name: reg{i}, namespace: {ns}}}
spec:
  selector: {{app: reg{i}}}
  ports: [{{port: 5000, targetPort: 5000, protocol: TCP}}]
",
            node = node.name
        ));
    }
    apply(&tc, &yaml);
    let mut targets = Vec::new();
    for i in 0..tc.nodes.len() {
        let out = tc.kubectl(&[
            "-n",
            ns,
            "wait",
            "--for=condition=Ready",
            &format!("pod/reg{i}"),
            "--timeout=120s",
        ]);
        assert!(out.status.success(), "pod reg{i}: {}", text(&out.stderr));
        let pod_ip = tc.jsonpath(ns, &format!("pod/reg{i}"), ".status.podIP");
        let svc_ip = tc.jsonpath(ns, &format!("svc/reg{i}"), ".spec.clusterIP");
        targets.push((i, pod_ip, svc_ip));
    }

    // From every other node's namespace, and from a pod on every other node: the pod IP and the
    // ClusterIP of the registry on this node.
    for (i, pod_ip, svc_ip) in &targets {
        for (j, node) in tc.nodes.iter().enumerate() {
            if j == *i {
                continue;
            }
            for ip in [pod_ip, svc_ip] {
                let body = get_200(&tc, &format!("http://{ip}:5000/v2/"), Some(&node.name));
                assert_eq!(body.trim(), "{}", "{} -> {ip}", node.name);
            }
            // (No `wget -T`: Debian's busybox-static segfaults on it; the deadline bounds it.)
            let client = format!("client{i}from{j}");
            let pod = format!(
                "apiVersion: v1
kind: Pod
metadata: {{name: {client}, namespace: {ns}}}
spec:
  nodeName: {node}
  restartPolicy: Never
  activeDeadlineSeconds: 60
  containers:
  - name: wget
    image: docker.io/kreg-test/hello:1
    imagePullPolicy: IfNotPresent
    command: [/bin/sh, -c, 'wget -q -O - http://{pod_ip}:5000/v2/ && echo && wget -q -O - http://{svc_ip}:5000/v2/']
",
                node = node.name
            );
            apply(&tc, &pod);
            let phase = finished_phase(&tc, ns, &client);
            let logs = tc.kubectl_ok(&["-n", ns, "logs", &client]);
            assert_eq!(phase, "Succeeded", "{client}: {logs}");
            assert_eq!(logs.matches("{}").count(), 2, "{client}: {logs}");
        }
    }
}

#[test]
fn the_agent_image_runs_by_digest_on_every_node() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ns = "smoke-agent";
    let _cleanup = fresh_namespace(&tc, ns);
    let reference = tc
        .kcluster_ok(&["agent-image", support::kreg::KREG])
        .trim()
        .to_string();
    let digest = reference
        .strip_prefix("docker.io/kreg-test/kreg-agent@sha256:")
        .unwrap_or_else(|| panic!("not a digest reference: {reference}"));
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{reference}"
    );
    // kcluster env hands it to kreg (the default of --agent-image).
    let env = tc.kcluster_ok(&["env"]);
    assert!(
        env.lines()
            .any(|l| l == format!("export KREG_AGENT_IMAGE={reference}")),
        "{env}"
    );
    // Present on every node under exactly that name: the kubelet finds it without a pull.
    for (i, node) in tc.nodes.iter().enumerate() {
        let out = tc.exec_node_on(&node.name, &["ctr", "images", "ls", "-q"]);
        assert!(
            text(&out.stdout).lines().any(|l| l == reference),
            "{}: {}",
            node.name,
            text(&out.stdout)
        );
        let pod = format!("agent{i}");
        apply(
            &tc,
            &format!(
                "apiVersion: v1
kind: Pod
metadata: {{name: {pod}, namespace: {ns}}}
spec:
  nodeName: {node}
  restartPolicy: Never
  containers:
  - name: agent
    image: {reference}
    imagePullPolicy: IfNotPresent
    command: [/usr/local/bin/kreg, --version]
",
                node = node.name
            ),
        );
        let phase = finished_phase(&tc, ns, &pod);
        let logs = tc.kubectl_ok(&["-n", ns, "logs", &pod]);
        assert_eq!(
            phase,
            "Succeeded",
            "{}: {logs}\n{}",
            node.name,
            tc.kubectl_ok(&["-n", ns, "describe", "pod", &pod])
        );
        assert!(logs.starts_with("kreg "), "{}: {logs}", node.name);
    }
}

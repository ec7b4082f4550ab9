//! Node trust on the node tier's two nodes, which run different containerd releases (issue 10):
//! every node counts as trusted only after its runtime pulled kreg's probe image through the
//! CRI; a tenant Pod running processes named `containerd` changes nothing; `down` leaves no
//! kreg file on any node.

mod support;

use std::time::Instant;

use support::kreg::{kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kreg-nt";

fn agent_logs(tc: &TestCluster) -> Vec<(String, String)> {
    let pods = tc.kubectl_ok(&[
        "get",
        "pods",
        "-n",
        NS,
        "-l",
        "app.kubernetes.io/name=kreg-node-trust",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{\"\\n\"}{end}",
    ]);
    pods.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(pod, node)| {
            let log = text(&tc.kubectl(&["logs", "-n", NS, pod]).stdout);
            (node.to_string(), log)
        })
        .collect()
}

fn last_verdict(log: &str) -> String {
    log.lines()
        .rev()
        .find(|l| {
            l.starts_with("kreg-node-trust: trusted:")
                || l.starts_with("kreg-node-trust: untrusted:")
                || l.starts_with("kreg-node-trust: removed:")
        })
        .unwrap_or("")
        .to_string()
}

/// The files kreg may leave on a node (its certs.d entries and its record).
fn kreg_files_on(tc: &TestCluster, registry: &str) -> Vec<String> {
    let mut left = vec![];
    for n in &tc.nodes {
        for dir in ["containerd/certs.d", "docker/certs.d"] {
            let d = n.etc().join(dir).join(registry);
            if d.exists() {
                left.push(format!("{}: {}", n.name, d.display()));
            }
        }
        // This installation's record (other installations' records may share the directory).
        let rec = std::path::Path::new("/var/lib/kreg")
            .join(&n.name)
            .join(format!("{NS}.json"));
        if rec.exists() {
            left.push(format!("{}: {}", n.name, rec.display()));
        }
    }
    left
}

#[test]
fn every_node_is_verified_by_a_real_pull_a_decoy_changes_nothing_and_down_cleans_up() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    assert!(
        tc.nodes.len() >= 2,
        "the node tier runs two nodes on two containerd releases"
    );
    purge(&tc, NS);

    // 1. up: each node verified by a pull through its own runtime.
    let t = Instant::now();
    let up = kreg_json(
        &tc,
        &["up", "-n", NS, "--yes", "-o", "json", "--timeout", "4m"],
    );
    let took = t.elapsed();
    assert_eq!(up["nodes_trusted"], tc.nodes.len(), "{up}");
    assert_eq!(up["nodes_total"], tc.nodes.len(), "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    let logs = agent_logs(&tc);
    assert_eq!(logs.len(), tc.nodes.len());
    for (node, log) in &logs {
        let v = last_verdict(log);
        assert!(
            v.starts_with("kreg-node-trust: trusted:") && v.contains("through the CRI"),
            "{node}: {log}"
        );
    }
    eprintln!(
        "figure: up to every node verified: {:.1} s (node trust wait {} ms); per node: {}",
        took.as_secs_f64(),
        up["timings_ms"]["wait_node_trust"],
        logs.iter()
            .map(|(n, l)| format!("{n}: {}", last_verdict(l)))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    let files = kreg_files_on(&tc, &registry);
    assert_eq!(
        files.len(),
        2 * tc.nodes.len(),
        "one certs.d entry and one record per node: {files:?}"
    );

    // 2. A tenant decoy: an ordinary Pod (not privileged, no host namespaces) on every node
    //    running a process named containerd whose executable is swapped after start. The
    //    real containerd is then restarted so its pid is higher than the decoy's (a name-based
    //    search in pid order would take the decoy).
    let decoy_ns = "kreg-nt-tenant";
    let _ = tc.kubectl(&[
        "delete",
        "namespace",
        decoy_ns,
        "--ignore-not-found",
        "--timeout=60s",
    ]);
    tc.kubectl_ok(&["create", "namespace", decoy_ns]);
    let script = "cp /bin/busybox /tmp/containerd && cd /tmp && \
        (exec -a sleep /tmp/containerd 3600 &) && sleep 1 && \
        rm /tmp/containerd && printf '#!/bin/sh\\necho decoy-ran >/tmp/kreg-decoy-ran\\n' >/tmp/containerd && \
        chmod +x /tmp/containerd && exec sleep 3600";
    for n in &tc.nodes {
        let pod = format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"decoy-{name}","namespace":"{decoy_ns}"}},
            "spec":{{"nodeName":"{name}","containers":[{{"name":"d","image":"docker.io/library/registry:2","imagePullPolicy":"IfNotPresent",
            "command":["/bin/sh","-c",{script:?}],"securityContext":{{"privileged":false,"allowPrivilegeEscalation":false}}}}]}}}}"#,
            name = n.name
        );
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), pod).unwrap();
        tc.kubectl_ok(&["apply", "-f", f.path().to_str().unwrap()]);
    }
    tc.kubectl_ok(&[
        "wait",
        "-n",
        decoy_ns,
        "--for=condition=Ready",
        "pod",
        "--all",
        "--timeout=90s",
    ]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    for n in &tc.nodes {
        tc.kcluster_ok(&["node-restart", "--node", &n.name, "containerd"]);
    }
    // Fresh agents, which start their search with the decoys running.
    tc.kubectl_ok(&[
        "delete",
        "pods",
        "-n",
        NS,
        "-l",
        "app.kubernetes.io/name=kreg-node-trust",
        "--wait=true",
    ]);
    let status = kreg_json(
        &tc,
        &["up", "-n", NS, "--yes", "-o", "json", "--timeout", "3m"],
    );
    assert_eq!(status["nodes_trusted"], tc.nodes.len(), "{status}");
    for (node, log) in agent_logs(&tc) {
        let v = last_verdict(&log);
        assert!(
            v.starts_with("kreg-node-trust: trusted:") && v.contains("kubelet (pid"),
            "{node}: the decoy changed the verdict: {log}"
        );
    }
    for n in &tc.nodes {
        // The swapped executable would leave this file in the decoy's own /tmp if run.
        let out = tc.kubectl(&[
            "exec",
            "-n",
            decoy_ns,
            &format!("decoy-{}", n.name),
            "--",
            "ls",
            "/tmp/kreg-decoy-ran",
        ]);
        assert!(
            !out.status.success(),
            "{}: kreg executed the decoy's program",
            n.name
        );
    }
    let _ = tc.kubectl(&["delete", "namespace", decoy_ns, "--wait=false"]);

    // 3. down: no kreg file left on any node.
    let out = kreg(&tc, &["down", "-n", NS, "--yes", "--timeout", "3m"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let left = kreg_files_on(&tc, &registry);
    assert!(
        left.is_empty(),
        "kreg files left on nodes after down: {left:?}"
    );
    purge(&tc, NS);
}

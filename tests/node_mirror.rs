//! Pull-through cache on the node tier: `kreg up --mirror` in front of an "upstream" registry
//! (the harness's second registry, `kcluster upstream`, plain HTTP at 10.213.0.2:5001). A Pod
//! whose image names the upstream is pulled by the node's containerd through kreg's cache
//! (over TLS with kreg's CA), and again from the cache alone once the upstream is stopped.
//! `down` takes the cache and the node's hosts.toml away.

mod support;

use std::time::Instant;

use support::kreg::{kreg, kreg_json, run_hello};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kt-mirror";

/// Removes every image on the node that is the hello image (the harness preloads it as
/// docker.io/kreg-test/hello:1 and other tests pull it under other names), and lets containerd's
/// garbage collector drop its blobs: the next pull must fetch every byte.
/// Makes the node forget the hello image's content, not only its name: every image but the
/// harness's own (pause, registry) is removed, since earlier tests leave images on the node
/// that share hello's blobs (a docker-archive copy, a `kreg push`), and containerd would then
/// pull only the manifest and never ask the cache for a layer.
/// On every node: the Pod may land on any of them.
fn forget_hello_on_nodes(tc: &TestCluster, digest: &str) {
    for node in &tc.nodes {
        forget_hello_on_node(tc, &node.name, digest);
    }
}

fn forget_hello_on_node(tc: &TestCluster, node: &str, digest: &str) {
    let list = text(
        &tc.exec_node_on(node, &["ctr", "-n", "k8s.io", "images", "ls"])
            .stdout,
    );
    let rows: Vec<Vec<&str>> = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|r: &Vec<&str>| r.len() > 2)
        .collect();
    let harness = [
        "k8s.gcr.io/pause:",
        "docker.io/library/registry:",
        "docker.io/kreg-test/kreg-agent",
    ];
    let keep: Vec<&str> = rows
        .iter()
        .filter(|r| harness.iter().any(|h| r[0].starts_with(h)))
        .map(|r| r[2])
        .collect();
    assert!(!keep.contains(&digest), "hello must not be a harness image");
    for r in rows.iter().filter(|r| !keep.contains(&r[2])) {
        let out = tc.exec_node_on(
            node,
            &["ctr", "-n", "k8s.io", "images", "rm", "--sync", r[0]],
        );
        assert!(
            out.status.success(),
            "ctr images rm {} on {node}: {}",
            r[0],
            text(&out.stderr)
        );
    }
}

/// The digest of `reference` on `node`, if that node holds it.
fn hello_digest(tc: &TestCluster, node: &str, reference: &str) -> Option<String> {
    let list = text(
        &tc.exec_node_on(node, &["ctr", "-n", "k8s.io", "images", "ls"])
            .stdout,
    );
    list.lines()
        .find(|l| l.split_whitespace().next() == Some(reference))
        .and_then(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
}

/// `GET https://<address>/v2/<path>` trusting only the CA in `ca_file`.
fn get_tls(address: &str, path: &str, ca_file: &std::path::Path) -> String {
    let out = std::process::Command::new("curl")
        .args(["-fsS", "--max-time", "10", "--cacert"])
        .arg(ca_file)
        .args(["-H", "Accept: application/vnd.oci.image.manifest.v1+json"])
        .arg(format!("https://{address}/v2/{path}"))
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "GET https://{address}/v2/{path} with kreg's CA failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn pods_pull_through_the_mirror_and_from_its_cache_when_the_upstream_is_down() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    // The nodes lose the harness's hello image below (its blobs would short-cut the cache);
    // the next test files use it, so it goes back when this test ends, passed or not.
    let _restore = support::HelloBack(&tc);
    let _ = kreg(&tc, &["down", "-n", NS, "--purge", "--yes"]);
    let upstream = tc.kcluster_ok(&["upstream", "start"]).trim().to_string();
    assert!(
        !upstream.is_empty(),
        "kcluster upstream start prints its address"
    );
    let image = format!("{upstream}/kreg-test/hello:1");
    let digest = hello_digest(&tc, &tc.nodes[0].name, "docker.io/kreg-test/hello:1")
        .expect("the harness preloads the hello image");
    let no_node_holds = |reference: &str| {
        for node in &tc.nodes {
            assert_eq!(
                hello_digest(&tc, &node.name, reference),
                None,
                "node {} must not hold {reference} yet",
                node.name
            );
        }
    };
    let certs_ds: Vec<_> = tc
        .nodes
        .iter()
        .map(|n| n.etc().join("containerd/certs.d"))
        .collect();

    // A second cache, `other.kreg.test` (the same upstream under another name: Distribution
    // 2.8 does not start a cache whose upstream is unreachable), for which the node admin has
    // a hosts.toml of their own: kreg must neither replace nor remove it.
    let other = "other.kreg.test";
    let other_flag = format!("{other}=http://{upstream}");
    let theirs = "# the node admin's own\nserver = \"https://other.mirror.example\"\n";
    for certs_d in &certs_ds {
        std::fs::create_dir_all(certs_d.join(other)).unwrap();
        std::fs::write(certs_d.join(other).join("hosts.toml"), theirs).unwrap();
    }

    // 1. up with a cache for the upstream (plain HTTP here) and the second one.
    let mirror_flag = format!("{upstream}=http://{upstream}");
    let up_args = |mirrors: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["up", "-n", NS, "--yes", "-o", "json", "--timeout", "4m"]
            .map(String::from)
            .to_vec();
        for m in mirrors {
            a.extend(["--mirror".to_string(), m.to_string()]);
        }
        a
    };
    let both = up_args(&[&mirror_flag, &other_flag]);
    let both: Vec<&str> = both.iter().map(String::as_str).collect();
    let started = Instant::now();
    let up = kreg_json(&tc, &both);
    eprintln!(
        "up with two mirrors: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(up["healthy"], true, "{up}");
    assert_eq!(up["nodes_trusted"], tc.node_count(), "{up}");
    let mirrors = up["mirrors"].as_array().expect("up -o json lists mirrors");
    assert_eq!(mirrors.len(), 2, "{up}");
    assert_eq!(mirrors[0]["upstream"], upstream.as_str());
    assert_eq!(mirrors[0]["url"], format!("http://{upstream}"));
    let name = mirrors[0]["name"].as_str().unwrap().to_string();
    let address = mirrors[0]["address"].as_str().unwrap().to_string();
    let cluster_ip = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "service",
        &name,
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    assert_eq!(address, cluster_ip, "nodes pull from the cache's ClusterIP");

    // Every node's containerd tries the cache first and falls back to the upstream.
    for certs_d in &certs_ds {
        let dir = certs_d.join(&upstream);
        let hosts = std::fs::read_to_string(dir.join("hosts.toml"))
            .unwrap_or_else(|e| panic!("node trust wrote {}/hosts.toml: {e}", dir.display()));
        assert!(
            hosts.starts_with(&format!("server = \"http://{upstream}\"\n")),
            "{hosts}"
        );
        assert!(
            hosts.contains(&format!("[host.\"https://{address}\"]")),
            "{hosts}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("kreg-ca.crt")).unwrap(),
            up["ca_pem"].as_str().unwrap()
        );
        assert_eq!(
            std::fs::read_to_string(certs_d.join(other).join("hosts.toml")).unwrap(),
            theirs,
            "a hosts.toml kreg did not write is left alone"
        );
    }

    // 2. A Pod of the upstream's image: every byte comes through the cache.
    forget_hello_on_nodes(&tc, &digest);
    no_node_holds(&image);
    let t = Instant::now();
    run_hello(&tc, "via-mirror", &image);
    eprintln!(
        "first pull (upstream -> cache -> node) and run: {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // The cache holds the repository now: the pull went through it.
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), up["ca_pem"].as_str().unwrap()).unwrap();
    let catalog = get_tls(&address, "_catalog", ca.path());
    assert!(catalog.contains("\"kreg-test/hello\""), "{catalog}");

    // 3. status: both caches listed and healthy (pods ready, /v2/ over TLS with kreg's CA).
    let status = kreg_json(&tc, &["status", "-n", NS, "-o", "json"]);
    assert_eq!(status["healthy"], true, "{status}");
    let sm = &status["mirrors"][0];
    assert_eq!(sm["upstream"], upstream.as_str(), "{status}");
    assert_eq!(sm["healthy"], true, "{status}");
    assert_eq!(sm["replicas_ready"], 1, "{status}");
    assert!(
        sm["probe"].as_str().unwrap().contains("over TLS"),
        "{status}"
    );
    assert_eq!(status["mirrors"][1]["upstream"], other, "{status}");

    // A re-run of up with the same flags changes nothing.
    let again = kreg_json(&tc, &both);
    assert_eq!(again["changed"], serde_json::json!([]), "{again}");

    // 4. The upstream goes away; the node forgets the image; the Pod still starts, from the
    //    cache alone, which serves the manifest by tag and every blob it names.
    tc.kcluster_ok(&["upstream", "stop"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&get_tls(&address, "kreg-test/hello/manifests/1", ca.path())).unwrap();
    let mut blobs = vec![manifest["config"]["digest"].as_str().unwrap().to_string()];
    blobs.extend(
        manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string()),
    );
    for b in &blobs {
        get_tls(&address, &format!("kreg-test/hello/blobs/{b}"), ca.path());
    }
    forget_hello_on_nodes(&tc, &digest);
    no_node_holds(&image);
    let t = Instant::now();
    run_hello(&tc, "from-cache", &image);
    eprintln!(
        "second pull (cache only, upstream down) and run: {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // 5. Caches are sticky: a plain `up` keeps both; `--no-mirror UPSTREAM` drops that one's
    //    cache, and the node's hosts.toml with it.
    let plain = up_args(&[]);
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    let kept = kreg_json(&tc, &plain);
    assert_eq!(kept["mirrors"].as_array().unwrap().len(), 2, "{kept}");
    let mut other_only = up_args(&[]);
    other_only.extend(["--no-mirror".to_string(), upstream.clone()]);
    let other_only: Vec<&str> = other_only.iter().map(String::as_str).collect();
    let t = Instant::now();
    let up = kreg_json(&tc, &other_only);
    eprintln!(
        "up dropping a mirror: {:.1}s ({})",
        t.elapsed().as_secs_f64(),
        up["timings_ms"]
    );
    assert_eq!(up["mirrors"].as_array().unwrap().len(), 1, "{up}");
    assert!(
        !tc.kubectl(&["-n", NS, "get", "deployment", &name])
            .status
            .success(),
        "the cache of an upstream no longer listed is removed"
    );
    for certs_d in &certs_ds {
        assert!(
            !certs_d.join(&upstream).exists(),
            "every node drops the hosts.toml of a removed cache ({})",
            certs_d.display()
        );
    }

    // 6. down: every cache object and kreg's node files are gone; the admin's file stays.
    let t = Instant::now();
    let out = kreg(&tc, &["down", "-n", NS, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    eprintln!("down: {:.1}s", t.elapsed().as_secs_f64());
    let left = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "deployments,services",
        "-l",
        "kreg.dev/role=mirror",
        "-o",
        "name",
    ]);
    assert_eq!(left.trim(), "", "down leaves no cache objects");
    assert!(
        !tc.kubectl(&["-n", NS, "get", "secret", "kreg-mirror-other-kreg-test-tls"])
            .status
            .success(),
        "down removes the cache's certificate"
    );
    for certs_d in &certs_ds {
        assert_eq!(
            std::fs::read_to_string(certs_d.join(other).join("hosts.toml")).unwrap(),
            theirs
        );
    }
    // The caches' PVCs are data: kept without --purge, gone with it.
    assert!(tc
        .kubectl(&["-n", NS, "get", "pvc", &name])
        .status
        .success());
    let out = kreg(&tc, &["down", "-n", NS, "--yes", "--purge"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Leave the nodes as the harness made them for the tests that follow.
    let hello = tc.hello_image.clone().unwrap();
    for (node, certs_d) in tc.nodes.iter().zip(&certs_ds) {
        std::fs::remove_dir_all(certs_d.join(other)).unwrap();
        let out = tc.exec_node_on(
            &node.name,
            &[
                "ctr",
                "-n",
                "k8s.io",
                "images",
                "import",
                hello.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

//! A GitOps install on the node tier: `kreg up --secrets-only` makes the Secrets (and the
//! namespace and Service they depend on), `kreg render` prints everything else, kubectl
//! applies it as Argo CD or Flux would, and `kreg status` says healthy because every node
//! pulled the probe image the rendered Job pushed (as the push user: `--auth` is on). Then a
//! Pod runs an image pushed there, pulled with the pull Secret `--secrets-only` handed out.

mod support;

use std::time::{Duration, Instant};

use support::kreg::{kreg, kreg_json, resolve_on_node, run_hello};
use support::{require, text, Tier};

#[test]
fn secrets_only_then_the_rendered_objects_make_a_healthy_registry() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    let _ = tc.kubectl(&["delete", "job", "-n", "kreg-system", "kreg-probe-push"]);

    // Before `up --secrets-only` there is nothing to render for: refused, with the remedy,
    // and nothing is created.
    let out = kreg(&tc, &["render"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("kreg up --secrets-only"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tc
        .kubectl(&["get", "namespace", "kreg-system"])
        .status
        .success());

    // 1. The Secrets, and no workload.
    let up = kreg_json(
        &tc,
        &[
            "up",
            "--secrets-only",
            "--auth",
            "--pull-secret-namespaces",
            "default",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "2m",
        ],
    );
    let registry = up["registry"].as_str().unwrap().to_string();
    for absent in ["deployment/kreg-registry", "daemonset/kreg-node-trust"] {
        assert!(
            !tc.kubectl(&["-n", "kreg-system", "get", absent])
                .status
                .success(),
            "--secrets-only applied {absent}"
        );
    }
    for present in [
        "secret/kreg-ca",
        "secret/kreg-tls",
        "secret/kreg-auth",
        "service/kreg-registry",
    ] {
        tc.kubectl_ok(&["-n", "kreg-system", "get", present]);
    }
    // The pull Secret is a secret too: made here, and the namespace's default
    // ServiceAccount uses it.
    tc.kubectl_ok(&["-n", "default", "get", "secret", "kreg-pull"]);
    let status = kreg(&tc, &["status", "-o", "json"]);
    assert_eq!(status.status.code(), Some(1), "no registry runs yet");

    // 2. render: the comment block, the objects, no Secret and no key.
    let out = kreg(&tc, &["render"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.starts_with("# kreg render"), "{yaml}");
    assert!(yaml.contains(&format!("registry {registry}")), "{yaml}");
    for referenced in [
        "Secret/kreg-tls",
        "Secret/kreg-auth",
        "Secret/kreg-pull -n default",
    ] {
        assert!(yaml.contains(&format!("#   {referenced}\n")), "{yaml}");
    }
    assert!(!yaml.contains("PRIVATE KEY"));
    assert!(!yaml.contains("\nkind: Secret\n"), "{yaml}");
    for kind in ["Deployment", "DaemonSet", "Job", "Service"] {
        assert!(yaml.contains(&format!("\nkind: {kind}\n")), "no {kind}");
    }
    // -o json holds the same objects.
    let doc = kreg_json(&tc, &["render", "-o", "json"]);
    assert_eq!(doc["schemaVersion"], 1);
    assert_eq!(
        doc["objects"].as_array().unwrap().len(),
        yaml.matches("\n---\n").count() + usize::from(yaml.starts_with("---")),
        "{yaml}"
    );

    // 3. Applied by kubectl, as a GitOps tool would.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kreg.rendered.yaml");
    std::fs::write(&file, &yaml).unwrap();
    tc.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);

    // 4. status: healthy once the registry answers and each node pulled the probe.
    let nodes = tc.node_count();
    let started = Instant::now();
    let last = loop {
        let out = kreg(&tc, &["status", "-o", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if doc["healthy"] == true || started.elapsed() > Duration::from_secs(300) {
            break doc;
        }
        std::thread::sleep(Duration::from_secs(5));
    };
    assert_eq!(last["healthy"], true, "{last}");
    assert_eq!(last["nodes_trusted"], nodes, "{last}");
    let job = tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "get",
        "job",
        "kreg-probe-push",
        "-o",
        "jsonpath={.status.succeeded}",
    ]);
    assert_eq!(job.trim(), "1", "the probe Job pushed");

    // 5. The registry is usable: an image pushed there runs on the nodes.
    let hello = tc.hello_image.clone().expect("hello image");
    let pushed = kreg(
        &tc,
        &["push", hello.to_str().unwrap(), "--name", "gitops/hello:1"],
    );
    assert!(pushed.status.success(), "{}", text(&pushed.stderr));
    let image = text(&pushed.stdout).trim().to_string();
    assert!(image.starts_with(&registry), "{image}");
    resolve_on_node(&tc, up["address"].as_str().unwrap(), &registry);
    run_hello(&tc, "gitops-hello", &image);

    tc.kubectl_ok(&["delete", "-f", file.to_str().unwrap(), "--wait=false"]);
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

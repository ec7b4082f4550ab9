//! `kreg push` on the node tier: images as files (a docker-save tarball, an OCI layout
//! directory, an OCI archive) pushed without docker, then pulled by the node's containerd and
//! run as Pods; the port-forward fallback when the registry's address is not reachable from
//! this machine; bad input refused with exit 2 and nothing pushed; and the same binary as the
//! kubectl plugin `kubectl kreg`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::kreg::{kreg, kreg_json, resolve_on_node, run_hello, Workstation, KREG};
use support::{require, text, TestCluster, Tier};

fn skopeo(args: &[&str]) {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        text(&out.stderr)
    );
}

/// Pushes with `-o json`, asserts success and the reference's shape, returns the report.
fn push_json(tc: &TestCluster, args: &[&str]) -> Value {
    let mut all = vec!["push", "-o", "json"];
    all.extend_from_slice(args);
    let r = kreg_json(tc, &all);
    assert_eq!(r["schemaVersion"], 1, "{r}");
    let reference = r["reference"].as_str().unwrap();
    assert_eq!(
        reference,
        format!(
            "{}/{}:{}@{}",
            r["registry"].as_str().unwrap(),
            r["repository"].as_str().unwrap(),
            r["tag"].as_str().unwrap(),
            r["digest"].as_str().unwrap()
        )
    );
    r
}

fn assert_refused(out: &Output, why: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    assert!(err.contains(why), "expected {why:?} in: {err}");
}

#[test]
fn files_are_pushed_and_run_as_pods() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let hello = tc.hello_image.clone().expect("the harness builds hello");
    let hello = hello.to_str().unwrap();
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    let up = kreg_json(&tc, &["up", "--yes", "-o", "json", "--timeout", "4m"]);
    assert_eq!(up["healthy"], true, "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    resolve_on_node(&tc, up["address"].as_str().unwrap(), &registry);
    let tmp = tempfile::tempdir().unwrap();
    let path = |name: &str| tmp.path().join(name).display().to_string();

    // 1. A docker-save tarball: named inside, no registry manifest (kreg builds one).
    skopeo(&[
        "copy",
        "--quiet",
        &format!("oci-archive:{hello}"),
        &format!("docker-archive:{}:kreg-test/hello:docker", path("save.tar")),
    ]);
    let out = kreg(&tc, &["push", &path("save.tar")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout must be only the reference: {stdout:?}"
    );
    let reference = stdout.trim_end();
    assert!(
        reference.starts_with(&format!("{registry}/kreg-test/hello:docker@sha256:")),
        "stdout must be only the reference: {reference:?}"
    );
    assert!(!text(&out.stderr).contains("port-forward"));
    run_hello(&tc, "push-docker", reference);

    // 2. An OCI layout directory, its name in org.opencontainers.image.ref.name.
    skopeo(&[
        "copy",
        "--quiet",
        &format!("oci-archive:{hello}"),
        &format!("oci:{}:kreg-test/hello:oci", path("layout")),
    ]);
    let r = push_json(&tc, &[&path("layout")]);
    assert_eq!(r["format"], "oci-layout");
    assert_eq!(r["repository"], "kreg-test/hello");
    assert_eq!(r["tag"], "oci");
    assert_eq!(r["port_forward"], false);
    run_hello(&tc, "push-oci", r["reference"].as_str().unwrap());

    // 3. The OCI archive itself, renamed. Its blobs are already in the registry under another
    //    repository name only, so they are uploaded again; a second push uploads nothing.
    let r = push_json(&tc, &[hello, "--name", "kreg-test/renamed:3"]);
    assert_eq!(r["format"], "oci-archive");
    assert_eq!(r["blobs_uploaded"], 2, "{r}");
    run_hello(&tc, "push-archive", r["reference"].as_str().unwrap());
    let again = push_json(&tc, &[hello, "--name", "kreg-test/renamed:3"]);
    assert_eq!(again["blobs_uploaded"], 0, "{again}");
    assert_eq!(again["blobs_present"], 2);
    assert_eq!(again["digest"], r["digest"]);

    // 4. A forced port-forward reaches the same registry, with TLS verified against kreg's CA.
    let out = kreg(
        &tc,
        &[
            "push",
            hello,
            "--name",
            "kreg-test/forwarded:4",
            "--port-forward",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("port-forward 127.0.0.1:"));
    run_hello(&tc, "push-forced", text(&out.stdout).trim_end());

    // 5. Bad input: exit 2, a clear message, nothing pushed.
    assert_refused(&kreg(&tc, &["push", &path("absent.tar")]), "cannot read");
    std::fs::write(path("notes.txt"), "not an image").unwrap();
    assert_refused(
        &kreg(
            &tc,
            &["push", &path("notes.txt"), "--name", "kreg-test/bad:1"],
        ),
        "not a tar archive",
    );
    assert_refused(
        &kreg(&tc, &["push", hello, "--name", "Kreg-Test/Bad:1"]),
        "invalid --name",
    );
    assert_refused(
        &kreg(
            &tc,
            &[
                "push",
                hello,
                "--name",
                &format!("{registry}/kreg-test/bad:1"),
            ],
        ),
        "leave the host out",
    );
    // A layout whose layer was changed after the fact (same size, other bytes).
    skopeo(&[
        "copy",
        "--quiet",
        &format!("oci:{}:kreg-test/hello:oci", path("layout")),
        &format!("oci:{}:x", path("damaged")),
    ]);
    let biggest = std::fs::read_dir(tmp.path().join("damaged/blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| p.metadata().unwrap().len())
        .unwrap();
    flip_last_byte(&biggest);
    assert_refused(
        &kreg(
            &tc,
            &["push", &path("damaged"), "--name", "kreg-test/bad:1"],
        ),
        "damaged",
    );
    assert_eq!(
        tags(&tc, &registry, "kreg-test/bad"),
        None,
        "a refused push left an image"
    );
    assert_eq!(
        tags(&tc, &registry, "kreg-test/hello").as_deref(),
        Some(&["docker".to_string(), "oci".to_string()][..])
    );

    // 6. The kubectl plugin: `kubectl kreg` runs this binary with kubectl's environment.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(KREG, bin.path().join("kubectl-kreg")).unwrap();
    let help = kubectl_plugin(&tc, bin.path(), &["kreg", "--help"]);
    assert!(help.status.success(), "{}", text(&help.stderr));
    assert!(text(&help.stdout).contains("Usage: kubectl kreg [OPTIONS] <COMMAND>"));
    let status = kubectl_plugin(&tc, bin.path(), &["kreg", "status"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(text(&status.stdout).contains(&registry));
    let missing = kubectl_plugin(
        &tc,
        bin.path(),
        &["kreg", "-n", "kreg-absent", "push", hello],
    );
    assert_refused(&missing, "run `kubectl kreg up` first");

    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

/// A registry whose address this machine cannot reach — an ELB host name only the node can
/// resolve — still gets the image, through a port-forward to the registry pod.
#[test]
fn an_unreachable_address_is_pushed_to_through_a_port_forward() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let hello = tc.hello_image.clone().unwrap();
    let ns = "push-elb";
    let _lb = LbReset(&tc);
    tc.kcluster_ok(&["lb", "hostname"]);
    // `up` itself probes from here, which cannot work: --no-wait, and wait with kubectl.
    let up = up_in(&tc, ns, &["--expose", "loadbalancer", "--no-wait"]);
    let registry = up["registry"].as_str().unwrap().to_string();
    assert!(registry.ends_with(".amazonaws.com"), "{up}");
    tc.kubectl_ok(&[
        "-n",
        ns,
        "rollout",
        "status",
        "deploy/kreg-registry",
        "--timeout=120s",
    ]);
    // With --no-wait no probe image was pushed, so the agents are not ready (not verified);
    // their files are written all the same.
    let t = std::time::Instant::now();
    while !tc.nodes.iter().all(|n| {
        n.etc()
            .join("containerd/certs.d")
            .join(&registry)
            .join("hosts.toml")
            .exists()
    }) {
        assert!(
            t.elapsed().as_secs() < 120,
            "the node agents wrote no hosts.toml for {registry}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    // Only the node's hosts file knows the ELB name; this machine cannot resolve it.
    let out = kreg(
        &tc,
        &[
            "-n",
            ns,
            "push",
            hello.to_str().unwrap(),
            "--name",
            "kreg-test/elb:1",
            "-o",
            "json",
        ],
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("is not reachable from this machine"), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["port_forward"], true, "{r}");
    assert_eq!(r["registry"], registry.as_str());
    run_hello(&tc, "push-elb", r["reference"].as_str().unwrap());
    let _ = kreg(&tc, &["-n", ns, "down", "--purge", "--yes"]);
}

/// `--expose localhost`: the registry is the nodes' own loopback, never this machine's, so the
/// push always goes through the port-forward, over plain HTTP as the nodes pull.
#[test]
fn a_localhost_registry_is_pushed_to_through_a_port_forward() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let hello = tc.hello_image.clone().unwrap();
    let ns = "push-localhost";
    let up = up_in(&tc, ns, &["--expose", "localhost"]);
    assert_eq!(up["healthy"], true, "{up}");
    let r = push_json(
        &tc,
        &[
            "-n",
            ns,
            hello.to_str().unwrap(),
            "--name",
            "kreg-test/lo:1",
        ],
    );
    assert_eq!(r["port_forward"], true, "{r}");
    assert!(
        r["registry"].as_str().unwrap().starts_with("localhost:"),
        "{r}"
    );
    run_hello(&tc, "push-localhost", r["reference"].as_str().unwrap());
    let _ = kreg(&tc, &["-n", ns, "down", "--purge", "--yes"]);
}

/// `kreg -n NS up --yes -o json EXTRA...` on a clean namespace.
fn up_in(tc: &TestCluster, ns: &str, extra: &[&str]) -> Value {
    let _ = kreg(tc, &["-n", ns, "down", "--purge", "--yes"]);
    let mut args = vec!["-n", ns, "up", "--yes", "-o", "json"];
    args.extend_from_slice(extra);
    kreg_json(tc, &args)
}

/// Puts the harness's load balancer back into IP mode, also when the test fails.
struct LbReset<'a>(&'a TestCluster);

impl Drop for LbReset<'_> {
    fn drop(&mut self) {
        let _ = self.0.kcluster(&["lb", "ip"]);
    }
}

fn flip_last_byte(p: &Path) {
    let mut bytes = std::fs::read(p).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(p, bytes).unwrap();
}

/// The tags of `repo` in the registry (skopeo, trusting kreg's CA), `None` if it has none.
fn tags(tc: &TestCluster, registry: &str, repo: &str) -> Option<Vec<String>> {
    let status = kreg_json(tc, &["status", "-o", "json"]);
    let certs = tempfile::tempdir().unwrap();
    std::fs::write(
        certs.path().join("ca.crt"),
        status["ca_pem"].as_str().unwrap(),
    )
    .unwrap();
    let ws = Workstation::new();
    ws.add_host(
        status["address"].as_str().unwrap(),
        support::kreg::host_of(registry),
    );
    let out = ws.sh(&format!(
        "skopeo list-tags --cert-dir {} docker://{registry}/{repo}",
        certs.path().display()
    ));
    if !out.status.success() {
        let err = text(&out.stderr);
        // Older registries answer a bare 404, newer ones NAME_UNKNOWN.
        assert!(
            err.contains("404") || err.to_lowercase().contains("unknown"),
            "{err}"
        );
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut t: Vec<String> = v["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    t.sort();
    Some(t)
}

/// `kubectl ARGS` with `dir` first on PATH and the cluster's kubeconfig in KUBECONFIG, as a
/// user with the plugin installed would run it.
fn kubectl_plugin(tc: &TestCluster, dir: &Path, args: &[&str]) -> Output {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(kubectl)
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", &tc.kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

//! `kreg up`, `status` and `down` against the API tier of the project's test cluster: a real
//! kube-apiserver + etcd + controllers, the harness's load balancer and storage provisioner,
//! no node. `up --no-wait` stops before the rollout (no node can run the pod here).
//! Run by tests/run.sh with --test-threads=1 (the harness's load-balancer mode is global).

mod support;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use serde_json::Value;
use support::kreg::{api_tier_up, kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

fn up(tc: &TestCluster, ns: &str, extra: &[&str]) -> Value {
    kreg_json(tc, &api_tier_up(ns, "60s", extra))
}

fn cleanup(tc: &TestCluster, ns: &str) {
    purge(tc, ns);
    // Fake flavour nodes would hold DaemonSet pods (and so the namespace) forever.
    tc.kcluster_ok(&["flavor", "clear"]);
}

async fn client(tc: &TestCluster) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(&tc.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// The serving certificate kreg stored, as PEM.
fn leaf_pem(tc: &TestCluster, ns: &str) -> String {
    tc.secret_text(ns, "kreg-tls", "tls.crt")
}

fn leaf_of(tc: &TestCluster, ns: &str) -> kreg::pki::CertInfo {
    kreg::pki::inspect(&leaf_pem(tc, ns)).unwrap()
}

fn resource_versions(tc: &TestCluster, ns: &str) -> String {
    tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "deploy,svc,secret,configmap,pvc,daemonset",
        "-l",
        "app.kubernetes.io/managed-by=kreg",
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}",
    ])
}

#[test]
fn up_with_a_load_balancer_ip_is_idempotent_and_keeps_its_ca() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-lb-ip";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);

    let first = up(&tc, ns, &[]);
    assert_eq!(first["expose"], "loadbalancer");
    let address = first["address"].as_str().unwrap().to_string();
    let ip: std::net::IpAddr = address.parse().expect("the harness answers with an IP");
    assert_eq!(first["host"], format!("registry.{ip}.nip.io"));
    assert_eq!(first["registry"], format!("registry.{ip}.nip.io"));
    let ca_sha = first["ca_sha256"].as_str().unwrap().to_string();
    assert_eq!(ca_sha.len(), 64);
    assert_eq!(
        kreg::pki::cert_sha256(first["ca_pem"].as_str().unwrap()).unwrap(),
        ca_sha
    );
    assert!(!first["changed"].as_array().unwrap().is_empty());

    // The serving certificate names the host and the IP and chains to the CA.
    let leaf = leaf_of(&tc, ns);
    assert!(
        leaf.dns_names.contains(&format!("registry.{ip}.nip.io")),
        "{:?}",
        leaf.dns_names
    );
    assert!(leaf.ips.contains(&ip));
    // Everything kreg made carries its label.
    let unlabelled = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "deploy,svc,pvc,daemonset,configmap",
        "-l",
        "app.kubernetes.io/managed-by!=kreg",
        "-o",
        "name",
    ]);
    assert!(
        !unlabelled.contains("kreg-"),
        "objects without managed-by: {unlabelled}"
    );

    // A second run changes nothing: same CA, no writes.
    let before = resource_versions(&tc, ns);
    let again = up(&tc, ns, &[]);
    assert_eq!(again["ca_sha256"], ca_sha);
    assert_eq!(
        again["changed"],
        serde_json::json!([]),
        "second up wrote: {}",
        again["changed"]
    );
    assert_eq!(resource_versions(&tc, ns), before);

    // down keeps the CA and the PVC, and says so; up again adopts the same CA.
    let out = kreg(&tc, &["down", "-n", ns, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("kept"), "{}", text(&out.stderr));
    tc.kubectl_ok(&["-n", ns, "get", "secret", "kreg-ca"]);
    tc.kubectl_ok(&["-n", ns, "get", "pvc", "kreg-registry-data"]);
    assert!(!tc
        .kubectl(&["-n", ns, "get", "deploy", "kreg-registry"])
        .status
        .success());
    let back = up(&tc, ns, &[]);
    assert_eq!(back["ca_sha256"], ca_sha, "up after down must reuse the CA");

    // --purge removes the CA and the images too.
    let out = kreg(&tc, &["down", "-n", ns, "--yes", "--purge"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!tc
        .kubectl(&["-n", ns, "get", "secret", "kreg-ca"])
        .status
        .success());
    cleanup(&tc, ns);
}

#[test]
fn an_address_change_reissues_the_leaf_under_the_same_ca() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-move";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let first = up(&tc, ns, &[]);
    let old_ip = first["address"].as_str().unwrap().to_string();
    let new_ip = "10.254.77.77";
    assert_ne!(old_ip, new_ip);

    // Play a cloud that moved the load balancer.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let svcs: Api<Service> = Api::namespaced(client(&tc).await, ns);
        let status = serde_json::json!({"status": {"loadBalancer": {"ingress": [{"ip": new_ip}]}}});
        svcs.patch_status(
            "kreg-registry",
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await
        .unwrap();
    });
    let status = kreg(&tc, &["status", "-n", ns, "-o", "json"]);
    assert_eq!(
        status.status.code(),
        Some(1),
        "status must see the stale certificate"
    );
    let report: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(report["cert_matches_address"], false);

    let moved = up(&tc, ns, &[]);
    assert_eq!(moved["address"], new_ip);
    assert_eq!(
        moved["ca_sha256"], first["ca_sha256"],
        "the CA must survive an address change"
    );
    assert!(moved["changed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "Secret/kreg-tls"));
    let leaf = leaf_of(&tc, ns);
    assert!(leaf.ips.contains(&new_ip.parse().unwrap()));
    assert!(!leaf.ips.contains(&old_ip.parse().unwrap()));
    // The leaf verifies against the CA the user already trusts.
    let ca_pem = moved["ca_pem"].as_str().unwrap();
    kreg::pki::verify_signed_by(&leaf_pem(&tc, ns), ca_pem).unwrap();
    cleanup(&tc, ns);
}

#[test]
fn an_elb_hostname_becomes_the_registry_name() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-elb";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "hostname"]);
    let r = up(&tc, ns, &[]);
    tc.kcluster_ok(&["lb", "ip"]);
    let host = r["host"].as_str().unwrap().to_string();
    assert!(host.ends_with(".elb.us-east-1.amazonaws.com"), "{host}");
    assert_eq!(r["address"], host);
    assert_eq!(r["registry"], host);
    let leaf = leaf_of(&tc, ns);
    assert_eq!(leaf.dns_names, vec![host]);
    assert!(
        leaf.ips.is_empty(),
        "an ELB's IPs change: none may be pinned in the certificate"
    );
    cleanup(&tc, ns);
}

#[test]
fn a_late_load_balancer_is_waited_for_and_a_missing_one_times_out_clearly() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-late";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "delay", "4"]);
    let r = up(&tc, ns, &[]);
    assert!(r["address"]
        .as_str()
        .unwrap()
        .parse::<std::net::IpAddr>()
        .is_ok());
    cleanup(&tc, ns);

    let ns = "kt-never";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "never"]);
    let out = kreg(
        &tc,
        &[
            "up",
            "-n",
            ns,
            "--expose",
            "loadbalancer",
            "--yes",
            "--timeout",
            "5s",
        ],
    );
    tc.kcluster_ok(&["lb", "ip"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("got no address within"), "{err}");
    assert!(
        err.contains("--expose nodeport"),
        "the hint names the way out: {err}"
    );
    cleanup(&tc, ns);
}

#[test]
fn a_user_without_rights_is_stopped_before_anything_is_created() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-norights";
    cleanup(&tc, ns);
    let kubeconfig = tc.kcluster_ok(&["user", "kt-nobody"]).trim().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kreg"))
        .args([
            "up",
            "-n",
            ns,
            "--expose",
            "loadbalancer",
            "--yes",
            "--kubeconfig",
            &kubeconfig,
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("not allowed to") && err.contains("create namespaces"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        !tc.kubectl(&["get", "namespace", ns]).status.success(),
        "namespace must not exist"
    );
}

#[test]
fn connection_problems_get_one_clear_message() {
    let Some(tc) = require(Tier::Api) else { return };
    let dir = tempfile::tempdir().unwrap();

    let out = kreg(&tc, &["status", "--context", "no-such-context"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("context \"no-such-context\" is not in"),
        "{err}"
    );
    assert!(err.contains("hint: use one of:"), "{err}");

    // A kubeconfig whose server is dead: a port on loopback nobody listens on.
    let good = std::fs::read_to_string(&tc.kubeconfig).unwrap();
    let server_line = good
        .lines()
        .find(|l| l.trim_start().starts_with("server:"))
        .unwrap();
    let dead = good.replace(server_line, "    server: https://127.0.0.1:9");
    let dead_path = dir.path().join("dead");
    std::fs::write(&dead_path, dead).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kreg"))
        .args(["status", "--kubeconfig"])
        .arg(&dead_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot reach the API server at https://127.0.0.1:9"),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && err.lines().count() <= 4,
        "{err}"
    );

    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, "this: [is not a kubeconfig").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kreg"))
        .args(["status", "--kubeconfig"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read kubeconfig"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_flavour_is_detected_from_its_nodes() {
    let Some(tc) = require(Tier::Api) else { return };
    for (flavor, expose) in [
        ("kind", "nodeport"),
        ("k3s", "loadbalancer"),
        ("minikube", "nodeport"),
        ("eks", "loadbalancer"),
        ("aks", "loadbalancer"),
        ("gke", "loadbalancer"),
        ("kubeadm", "nodeport"),
    ] {
        tc.kcluster_ok(&["flavor", "clear"]);
        tc.kcluster_ok(&["flavor", flavor]);
        let out = kreg(&tc, &["up", "--dry-run", "-o", "json", "-n", "kt-detect"]);
        assert!(out.status.success(), "{flavor}: {}", text(&out.stderr));
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = if flavor == "kubeadm" {
            "generic"
        } else {
            flavor
        };
        assert_eq!(
            r["flavor"],
            want,
            "{flavor}: evidence: {}",
            text(&out.stderr)
        );
        assert_eq!(r["expose"], expose, "{flavor}");
        let kinds: Vec<&str> = r["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"Deployment") && kinds.contains(&"DaemonSet"),
            "{kinds:?}"
        );
        // Secrets are listed but never their contents.
        assert!(!String::from_utf8_lossy(&out.stdout).contains("PRIVATE KEY"));
    }
    tc.kcluster_ok(&["flavor", "clear"]);
    // A dry run changes nothing.
    assert!(!tc
        .kubectl(&["get", "namespace", "kt-detect"])
        .status
        .success());
}

#[test]
fn a_cluster_without_a_default_storage_class_is_told_before_anything_is_applied() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-nosc";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["storage", "off"]);
    let out = kreg(
        &tc,
        &[
            "up",
            "-n",
            ns,
            "--expose",
            "loadbalancer",
            "--yes",
            "--no-wait",
        ],
    );
    let with_emptydir = kreg(
        &tc,
        &[
            "up",
            "-n",
            ns,
            "--expose",
            "loadbalancer",
            "--yes",
            "--no-wait",
            "--storage",
            "emptydir",
            "-o",
            "json",
        ],
    );
    tc.kcluster_ok(&["storage", "on"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no default StorageClass") || err.contains("no StorageClass"),
        "{err}"
    );
    assert!(err.contains("--storage emptydir"), "{err}");
    assert!(
        with_emptydir.status.success(),
        "{}",
        text(&with_emptydir.stderr)
    );
    assert!(
        text(&with_emptydir.stderr).contains("LOST"),
        "emptydir must be said loudly"
    );
    cleanup(&tc, ns);
}

#[test]
fn rotate_ca_first_hands_out_both_cas_and_never_deletes_the_old_one() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-rotate";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let first = up(&tc, ns, &[]);
    let again = up(&tc, ns, &[]);
    assert_eq!(
        again["ca_sha256"], first["ca_sha256"],
        "without --rotate-ca the CA stays"
    );
    let uid = |name: &str| {
        tc.kubectl_ok(&[
            "-n",
            ns,
            "get",
            "secret",
            name,
            "-o",
            "jsonpath={.metadata.uid}",
        ])
    };
    let ca_uid = uid("kreg-ca");

    // Step one of a rotation (`--no-wait` here: no node can confirm): the new CA is written
    // beside the old one and handed out with it; the registry keeps serving under the old one.
    let rotated = up(&tc, ns, &["--rotate-ca"]);
    assert_eq!(
        rotated["ca_sha256"], first["ca_sha256"],
        "the registry switches only once every node trusts the new CA"
    );
    let host = rotated["host"].as_str().unwrap();
    let both = kreg::pki::check_kreg_ca(
        rotated["ca_pem"].as_str().unwrap(),
        host,
        time::OffsetDateTime::now_utc(),
        false,
    )
    .unwrap();
    assert_eq!(both.len(), 2, "old and new CA handed out together");
    assert_eq!(Value::from(both[0].clone()), first["ca_sha256"]);
    assert_eq!(uid("kreg-ca"), ca_uid, "the CA Secret is never deleted");
    assert!(
        !uid("kreg-ca-next").is_empty(),
        "the new CA is stored first"
    );
    let state = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "configmap",
        "kreg-state",
        "-o",
        "jsonpath={.data.ca\\.crt}",
    ]);
    assert_eq!(state.trim(), rotated["ca_pem"].as_str().unwrap().trim());
    let pem = leaf_pem(&tc, ns);
    kreg::pki::verify_signed_by(&pem, first["ca_pem"].as_str().unwrap()).unwrap();
    // The new CA carries name constraints for this installation.
    let new = kreg::pki::ca_scope_of(
        rotated["ca_pem"]
            .as_str()
            .unwrap()
            .split_inclusive("-----END CERTIFICATE-----")
            .nth(1)
            .unwrap(),
    )
    .unwrap()
    .expect("constrained");
    assert!(new.dns.iter().any(|d| d == "nip.io"), "{new:?}");

    // Repeating it resumes the same rotation: no third CA.
    let resumed = up(&tc, ns, &["--rotate-ca"]);
    assert_eq!(resumed["ca_pem"], rotated["ca_pem"]);

    // `down --purge` takes the half-done rotation's new CA (a key) with the rest.
    let down = kreg_json(
        &tc,
        &[
            "down",
            "-n",
            ns,
            "--purge",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "90s",
        ],
    );
    let removed = down["removed"].to_string();
    for gone in ["Secret/kreg-ca\"", "Secret/kreg-ca-next", "Namespace/"] {
        assert!(removed.contains(gone), "{gone} not removed: {down}");
    }
    cleanup(&tc, ns);
}

#[test]
fn two_concurrent_ups_end_with_one_ca() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-race";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let spawn = || {
        std::process::Command::new(support::kreg::KREG)
            .args(api_tier_up(ns, "60s", &["--kubeconfig"]))
            .arg(&tc.kubeconfig)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(b.status.success(), "{}", text(&b.stderr));
    let (ja, jb): (Value, Value) = (
        serde_json::from_slice(&a.stdout).unwrap(),
        serde_json::from_slice(&b.stdout).unwrap(),
    );
    assert_eq!(
        ja["ca_sha256"], jb["ca_sha256"],
        "the loser must adopt the winner's CA"
    );
    // What is stored is that CA, and the serving certificate chains to it.
    let stored = up(&tc, ns, &[]);
    assert_eq!(stored["ca_sha256"], ja["ca_sha256"]);
    let pem = leaf_pem(&tc, ns);
    kreg::pki::verify_signed_by(&pem, stored["ca_pem"].as_str().unwrap()).unwrap();
    cleanup(&tc, ns);
}

/// `up --dry-run` and `up` converge one rendered list (issue 12): every object the dry run
/// lists exists after `up`, and every object in the namespace that carries kreg's label was
/// listed (the state record aside: it is bookkeeping, not desired state). Before the list,
/// the dry run was a second, hand-kept copy, and it missed the node agents' restart identity.
#[test]
fn the_dry_run_lists_exactly_what_up_applies() {
    let Some(tc) = require(Tier::Api) else { return };
    let (ns, team) = ("kt-render", "kt-render-team");
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let _ = tc.kubectl(&["create", "namespace", team]);
    let flags = [
        "--auth",
        "--pull-secret-namespaces",
        team,
        "--allow-runtime-restart",
        "--gc-schedule",
        "0 3 * * 0",
        "--gc-image",
        "docker.io/bitnami/kubectl@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ];
    let mut dry_args = api_tier_up(ns, "60s", &flags);
    dry_args.push("--dry-run");
    let dry = kreg_json(&tc, &dry_args);
    let listed: std::collections::BTreeSet<(String, String, String)> = dry["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            let m = &o["metadata"];
            (
                o["kind"].as_str().unwrap().to_string(),
                m["namespace"].as_str().unwrap_or_default().to_string(),
                m["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(listed.len() > 10, "a full install lists more: {listed:?}");
    up(&tc, ns, &flags);

    for (kind, namespace, name) in &listed {
        let mut args = vec!["get", kind.as_str(), name.as_str()];
        if !namespace.is_empty() {
            args.extend(["-n", namespace.as_str()]);
        }
        let out = tc.kubectl(&args);
        assert!(
            out.status.success(),
            "the dry run listed {kind} {namespace}/{name}, but `up` did not create it: {}",
            text(&out.stderr)
        );
    }
    let live = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "deploy,daemonset,svc,secret,configmap,pvc,serviceaccount,role,rolebinding,ingress,networkpolicy,cronjob",
        "-l",
        "app.kubernetes.io/managed-by=kreg",
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.name}{\"\\n\"}{end}",
    ]);
    let unlisted: Vec<&str> = live
        .lines()
        .filter(|l| *l != "ConfigMap/kreg-state")
        .filter(|l| {
            let (kind, name) = l.split_once('/').unwrap();
            !listed.contains(&(kind.to_string(), ns.to_string(), name.to_string()))
        })
        .collect();
    assert!(
        unlisted.is_empty(),
        "`up` applied objects the dry run did not list: {unlisted:?}"
    );
    cleanup(&tc, ns);
    let _ = tc.kubectl(&["delete", "namespace", team, "--wait=false"]);
}

/// `--dns-suffix none` (issue 13, item 2): the registry is named by its IP, so neither the
/// nodes nor a workstation needs any resolver, and the CA's name constraints permit no suffix.
#[test]
fn with_no_dns_suffix_the_registry_is_its_ip() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-no-dns";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let report = up(&tc, ns, &["--dns-suffix", "none"]);
    let ip: std::net::IpAddr = report["address"].as_str().unwrap().parse().unwrap();
    assert_eq!(report["registry"], ip.to_string(), "{report}");
    assert_eq!(report["host"], ip.to_string());
    let leaf = leaf_of(&tc, ns);
    assert!(leaf.ips.contains(&ip), "{:?}", leaf.ips);
    assert!(leaf.dns_names.is_empty(), "{:?}", leaf.dns_names);
    let ca = kreg::pki::ca_scope_of(report["ca_pem"].as_str().unwrap())
        .unwrap()
        .expect("kreg's CA carries name constraints");
    assert!(
        !ca.dns.iter().any(|d| d == "none" || d == "nip.io"),
        "{:?}",
        ca.dns
    );
    cleanup(&tc, ns);
}

/// `--storage s3` with a credentials Secret that is missing or incomplete stops before anything
/// is applied, naming the Secret and how to create it (the registry would otherwise
/// crash-loop on an empty key).
#[test]
fn s3_without_its_credentials_secret_is_refused_before_anything_is_applied() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-s3-creds";
    cleanup(&tc, ns);
    let s3 = [
        "--storage",
        "s3",
        "--s3-bucket",
        "kreg",
        "--s3-region",
        "garage",
        "--s3-endpoint",
        "http://10.213.0.2:3900",
        "--s3-secret",
        "s3-creds",
    ];
    let out = kreg(&tc, &api_tier_up(ns, "60s", &s3));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Secret s3-creds does not exist"), "{err}");
    assert!(err.contains("hint:") && err.contains("accesskey="), "{err}");
    assert!(
        !tc.kubectl(&["get", "namespace", ns]).status.success(),
        "the namespace was created although nothing may be"
    );
    tc.kubectl_ok(&["create", "namespace", ns]);
    tc.kubectl_ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        "s3-creds",
        "--from-literal=accesskey=GK0000",
    ]);
    let out = kreg(&tc, &api_tier_up(ns, "60s", &s3));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("has no secretkey"), "{err}");
    assert!(
        !tc.kubectl(&["-n", ns, "get", "deployment", "kreg-registry"])
            .status
            .success(),
        "a registry was applied without its credentials"
    );
    cleanup(&tc, ns);
}

/// `kreg -f kreg.yaml up` (issue 14, item 2) converges exactly what the same settings as flags
/// do: the two dry runs list the same objects, and so does KREG_CONFIG instead of `-f`.
#[test]
fn a_config_file_renders_the_same_objects_as_its_flags() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-config";
    cleanup(&tc, ns);
    tc.kcluster_ok(&["lb", "ip"]);
    let dir = std::env::temp_dir().join(format!("kreg-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kreg.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: kreg.dev/v1alpha1\nkind: Config\nnamespace: {ns}\ntimeout: 60s\nup:\n  expose: loadbalancer\n  auth: true\n  pull-secret-namespaces: [team-a]\n  mirror: [docker.io]\n  size: 20Gi\n  gc-schedule: \"0 3 * * 0\"\n  gc-image: docker.io/bitnami/kubectl@sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        ),
    )
    .unwrap();
    let flags = kreg_json(
        &tc,
        &[
            "up", "-n", ns, "--timeout", "60s", "--expose", "loadbalancer", "--auth",
            "--pull-secret-namespaces", "team-a", "--mirror", "docker.io", "--size", "20Gi",
            "--gc-schedule", "0 3 * * 0", "--gc-image",
            "docker.io/bitnami/kubectl@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "--dry-run", "-o", "json",
        ],
    );
    let from_file = kreg_json(
        &tc,
        &[
            "-f",
            file.to_str().unwrap(),
            "up",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert!(flags["objects"].as_array().unwrap().len() > 5);
    assert_eq!(from_file, flags, "-f renders other objects than the flags");
    let out = std::process::Command::new(support::kreg::KREG)
        .args(["up", "--dry-run", "-o", "json", "--kubeconfig"])
        .arg(&tc.kubeconfig)
        .env("KREG_CONFIG", &file)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        from_env, flags,
        "KREG_CONFIG renders other objects than the flags"
    );
    // A flag on the command line wins over the file.
    let smaller = kreg_json(
        &tc,
        &[
            "-f",
            file.to_str().unwrap(),
            "up",
            "--size",
            "5Gi",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert!(smaller.to_string().contains("\"5Gi\""), "{smaller}");
    // An unknown field is refused with its path, before any request.
    std::fs::write(
        &file,
        "apiVersion: kreg.dev/v1alpha1\nkind: Config\nup:\n  sise: 5Gi\n",
    )
    .unwrap();
    let out = kreg(&tc, &["-f", file.to_str().unwrap(), "up", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("up.sise: unknown field"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! `--auth` with pull secrets, and `kreg gc`, on the node tier: a real registry, a real
//! kubelet pulling with (or without) the generated credentials, a real garbage collector.

mod support;

use serde_json::Value;
use support::kreg::{
    host_of, kreg, kreg_json, pull_error, resolve_on_node, wait_ready, Workstation,
};
use support::{require, text, TestCluster, Tier};

fn up(tc: &TestCluster, extra: &[&str]) -> (Value, String) {
    let mut args = vec!["up", "--yes", "-o", "json", "--timeout", "4m"];
    args.extend_from_slice(extra);
    let out = kreg(tc, &args);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "kreg up failed:\n{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// The node resolves the registry's nip.io name; the workstation (no resolver) trusts the CA
/// and gets the name from `trust-local --hosts`, the line kreg writes into its /etc/hosts.
fn reach(tc: &TestCluster, ws: &Workstation, up: &Value) -> String {
    let registry = up["registry"].as_str().unwrap().to_string();
    let ip = up["address"].as_str().unwrap();
    resolve_on_node(tc, ip, &registry);
    let out = ws.sh(&format!(
        "{} trust-local --yes --hosts --kubeconfig {}",
        support::kreg::KREG,
        tc.kubeconfig.display()
    ));
    assert!(out.status.success(), "trust-local: {}", text(&out.stderr));
    let hosts = std::fs::read_to_string(ws.etc().join("hosts")).unwrap();
    let host = host_of(&registry);
    assert!(
        hosts.contains(&format!("{ip} {host} # kreg: {host}")),
        "trust-local --hosts wrote no line for {host}: {hosts}"
    );
    registry
}

/// The names in `imagePullSecrets` of namespace `ns`'s default ServiceAccount.
fn pull_secrets_of_default_sa(tc: &TestCluster, ns: &str) -> String {
    tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "sa",
        "default",
        "-o",
        "jsonpath={.imagePullSecrets[*].name}",
    ])
}

fn run_in(tc: &TestCluster, ns: &str, pod: &str, image: &str) {
    let _ = tc.kubectl(&[
        "-n",
        ns,
        "delete",
        "pod",
        pod,
        "--ignore-not-found",
        "--wait",
    ]);
    tc.kubectl_ok(&["-n", ns, "run", pod, "--image", image, "--restart=Never"]);
}

#[test]
fn auth_refuses_anonymous_pulls_and_pull_secrets_let_pods_in() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    for ns in ["team-a", "team-b"] {
        let _ = tc.kubectl(&["delete", "namespace", ns, "--ignore-not-found", "--wait"]);
        tc.kubectl_ok(&["create", "namespace", ns]);
    }
    let ws = Workstation::new();

    let (up1, up_err) = up(&tc, &["--auth", "--pull-secret-namespaces", "team-a"]);
    assert_eq!(up1["healthy"], true, "{up1}");
    assert_eq!(up1["auth"]["username"], "kreg");
    assert_eq!(up1["pull_secret_namespaces"], serde_json::json!(["team-a"]));
    let registry = reach(&tc, &ws, &up1);

    // The password is printed only when asked for.
    let plain = kreg(&tc, &["status"]);
    let shown = kreg_json(&tc, &["status", "--show-password", "-o", "json"]);
    let password = shown["auth"]["password"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 32);
    for (what, s) in [
        ("up stdout", up1.to_string()),
        ("up stderr", up_err),
        ("status", text(&plain.stdout) + &text(&plain.stderr)),
    ] {
        assert!(!s.contains(&password), "{what} printed the password");
    }
    let shown_text = text(&kreg(&tc, &["status", "--show-password"]).stdout);
    assert!(shown_text.contains(&password), "{shown_text}");

    // A push without credentials is refused; with them it lands.
    let hello = tc.hello_image.clone().unwrap();
    let anon = ws.sh(&format!(
        "skopeo copy --quiet oci-archive:{} docker://{registry}/hello:1",
        hello.display()
    ));
    assert!(!anon.status.success(), "anonymous push was accepted");
    let err = text(&anon.stderr).to_lowercase();
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}"
    );
    let authed = ws.sh(&format!(
        "skopeo copy --quiet --dest-creds kreg:{password} oci-archive:{} docker://{registry}/hello:1",
        hello.display()
    ));
    assert!(
        authed.status.success(),
        "push with credentials: {}",
        text(&authed.stderr)
    );

    // `kreg push` reads the credentials from the cluster by itself.
    let pushed = kreg(
        &tc,
        &[
            "push",
            &hello.display().to_string(),
            "--name",
            "pushed/hello:1",
        ],
    );
    assert!(
        pushed.status.success(),
        "kreg push: {}",
        text(&pushed.stderr)
    );
    assert!(text(&pushed.stdout).contains("/pushed/hello:1@sha256:"));

    // `kreg env` drives a push: its exports name the registry dev tools push to.
    let env_push = ws.sh(&format!(
        "eval \"$({} env --kubeconfig {})\" && skopeo copy --quiet --dest-creds kreg:{password} oci-archive:{} \"docker://$KO_DOCKER_REPO/from-env:1\" && skopeo inspect --creds kreg:{password} \"docker://$SKAFFOLD_DEFAULT_REPO/from-env:1\"",
        support::kreg::KREG,
        tc.kubeconfig.display(),
        hello.display()
    ));
    assert!(
        env_push.status.success(),
        "push to the registry kreg env names: {}",
        text(&env_push.stderr)
    );
    let env_json = kreg_json(&tc, &["env", "-o", "json"]);
    assert_eq!(env_json["registry"], registry.as_str(), "{env_json}");

    // team-b has no pull secret: the kubelet's pull is refused. team-a's default
    // ServiceAccount carries kreg's: the same image runs without imagePullSecrets in the spec.
    let image = format!("{registry}/hello:1");
    run_in(&tc, "team-b", "hello", &image);
    let refused = pull_error(&tc_in(&tc, "team-b"), "hello").to_lowercase();
    assert!(
        refused.contains("401")
            || refused.contains("unauthorized")
            || refused.contains("authorization"),
        "{refused}"
    );
    let sa = pull_secrets_of_default_sa(&tc, "team-a");
    assert_eq!(sa.trim(), "kreg-pull");
    run_in(&tc, "team-a", "hello", &image);
    wait_ready(&tc_in(&tc, "team-a"), "hello");
    let logs = tc.kubectl_ok(&["-n", "team-a", "logs", "hello"]);
    assert!(logs.contains("hello from kreg"), "{logs}");

    // The namespace's pull secret pulls and nothing else: whoever can read it in team-a can
    // neither push a new image nor overwrite the tag every node pulls.
    let config: Value =
        serde_json::from_str(&tc.secret_text("team-a", "kreg-pull", ".dockerconfigjson")).unwrap();
    let entry = &config["auths"][&registry];
    let (user, pass) = (
        entry["username"].as_str().unwrap(),
        entry["password"].as_str().unwrap(),
    );
    assert_eq!(user, "kreg-pull", "the pull secret carries the pull user");
    assert_ne!(pass, password, "and not the push password");
    for dest in ["hijack/app:1", "hello:1"] {
        let out = ws.sh(&format!(
            "skopeo copy --quiet --dest-creds {user}:{pass} oci-archive:{} docker://{registry}/{dest}",
            hello.display()
        ));
        assert!(!out.status.success(), "the pull secret pushed {dest}");
        let err = text(&out.stderr).to_lowercase();
        assert!(err.contains("denied"), "refused as denied: {err}");
    }
    let read = ws.sh(&format!(
        "skopeo inspect --creds {user}:{pass} docker://{registry}/hello:1"
    ));
    assert!(
        read.status.success(),
        "the pull secret reads: {}",
        text(&read.stderr)
    );

    // Dropping the namespace from the list takes kreg's entry back; others' entries stay.
    tc.kubectl_ok(&[
        "-n",
        "team-a",
        "patch",
        "sa",
        "default",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/imagePullSecrets/-","value":{"name":"someone-elses"}}]"#,
    ]);
    let both = pull_secrets_of_default_sa(&tc, "team-a");
    assert_eq!(both.trim(), "kreg-pull someone-elses");
    let (up2, _) = up(&tc, &["--auth", "--no-pull-secret-namespaces"]);
    assert_eq!(up2["healthy"], true, "{up2}");
    let sa = pull_secrets_of_default_sa(&tc, "team-a");
    assert_eq!(
        sa.trim(),
        "someone-elses",
        "kreg's entry removed, the other kept"
    );
    assert!(!tc
        .kubectl(&["-n", "team-a", "get", "secret", "kreg-pull"])
        .status
        .success());
    let again = kreg_json(&tc, &["status", "--show-password", "-o", "json"]);
    assert_eq!(
        again["auth"]["password"],
        password.as_str(),
        "re-runs keep the password"
    );

    // A plain `up` (what the README suggests to re-issue the certificate) keeps auth on:
    // the anonymous catalog stays closed (it answered 200 before auth was sticky).
    let (plain, _) = up(&tc, &[]);
    assert_eq!(plain["anonymous_access"], false, "{plain}");
    std::fs::write(
        ws.etc().join("kreg-ca.pem"),
        up1["ca_pem"].as_str().unwrap(),
    )
    .unwrap();
    let anon = ws.sh(&format!(
        "curl -s --cacert /etc/kreg-ca.pem -o /dev/null -w '%{{http_code}}' https://{registry}/v2/_catalog"
    ));
    assert_eq!(text(&anon.stdout).trim(), "401", "{}", text(&anon.stderr));

    // down keeps the credentials (clients stay logged in across down/up); --purge removes them.
    let (_, _) = up(&tc, &["--auth", "--pull-secret-namespaces", "team-a"]);
    let down = kreg_json(&tc, &["down", "--yes", "-o", "json"]);
    assert!(down["kept"].to_string().contains("kreg-auth"), "{down}");
    let sa = pull_secrets_of_default_sa(&tc, "team-a");
    assert_eq!(sa.trim(), "someone-elses");
    let purge = kreg_json(&tc, &["down", "--purge", "--yes", "-o", "json"]);
    assert!(
        purge["removed"].to_string().contains("kreg-auth"),
        "{purge}"
    );
    for ns in ["team-a", "team-b"] {
        let _ = tc.kubectl(&["delete", "namespace", ns, "--wait=false"]);
    }
}

/// The same cluster, addressed in another namespace (pull_error and wait_ready use the
/// kubeconfig's default namespace).
fn tc_in(tc: &TestCluster, ns: &str) -> TestCluster {
    let kc = tempfile::NamedTempFile::new()
        .unwrap()
        .into_temp_path()
        .keep()
        .unwrap();
    std::fs::copy(&tc.kubeconfig, &kc).unwrap();
    let set = std::process::Command::new(std::env::var("KUBECTL").unwrap_or("kubectl".into()))
        .args(["--kubeconfig"])
        .arg(&kc)
        .args(["config", "set-context", "--current", "--namespace", ns])
        .output()
        .unwrap();
    assert!(set.status.success(), "{}", text(&set.stderr));
    TestCluster {
        kubeconfig: kc,
        tier: tc.tier,
        kcluster: tc.kcluster.clone(),
        netns: tc.netns.clone(),
        node_ip: tc.node_ip.clone(),
        hello_image: tc.hello_image.clone(),
        nodes: tc.nodes.clone(),
    }
}

/// A fresh registry (nothing left from earlier tests) reachable from the workstation, and an
/// image with one 8 MiB layer of random bytes to push and delete.
fn fresh_registry_with_big_image(
    tc: &TestCluster,
) -> (Workstation, String, tempfile::TempDir, std::path::PathBuf) {
    fresh_registry_with_big_image_and(tc, &[])
}

/// The same, with more `up` flags (`--no-node-trust`: gc needs no node to pull anything).
fn fresh_registry_with_big_image_and(
    tc: &TestCluster,
    extra: &[&str],
) -> (Workstation, String, tempfile::TempDir, std::path::PathBuf) {
    let _ = kreg(tc, &["down", "--purge", "--yes"]);
    let ws = Workstation::new();
    let (up1, _) = up(tc, extra);
    let registry = reach(tc, &ws, &up1);
    let work = tempfile::tempdir().unwrap();
    let big = support::oci::random_image(work.path(), "big", 8 << 20);
    (ws, registry, work, big)
}

/// A fresh registry (no node trust: nothing here pulls on a node) holding garbage: an image
/// pushed and deleted, so Distribution's collector has something to sweep (it fails on an
/// empty registry).
fn registry_with_garbage(
    tc: &TestCluster,
) -> (Workstation, String, tempfile::TempDir, std::path::PathBuf) {
    let (ws, registry, work, big) = fresh_registry_with_big_image_and(tc, &["--no-node-trust"]);
    let push = ws.sh(&format!(
        "skopeo copy --quiet oci:{}:big docker://{registry}/big:1 && skopeo delete docker://{registry}/big:1",
        big.display()
    ));
    assert!(push.status.success(), "push: {}", text(&push.stderr));
    (ws, registry, work, big)
}

#[test]
fn gc_reclaims_the_space_of_a_deleted_image_and_keeps_the_rest() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let (ws, registry, work, big) = fresh_registry_with_big_image(&tc);
    let hello = tc.hello_image.clone().unwrap();
    let push = ws.sh(&format!(
        "skopeo copy --quiet oci:{}:big docker://{registry}/big:1 && skopeo copy --quiet oci-archive:{} docker://{registry}/hello:1",
        big.display(),
        hello.display()
    ));
    assert!(push.status.success(), "push: {}", text(&push.stderr));

    // Nothing deleted yet: a dry run finds nothing to collect.
    let dry = kreg_json(&tc, &["gc", "--dry-run", "-o", "json"]);
    assert_eq!(dry["blobs_deleted"], 0, "{dry}");

    let del = ws.sh(&format!("skopeo delete docker://{registry}/big:1"));
    assert!(del.status.success(), "delete: {}", text(&del.stderr));
    let gc = kreg_json(&tc, &["gc", "--yes", "-o", "json", "--timeout", "3m"]);
    let reclaimed = gc["reclaimed_bytes"].as_u64().unwrap_or(0);
    assert!(reclaimed >= 7 << 20, "expected the 8 MiB layer back: {gc}");
    assert!(
        gc["blobs_deleted"].as_u64().unwrap() >= 2,
        "layer and config: {gc}"
    );

    // The registry is writable again and still serves what was not deleted. Switching it back
    // rolled the registry pod: a node agent whose periodic probe pull fell into that moment
    // saw "connection refused" (seen in CI) and says so until its re-check 5 s later, so
    // status gets a minute to turn healthy.
    let started = std::time::Instant::now();
    let status = loop {
        let s: Value = serde_json::from_slice(&kreg(&tc, &["status", "-o", "json"]).stdout)
            .expect("status -o json");
        if s["healthy"] == true || started.elapsed() > std::time::Duration::from_secs(60) {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    };
    assert_eq!(status["read_only"], false, "{status}");
    assert_eq!(status["healthy"], true, "{status}");
    let after = ws.sh(&format!(
        "skopeo copy --quiet docker://{registry}/hello:1 dir:{d}/pulled && skopeo copy --quiet oci:{}:big docker://{registry}/big:2",
        big.display(),
        d = work.path().display()
    ));
    assert!(after.status.success(), "after gc: {}", text(&after.stderr));
    let gone = ws.sh(&format!("skopeo inspect docker://{registry}/big:1"));
    assert!(!gone.status.success(), "the deleted tag is still served");

    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

/// A schedule that never fires while a test runs (Sunday 03:00 did: CI ran then, and the real
/// scheduled collector switched the registry read-only under the test's own run).
const GC_SCHEDULE: &str = "0 3 1 1 *";

#[test]
fn gc_schedule_runs_the_collector_from_a_cronjob() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let (ws, registry, work, big) = fresh_registry_with_big_image(&tc);
    // The CronJob needs an image with a shell and kubectl: built from the harness's kubectl
    // and pushed into kreg's registry, as an air-gapped user would.
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".into());
    let kubectl_image = support::oci::kubectl_image(work.path(), std::path::Path::new(&kubectl));
    let push = ws.sh(&format!(
        "skopeo copy --quiet oci:{}:kubectl docker://{registry}/kreg-test/kubectl:1 && skopeo copy --quiet oci:{}:big docker://{registry}/big:1 && skopeo delete docker://{registry}/big:1",
        kubectl_image.display(),
        big.display()
    ));
    assert!(push.status.success(), "push: {}", text(&push.stderr));

    let gc_image = format!("{registry}/kreg-test/kubectl:1");
    let (up2, _) = up(
        &tc,
        &["--gc-schedule", GC_SCHEDULE, "--gc-image", &gc_image],
    );
    assert!(
        up2["changed"].to_string().contains("CronJob/kreg-gc"),
        "{up2}"
    );
    let schedule = tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "get",
        "cronjob",
        "kreg-gc",
        "-o",
        "jsonpath={.spec.schedule}",
    ]);
    assert_eq!(schedule, GC_SCHEDULE);

    // Another collector holds the Lease: the scheduled run does nothing, the registry stays
    // writable.
    hold_gc_lease(&tc, "someone-else", 300);
    tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "create",
        "job",
        "kreg-gc-held",
        "--from=cronjob/kreg-gc",
    ]);
    let held = tc.wait_job("kreg-gc-held", 120);
    let held_log = text(
        &tc.kubectl(&["-n", "kreg-system", "logs", "job/kreg-gc-held"])
            .stdout,
    );
    let held_err = text(
        &tc.kubectl(&["-n", "kreg-system", "logs", "job/kreg-gc-held"])
            .stderr,
    );
    assert!(
        held.ends_with('1'),
        "ran while another collector held the Lease ({held}):\n{held_log}{held_err}"
    );
    let status = kreg_json(&tc, &["status", "-o", "json"]);
    assert_eq!(status["read_only"], false, "{status}");
    hold_gc_lease(&tc, "", 0);

    // Run the CronJob's template now rather than waiting for Sunday 03:00.
    tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "create",
        "job",
        "kreg-gc-now",
        "--from=cronjob/kreg-gc",
    ]);
    let state = tc.wait_job("kreg-gc-now", 120);
    let log = text(
        &tc.kubectl(&["-n", "kreg-system", "logs", "job/kreg-gc-now"])
            .stdout,
    );
    assert!(
        state.starts_with('1'),
        "the scheduled gc did not succeed ({state}):\n{log}"
    );
    let outcome = kreg::gc::parse(&log);
    assert!(
        outcome.reclaimed_bytes.unwrap_or(0) >= 7 << 20,
        "{outcome:?}\n{log}"
    );

    // Switched back to read-write, and reported.
    let status = kreg_json(&tc, &["status", "-o", "json"]);
    assert_eq!(status["read_only"], false, "{status}");
    assert_eq!(status["gc_schedule"], GC_SCHEDULE);
    assert_eq!(status["healthy"], true, "{status}");

    // A plain `up` keeps the schedule; `--no-gc-schedule` removes the CronJob and its rights.
    let (kept, _) = up(&tc, &[]);
    assert!(
        !kept["changed"].to_string().contains("CronJob/kreg-gc"),
        "{kept}"
    );
    tc.kubectl_ok(&["-n", "kreg-system", "get", "cronjob", "kreg-gc"]);
    let (up3, _) = up(&tc, &["--no-gc-schedule"]);
    assert!(
        up3["changed"].to_string().contains("CronJob/kreg-gc"),
        "{up3}"
    );
    assert!(!tc
        .kubectl(&["-n", "kreg-system", "get", "cronjob", "kreg-gc"])
        .status
        .success());
    assert!(!tc
        .kubectl(&["-n", "kreg-system", "get", "role", "kreg-gc"])
        .status
        .success());
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

/// Writes the gc Lease as `holder` would, expiring `secs` from now (0: given back / expired).
fn hold_gc_lease(tc: &TestCluster, holder: &str, secs: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut body = kreg::gc::lease_body("kreg-system", holder, now);
    body["metadata"]["annotations"][kreg::gc::LEASE_EXPIRES] = (now + secs).to_string().into();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body.to_string()).unwrap();
    let path = file.path().to_str().unwrap().to_string();
    let _ = tc.kubectl(&[
        "-n",
        "kreg-system",
        "delete",
        "lease",
        kreg::gc::LEASE,
        "--ignore-not-found",
    ]);
    tc.kubectl_ok(&["-n", "kreg-system", "create", "-f", &path]);
}

/// The collector's Jobs and pods (label app.kubernetes.io/name=kreg-gc) that exist now.
fn collectors(tc: &TestCluster) -> String {
    tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "get",
        "jobs,pods",
        "-l",
        "app.kubernetes.io/name=kreg-gc",
        "-o",
        "name",
    ])
}

#[test]
fn gc_interrupted_stays_read_only_until_the_next_gc_finishes_it() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let (ws, registry, _work, big) = registry_with_garbage(&tc);

    // Ctrl-C once the collector Job exists.
    let child = std::process::Command::new(support::kreg::KREG)
        .args(["gc", "--yes", "--timeout", "3m", "--kubeconfig"])
        .arg(&tc.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = false;
    for _ in 0..300 {
        if collectors(&tc).contains("job.batch/") {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(seen, "no collector Job appeared");
    let int = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "an interrupted gc exits non-zero:\n{stderr}"
    );
    assert!(
        stderr.contains("stays read-only") && stderr.contains("kreg gc"),
        "{stderr}"
    );

    // Pushes stay refused, and `status` says why and what to do (exiting non-zero: unhealthy).
    let status: Value =
        serde_json::from_slice(&kreg(&tc, &["status", "-o", "json"]).stdout).unwrap();
    assert_eq!(status["read_only"], true, "{status}");
    assert!(
        status["problems"].to_string().contains("interrupted"),
        "{status}"
    );
    let refused = ws.sh(&format!(
        "skopeo copy --quiet oci:{}:big docker://{registry}/big:2",
        big.display()
    ));
    assert!(
        !refused.status.success(),
        "a push was accepted while an interrupted collector may still sweep"
    );

    // The next `kreg gc` finishes: the collector's pod is gone before writes come back.
    let gc = kreg_json(&tc, &["gc", "--yes", "-o", "json", "--timeout", "3m"]);
    assert_eq!(gc["dry_run"], false, "{gc}");
    assert_eq!(
        collectors(&tc),
        "",
        "collector left behind after gc returned"
    );
    let status = kreg_json(&tc, &["status", "-o", "json"]);
    assert_eq!(status["read_only"], false, "{status}");
    let after = ws.sh(&format!(
        "skopeo copy --quiet oci:{}:big docker://{registry}/big:3",
        big.display()
    ));
    assert!(
        after.status.success(),
        "push after gc: {}",
        text(&after.stderr)
    );
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

#[test]
fn gc_waits_its_turn_behind_another_collector() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let (_ws, _registry, _work, _big) = registry_with_garbage(&tc);
    // A live holder (the CronJob, another workstation): refused, nothing changed.
    hold_gc_lease(&tc, "cronjob/kreg-gc-123", 300);
    let out = kreg(&tc, &["gc", "--yes", "--timeout", "2m"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("another garbage collection is running (cronjob/kreg-gc-123)")
            && stderr.contains("hint:"),
        "{stderr}"
    );
    let status = kreg_json(&tc, &["status", "-o", "json"]);
    assert_eq!(status["read_only"], false, "{status}");
    assert_eq!(collectors(&tc), "", "no collector may start");

    // Its holder died (the Lease ran out): the next gc takes over.
    hold_gc_lease(&tc, "cronjob/kreg-gc-123", 0);
    let gc = kreg_json(&tc, &["gc", "--yes", "-o", "json", "--timeout", "3m"]);
    assert_eq!(gc["dry_run"], false, "{gc}");
    let holder = tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "get",
        "lease",
        kreg::gc::LEASE,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder, "", "kreg gc gives the Lease back");
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

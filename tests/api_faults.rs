//! Faults on the API tier (issue 5): the kube-apiserver going away while `kreg up` waits, and
//! a kubeconfig whose certificate the API server rejects. The harness stops and starts the
//! real kube-apiserver (`kcluster api stop|start`, same arguments) and mints a client
//! certificate from a CA the server does not trust (`kcluster user NAME --revoked`).
//! Run with --test-threads=1: the load-balancer mode and the API server are shared.

mod support;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::kreg::{api_tier_up, kreg_json, purge, KREG};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kt-apifault";

fn spawn_up(tc: &TestCluster, timeout: &str) -> Child {
    Command::new(KREG)
        .args(api_tier_up(NS, timeout, &[]))
        .arg("--kubeconfig")
        .arg(&tc.kubeconfig)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn cleanup(tc: &TestCluster) {
    tc.kcluster_ok(&["api", "start"]);
    tc.kcluster_ok(&["lb", "ip"]);
    purge(tc, NS);
}

/// Waits until `up` has created the registry Service: from then on it waits for the address.
fn wait_for_service(tc: &TestCluster) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if tc
            .kubectl(&["-n", NS, "get", "service", "kreg-registry"])
            .status
            .success()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("kreg up never created its Service");
}

/// An error report a person reads at a glance: one `error:` line, a `hint:`, no panic, no
/// backtrace, no Rust debug dump.
fn assert_one_clear_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let errors: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {err}");
    assert!(err.lines().any(|l| l.starts_with("hint:")), "{err}");
    for noise in [
        "panicked",
        "backtrace",
        "Caused by",
        "Error {",
        "Api(",
        "ErrorResponse",
    ] {
        assert!(!err.contains(noise), "{noise:?} in: {err}");
    }
    errors[0].to_string()
}

#[test]
fn up_rides_out_an_api_server_restart_while_it_waits() {
    let Some(tc) = require(Tier::Api) else { return };
    cleanup(&tc);
    // The load balancer answers 8 s after the Service appears: `up` is watching the Service
    // when the API server goes away for about 3 s (plus its own start-up).
    tc.kcluster_ok(&["lb", "delay", "8"]);
    let child = spawn_up(&tc, "90s");
    wait_for_service(&tc);
    let stopped = Instant::now();
    tc.kcluster_ok(&["api", "stop"]);
    std::thread::sleep(Duration::from_secs(3));
    tc.kcluster_ok(&["api", "start"]);
    eprintln!(
        "API server away for {:.1}s",
        stopped.elapsed().as_secs_f64()
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "up must recover once the API server is back:\n{}",
        text(&out.stderr)
    );
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(first["address"]
        .as_str()
        .unwrap()
        .parse::<std::net::IpAddr>()
        .is_ok());

    // The next `up` completes and changes nothing: the interrupted wait left nothing half done.
    let again = kreg_json(&tc, &api_tier_up(NS, "60s", &[]));
    assert_eq!(again["ca_sha256"], first["ca_sha256"]);
    assert_eq!(again["changed"], serde_json::json!([]), "{again}");
    cleanup(&tc);
}

#[test]
fn an_api_server_that_stays_away_gives_one_clear_error_and_the_next_up_completes() {
    let Some(tc) = require(Tier::Api) else { return };
    cleanup(&tc);
    tc.kcluster_ok(&["lb", "never"]);
    let child = spawn_up(&tc, "8s");
    wait_for_service(&tc);
    tc.kcluster_ok(&["api", "stop"]);
    let out = child.wait_with_output().unwrap();
    tc.kcluster_ok(&["api", "start"]);
    tc.kcluster_ok(&["lb", "ip"]);
    let line = assert_one_clear_error(&out);
    assert!(
        line.contains("lost the API server") && line.contains("kreg-registry"),
        "the error names the outage and what kreg waited for: {line}"
    );

    let done = kreg_json(&tc, &api_tier_up(NS, "60s", &[]));
    assert!(done["address"].as_str().is_some_and(|a| !a.is_empty()));
    // One CA: the Secret and the state record agree with what `up` reports.
    let state = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "configmap",
        "kreg-state",
        "-o",
        "jsonpath={.data.ca\\.crt}",
    ]);
    assert_eq!(state, done["ca_pem"].as_str().unwrap());
    cleanup(&tc);
}

#[test]
fn a_revoked_certificate_gets_one_clear_line_and_changes_nothing() {
    let Some(tc) = require(Tier::Api) else { return };
    let revoked = tc
        .kcluster_ok(&["user", "kt-revoked", "--revoked"])
        .trim()
        .to_string();
    for verb in [
        &["status"][..],
        &["up", "-n", NS, "--yes"],
        &["down", "-n", NS, "--yes"],
    ] {
        let out = Command::new(KREG)
            .args(verb)
            .arg("--kubeconfig")
            .arg(&revoked)
            .env_remove("KUBECONFIG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let line = assert_one_clear_error(&out);
        assert!(
            line.contains("rejected kreg's credentials") && line.contains("401"),
            "kreg {verb:?}: {line}"
        );
        assert!(
            text(&out.stderr).contains("expired or revoked"),
            "the hint says what to do: {}",
            text(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout: {}",
            text(&out.stdout)
        );
    }
    assert!(
        !tc.kubectl(&["get", "namespace", NS]).status.success(),
        "nothing may be created with rejected credentials"
    );
}

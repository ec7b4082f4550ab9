//! kreg's DNS entry for Pods, against a real CoreDNS (node tier, `kcluster coredns start`:
//! CoreDNS in kube-system as kubeadm runs it, every kubelet's clusterDNS pointing at its
//! Service). There is no public DNS here, as in an air-gapped cluster: a Pod — an in-cluster
//! builder — resolves the registry's nip.io name only through kreg's entry.
//!
//! One test, in order: a Corefile whose kreg markers are broken makes `up` fail before any
//! write; `up` adds kreg's block after the foreign content (which stays byte for byte) and a
//! Pod resolves the name to the recorded address through the cluster DNS; `status` reports the
//! entry; `--no-dns-entry` removes it and stays off on the next `up`, `--dns-entry` brings it
//! back; `down` leaves the Corefile exactly as it was before `up`, and the Pod's lookup fails
//! again; a Corefile the addon manager reconciles (AKS) is left alone. Where the Corefile
//! imports ConfigMap `coredns-custom` (k3s, AKS), the entry is kreg's own key there instead.
//! Run with `--test-threads=1`.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::kreg::{kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

const NS: &str = "kreg-dns";
const POD: &str = "kreg-dns-lookup";

/// Stops the harness's CoreDNS and removes what the test made, also when it fails.
struct Cleanup<'a>(&'a TestCluster, &'static str);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .kubectl(&["delete", "pod", POD, "--ignore-not-found", "--wait=true"]);
        purge(self.0, self.1);
        let _ = self.0.kcluster(&["coredns", "stop"]);
    }
}

fn corefile(tc: &TestCluster) -> String {
    let cm = tc.kubectl_ok(&[
        "-n",
        "kube-system",
        "get",
        "configmap",
        "coredns",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(&cm).unwrap();
    v["data"]["Corefile"]
        .as_str()
        .expect("a Corefile")
        .to_string()
}

fn set_corefile(tc: &TestCluster, text: &str) {
    let patch = serde_json::json!({"data": {"Corefile": text}}).to_string();
    tc.kubectl_ok(&[
        "-n",
        "kube-system",
        "patch",
        "configmap",
        "coredns",
        "--type",
        "merge",
        "-p",
        &patch,
    ]);
}

fn up(tc: &TestCluster, extra: &[&str]) -> Value {
    up_in(tc, NS, extra)
}

fn up_in(tc: &TestCluster, ns: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "-n",
        ns,
        "up",
        "--yes",
        "-o",
        "json",
        "--timeout",
        "4m",
        "--no-node-trust",
        "--storage",
        "emptydir",
    ];
    args.extend_from_slice(extra);
    kreg_json(tc, &args)
}

/// The last lookup line of the Pod's log once `ok(line)` holds, polling for `limit`.
fn wait_lookup(tc: &TestCluster, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < limit {
        let out = tc.kubectl(&["logs", POD]);
        let logs = text(&out.stdout);
        if let Some(l) = logs.lines().rev().find(|l| l.starts_with("lookup ")) {
            last = l.to_string();
            if ok(l) {
                return last;
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let desc = text(&tc.kubectl(&["describe", "pod", POD]).stdout);
    panic!("the Pod's lookup never got there in {limit:?}; last: {last:?}\n{desc}");
}

/// A Pod (the hello image's busybox) that looks `host` up through the cluster DNS every
/// second and logs the answer, after its resolv.conf.
fn start_lookup(tc: &TestCluster, host: &str) {
    let _ = tc.kubectl(&["delete", "pod", POD, "--ignore-not-found", "--wait=true"]);
    let script = format!(
        "cat /etc/resolv.conf; while :; do if nslookup {host} >/tmp/o 2>&1; then echo \"lookup ok: $(tr '\\n' ' ' </tmp/o)\"; else echo \"lookup failed: $(tr '\\n' ' ' </tmp/o)\"; fi; sleep 1; done"
    );
    tc.kubectl_ok(&[
        "run",
        POD,
        "--image",
        "docker.io/kreg-test/hello:1",
        "--image-pull-policy",
        "IfNotPresent",
        "--restart=Never",
        "--command",
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    support::kreg::wait_ready(tc, POD);
}

#[test]
fn pods_resolve_the_registry_through_kregs_coredns_entry_and_down_removes_exactly_it() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    purge(&tc, NS);
    tc.kcluster_ok(&["coredns", "start"]);
    let _cleanup = Cleanup(&tc, NS);

    // Foreign content after kubeadm's block: someone else's server block and a comment.
    let before = format!(
        "{}# someone else's zone\nexample.test:53 {{\n    whoami\n}}\n",
        corefile(&tc)
    );
    set_corefile(&tc, &before);

    // 1. A kreg marker not as kreg writes it: `up` refuses before its first write.
    let broken = format!(
        "{before}# kreg: begin {NS} (written by kreg up for the registry's name; kreg down removes it)\n"
    );
    set_corefile(&tc, &broken);
    let out = kreg(
        &tc,
        &[
            "-n",
            NS,
            "up",
            "--yes",
            "--no-node-trust",
            "--timeout",
            "2m",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("kube-system/coredns") && err.contains("left the Corefile unchanged"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(corefile(&tc), broken, "nothing written to the Corefile");
    let ns = tc.kubectl(&["get", "namespace", NS]);
    assert!(
        !ns.status.success(),
        "up created namespace {NS} before failing"
    );
    set_corefile(&tc, &before);

    // 2. `up` adds kreg's block after the foreign content, which stays byte for byte.
    let report = up(&tc, &[]);
    assert_eq!(report["healthy"], true, "{report}");
    let host = report["host"].as_str().unwrap().to_string();
    let address = report["address"].as_str().unwrap().to_string();
    assert!(host.ends_with(".nip.io"), "{host}");
    let dns = report["dns_entry"].as_str().unwrap();
    assert_eq!(
        dns,
        format!("{host} -> {address} in ConfigMap kube-system/coredns")
    );
    let with = corefile(&tc);
    let block = with
        .strip_prefix(before.as_str())
        .unwrap_or_else(|| panic!("the foreign content changed:\n{with}"));
    assert!(
        block.starts_with(&format!("# kreg: begin {NS} ")),
        "{block}"
    );
    assert!(block.ends_with(&format!("# kreg: end {NS}\n")), "{block}");
    assert!(
        block.contains(&format!("\n{host}:53 {{\n"))
            && block.contains(&format!("        {address} {host}\n")),
        "{block}"
    );

    // 3. A Pod resolves the name through the cluster's DNS (its resolv.conf names the
    //    CoreDNS Service), to the address kreg recorded.
    start_lookup(&tc, &host);
    let found = wait_lookup(&tc, Duration::from_secs(90), |l| {
        l.starts_with("lookup ok") && l.contains(&format!("Address: {address}"))
    });
    let logs = tc.kubectl_ok(&["logs", POD]);
    assert!(logs.contains("nameserver 10.96.0.10"), "{logs}");
    eprintln!("resolved: {found}");

    // 4. `status` reads the entry from the Corefile.
    let status = kreg_json(&tc, &["-n", NS, "status", "-o", "json"]);
    let entry = &status["dns_entry"];
    assert_eq!(entry["present"], true, "{status}");
    assert_eq!(entry["name"], host.as_str(), "{status}");
    assert_eq!(entry["ip"], address.as_str(), "{status}");

    // 5. `--no-dns-entry` removes exactly kreg's block and is sticky; `--dns-entry` is back.
    let off = up(&tc, &["--no-dns-entry", "--no-wait"]);
    assert_eq!(corefile(&tc), before, "{off}");
    let again = up(&tc, &["--no-wait"]);
    assert_eq!(again["dns_entry"], "off (--no-dns-entry)", "{again}");
    assert_eq!(corefile(&tc), before);
    let status = kreg_json(&tc, &["-n", NS, "status", "-o", "json"]);
    assert_eq!(status["dns_entry"]["present"], false, "{status}");
    up(&tc, &["--dns-entry", "--no-wait"]);
    assert_eq!(corefile(&tc), with);

    // 6. `down` leaves the Corefile exactly as it was before `up`; the lookup fails again.
    let out = kreg(&tc, &["-n", NS, "down", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(corefile(&tc), before);
    let failed = wait_lookup(&tc, Duration::from_secs(90), |l| {
        l.starts_with("lookup failed")
    });
    eprintln!("after down: {failed}");

    // 7. A Corefile the addon manager reconciles (AKS) is not edited: said, `up` goes on.
    let label = "addonmanager.kubernetes.io/mode";
    tc.kubectl_ok(&[
        "-n",
        "kube-system",
        "label",
        "configmap",
        "coredns",
        &format!("{label}=Reconcile"),
    ]);
    let managed = up(&tc, &["--no-wait"]);
    tc.kubectl_ok(&[
        "-n",
        "kube-system",
        "label",
        "configmap",
        "coredns",
        &format!("{label}-"),
    ]);
    let said = managed["dns_entry"].as_str().unwrap();
    assert!(
        said.starts_with("not added:") && said.contains("addon manager"),
        "{managed}"
    );
    assert_eq!(corefile(&tc), before);
}

/// k3s and AKS: the Corefile imports the server files of ConfigMap `coredns-custom`. kreg's
/// entry is a key of its own there; the Corefile and everyone else's keys stay as they were.
#[test]
fn where_the_corefile_imports_coredns_custom_the_entry_is_kregs_own_key_there() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    const NS2: &str = "kreg-dns-custom";
    purge(&tc, NS2);
    tc.kcluster_ok(&["coredns", "start", "--custom"]);
    let _cleanup = Cleanup(&tc, NS2);
    let before = corefile(&tc);
    assert!(
        before.contains("import /etc/coredns/custom/*.server"),
        "{before}"
    );
    // Someone's own server file, as an AKS user keeps theirs.
    let theirs = "example.test:53 {\n    whoami\n}\n";
    tc.apply_json(&[serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "coredns-custom", "namespace": "kube-system"},
        "data": {"theirs.server": theirs}
    })]);
    let custom = |tc: &TestCluster| -> Value {
        let out = tc.kubectl_ok(&[
            "-n",
            "kube-system",
            "get",
            "configmap",
            "coredns-custom",
            "-o",
            "json",
        ]);
        serde_json::from_str::<Value>(&out).unwrap()["data"].clone()
    };

    let report = up_in(&tc, NS2, &[]);
    let host = report["host"].as_str().unwrap().to_string();
    let address = report["address"].as_str().unwrap().to_string();
    let key = format!("kreg-{NS2}.server");
    assert_eq!(
        report["dns_entry"],
        format!("{host} -> {address} in ConfigMap kube-system/coredns-custom (key {key})"),
        "{report}"
    );
    assert_eq!(
        corefile(&tc),
        before,
        "the Corefile is not kreg's to edit here"
    );
    let data = custom(&tc);
    assert_eq!(data["theirs.server"], theirs, "{data}");
    let ours = data[&key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key}: {data}"));
    assert!(
        ours.contains(&format!("        {address} {host}\n")),
        "{ours}"
    );

    start_lookup(&tc, &host);
    let found = wait_lookup(&tc, Duration::from_secs(90), |l| {
        l.starts_with("lookup ok") && l.contains(&format!("Address: {address}"))
    });
    eprintln!("resolved through coredns-custom: {found}");
    let status = kreg_json(&tc, &["-n", NS2, "status", "-o", "json"]);
    assert_eq!(status["dns_entry"]["present"], true, "{status}");
    assert_eq!(status["dns_entry"]["ip"], address.as_str(), "{status}");

    let out = kreg(&tc, &["-n", NS2, "down", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(corefile(&tc), before);
    assert_eq!(
        custom(&tc),
        serde_json::json!({"theirs.server": theirs}),
        "only kreg's key goes"
    );
    let failed = wait_lookup(&tc, Duration::from_secs(90), |l| {
        l.starts_with("lookup failed")
    });
    eprintln!("after down: {failed}");
}

//! The registry gate (issue 11 item 2, "pull secrets only pull"): kreg's `registry-gate` in
//! front of a real Distribution registry, as in an `--auth` pod, driven by real clients:
//! kreg's own push client, skopeo, and containerd 1.7's CRI through kreg's node agent (the
//! path a pull Secret and a node take). The pull user pulls and is refused on push and delete;
//! the push user does everything; a stranger gets a challenge.

mod support;

use std::process::Command;

use kreg::node::cri::Cri;
use support::rt::{require_root, runtime_bin, Sandbox, TestRegistry};
use support::text;

const KREG: &str = env!("CARGO_BIN_EXE_kreg");

fn skopeo(args: &[&str]) -> (bool, String) {
    let out = Command::new("skopeo")
        .args(["--insecure-policy", "--command-timeout", "60s"])
        .args(args)
        .output()
        .expect("skopeo is installed by kcluster build");
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn login(c: &kreg::auth::Credentials) -> String {
    format!("{}:{}", c.username, c.password)
}

#[test]
fn the_pull_user_pulls_and_cannot_push_or_delete() {
    require_root();
    let reg = TestRegistry::start_gated();
    let (push, pull) = (reg.push.clone().unwrap(), reg.pull.clone().unwrap());
    let certs = reg.cert_dir().display().to_string();
    // The push user: kreg's own client uploads the probe image through the gate.
    let probe = reg.push_probe();
    let by_ip = probe.replace(&reg.host(), &format!("127.0.0.1:{}", reg.port));
    let src = format!("docker://{by_ip}");
    let copy = tempfile::tempdir().unwrap();
    let dir = format!("dir:{}", copy.path().display());

    // The pull user reads (skopeo copies the image out).
    let (ok, out) = skopeo(&[
        "copy",
        "--src-cert-dir",
        &certs,
        "--src-creds",
        &login(&pull),
        &src,
        &dir,
    ]);
    assert!(ok, "the pull user pulls: {out}\n{}", reg.log());

    // ... and cannot push: not a new repository, not over an existing tag.
    for dest in ["evil/app:v1", "kreg/probe:v1"] {
        let dest = format!("docker://127.0.0.1:{}/{dest}", reg.port);
        let (ok, out) = skopeo(&[
            "copy",
            "--dest-cert-dir",
            &certs,
            "--dest-creds",
            &login(&pull),
            &dir,
            &dest,
        ]);
        assert!(!ok, "the pull user pushed to {dest}: {out}");
        assert!(
            out.contains("denied") || out.contains("DENIED") || out.contains("403"),
            "refused as denied, not by accident: {out}"
        );
    }
    // ... nor delete.
    let (ok, out) = skopeo(&[
        "delete",
        "--cert-dir",
        &certs,
        "--creds",
        &login(&pull),
        &src,
    ]);
    assert!(!ok, "the pull user deleted the probe: {out}");

    // No credentials, or a wrong password: nothing at all.
    let (ok, out) = skopeo(&["inspect", "--cert-dir", &certs, "--no-creds", &src]);
    assert!(!ok, "a stranger read the registry: {out}");
    let wrong = format!("{}:{}", pull.username, push.password);
    let (ok, _) = skopeo(&["inspect", "--cert-dir", &certs, "--creds", &wrong, &src]);
    assert!(!ok, "the pull user with the push password got in");

    // The push user may do all of it: the refusals above were the role, not the gate.
    let dest = format!("docker://127.0.0.1:{}/team/app:v1", reg.port);
    let (ok, out) = skopeo(&[
        "copy",
        "--dest-cert-dir",
        &certs,
        "--dest-creds",
        &login(&push),
        &dir,
        &dest,
    ]);
    assert!(ok, "the push user pushes: {out}\n{}", reg.log());
    let (ok, out) = skopeo(&[
        "delete",
        "--cert-dir",
        &certs,
        "--creds",
        &login(&push),
        &dest,
    ]);
    assert!(ok, "the push user deletes: {out}");
    // Nothing the pull user tried landed.
    let (ok, out) = skopeo(&[
        "inspect",
        "--cert-dir",
        &certs,
        "--creds",
        &login(&push),
        &format!("docker://127.0.0.1:{}/evil/app:v1", reg.port),
    ]);
    assert!(!ok, "evil/app exists: {out}");
}

/// The node path: kreg's agent pulls the probe through containerd's CRI with the pull user, as
/// the DaemonSet does; and a CRI pull without credentials is refused.
#[test]
fn containerd_pulls_through_the_gate_with_the_pull_user() {
    require_root();
    let bin = runtime_bin("1.7");
    let reg = TestRegistry::start_gated();
    let pull = reg.pull.clone().unwrap();
    let probe = reg.push_probe();
    let sb = Sandbox::start("gate-17", &bin, "default");
    let env = vec![
        ("NODE_NAME", "sandbox".to_string()),
        ("KREG_REGISTRY", reg.host()),
        ("KREG_CA_PEM", reg.ca_pem.clone()),
        ("KREG_PROBE_IMAGE", probe.clone()),
        ("KREG_INSTALL", "kreg-system".to_string()),
        ("KREG_PULL_USERNAME", pull.username.clone()),
        ("KREG_PULL_PASSWORD", pull.password.clone()),
    ];
    let out = sb.exec(&env, &[KREG, "node-agent", "--once"]);
    let verdict = text(&out.stdout);
    assert!(
        out.status.success() && verdict.contains("kreg-node-trust: trusted:"),
        "the agent pulled with the pull user (exit {:?}):\n{verdict}{}\n{}",
        out.status.code(),
        text(&out.stderr),
        reg.log()
    );
    // Without credentials the runtime gets the gate's challenge: the pull fails.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let anonymous = rt.block_on(async {
        let cri = Cri::new(&sb.socket());
        cri.pull(&probe, None, std::time::Duration::from_secs(60))
            .await
    });
    let e = anonymous.expect_err("an anonymous pull through the gate worked");
    assert!(
        format!("{e:#}").contains("no basic auth credentials"),
        "refused for want of credentials: {e:#}"
    );
    // Removal leaves the node as it was (the agent's own contract; here only to clean up).
    let mut renv = env.clone();
    renv.push(("KREG_MODE", "remove".into()));
    let out = sb.exec(&renv, &[KREG, "node-agent", "--once"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

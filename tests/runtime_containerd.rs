//! The runtime tier (issue 10): kreg's real node agent against real containerd 1.6, 1.7 and
//! 2.1, each on a sandboxed node root (tests/cluster/rtbox) in every config layout users run,
//! with and without `--allow-runtime-restart`. The agent's verdict must match what a separate
//! pull through the runtime's CRI shows, containerd must answer afterwards, and removal must
//! leave no kreg file and the original config.

mod support;

use std::time::Instant;

use kreg::node::cri::Cri;
use support::rt::{require_root, runtime_bin, Sandbox, TestRegistry};
use support::text;

const KREG: &str = env!("CARGO_BIN_EXE_kreg");
const LAYOUTS: &[&str] = &[
    "default", "eks", "k3s", "missing", "unset", "stock", "dropin",
];

/// What the agent must conclude for a layout on a containerd major release.
fn expected_trusted(major: u32, layout: &str, restart: bool) -> bool {
    match layout {
        // No config_path: only kreg's (validated) edit + restart makes the node trust.
        "unset" | "stock" => restart,
        // containerd 2.x ignores hosts.toml with two roots unless use_local_image_pull is set.
        "eks" if major >= 2 => restart,
        _ => true,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A pull through the sandbox's CRI by this test (not by the agent): the independent proof.
fn cri_pull(sb: &Sandbox, image: &str) -> Result<String, String> {
    rt().block_on(async {
        let mut cri = Cri::new(&sb.socket());
        cri.version().await.map_err(|e| format!("version: {e:#}"))?;
        let r = cri
            .pull(image, None, std::time::Duration::from_secs(60))
            .await
            .map_err(|e| format!("{e:#}"));
        let _ = cri.remove(image).await;
        r
    })
}

fn runtime_answers(sb: &Sandbox) -> bool {
    rt().block_on(async { Cri::new(&sb.socket()).version().await.is_ok() })
}

fn matrix(version: &str) {
    require_root();
    let bin = runtime_bin(version);
    let reg = TestRegistry::start();
    let probe = reg.push_probe();
    let by_tag = format!(
        "{}/{}:{}",
        reg.host(),
        kreg::node::probe::REPO,
        kreg::node::probe::TAG
    );
    let mut failures = vec![];
    let mut figures = vec![];
    for layout in LAYOUTS {
        for restart in [false, true] {
            let name = format!(
                "{}-{layout}-{}",
                version.replace('.', ""),
                if restart { "r" } else { "n" }
            );
            let sb = Sandbox::start(&name, &bin, layout);
            let major =
                rt().block_on(async { Cri::new(&sb.socket()).version().await.unwrap().major() });
            let config_before = sb.read("/etc/containerd/config.toml").unwrap();
            let env = vec![
                ("NODE_NAME", "sandbox".to_string()),
                ("KREG_REGISTRY", reg.host()),
                ("KREG_CA_PEM", reg.ca_pem.clone()),
                ("KREG_PROBE_IMAGE", probe.clone()),
                ("KREG_ALLOW_RESTART", restart.to_string()),
                ("KREG_INSTALL", "kreg-system".to_string()),
            ];
            let t = Instant::now();
            let out = sb.exec(&env, &[KREG, "node-agent", "--once"]);
            let took = t.elapsed();
            let verdict = text(&out.stdout);
            let want = expected_trusted(major, layout, restart);
            let case = format!("containerd {version} layout={layout} restart={restart}");
            let said_trusted = verdict
                .lines()
                .last()
                .unwrap_or("")
                .starts_with("kreg-node-trust: trusted:");
            if said_trusted != want || out.status.success() != want {
                failures.push(format!(
                    "{case}: expected trusted={want}, agent said (exit {:?}):\n{verdict}{}",
                    out.status.code(),
                    text(&out.stderr)
                ));
                continue;
            }
            if !want {
                let v = verdict.lines().last().unwrap_or("");
                let right_remedy = if *layout == "eks" {
                    v.contains("use_local_image_pull")
                } else {
                    v.contains("config_path")
                        && v.contains(if major >= 2 {
                            "io.containerd.cri.v1.images"
                        } else {
                            "io.containerd.grpc.v1.cri"
                        })
                };
                if !right_remedy {
                    failures.push(format!("{case}: the remedy does not fit the runtime: {v}"));
                }
                if sb.read("/etc/containerd/config.toml").as_deref() != Some(config_before.as_str())
                {
                    failures.push(format!(
                        "{case}: the config changed without --allow-runtime-restart"
                    ));
                }
            }
            // The independent pull agrees with the verdict.
            match (cri_pull(&sb, &by_tag), want) {
                (Ok(_), true) => {}
                (Err(e), false)
                    if e.contains("x509")
                        || e.contains("certificate")
                        || e.contains("http: server gave HTTP response")
                        || e.contains("no such host")
                        || e.contains("lookup") => {}
                (r, w) => failures.push(format!(
                    "{case}: verdict trusted={w} but the test's own CRI pull gave {r:?}"
                )),
            }
            if !runtime_answers(&sb) {
                failures.push(format!(
                    "{case}: containerd does not answer after the agent ran"
                ));
            }
            if want {
                figures.push(format!("{case}: verified trust in {} ms", took.as_millis()));
            }
            // Removal takes back every file and the config change.
            let mut renv = env.clone();
            renv.push(("KREG_MODE", "remove".into()));
            let out = sb.exec(&renv, &[KREG, "node-agent", "--once"]);
            let v = text(&out.stdout);
            if !out.status.success() || !v.contains("removed:") {
                failures.push(format!("{case}: removal failed: {v}{}", text(&out.stderr)));
            }
            let left: Vec<String> = [
                "/etc/containerd",
                "/etc/docker",
                "/var/lib/rancher",
                "/etc/rancher",
                "/var/lib/kreg",
            ]
            .iter()
            .flat_map(|d| sb.files_under(d))
            .filter(|f| f.contains("registry.kreg.test") || f.contains("kreg"))
            .collect();
            if !left.is_empty() {
                failures.push(format!("{case}: files left after removal: {left:?}"));
            }
            if sb.read("/etc/containerd/config.toml").as_deref() != Some(config_before.as_str()) {
                failures.push(format!("{case}: config.toml not restored after removal"));
            }
        }
    }
    for f in &figures {
        eprintln!("figure: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}\nregistry log tail:\n{}",
        failures.len(),
        failures.join("\n\n"),
        reg.log()
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn containerd_1_6() {
    matrix("1.6");
}

#[test]
fn containerd_1_7() {
    matrix("1.7");
}

#[test]
fn containerd_2_1() {
    matrix("2.1");
}

/// `--allow-runtime-restart` never leaves a node without a runtime: when containerd does not
/// answer in time after kreg's change, the original config goes back, and kreg never tries a
/// second time on that node.
#[test]
fn a_runtime_that_does_not_come_back_is_rolled_back_and_not_tried_again() {
    require_root();
    let bin = runtime_bin("2.1");
    let reg = TestRegistry::start();
    let probe = reg.push_probe();
    // The supervisor starts containerd again only after 8 s; kreg waits 3 s.
    let sb = Sandbox::start_with_delay("rollback", &bin, "stock", "8");
    let before = sb.read("/etc/containerd/config.toml").unwrap();
    let env = vec![
        ("NODE_NAME", "sandbox".to_string()),
        ("KREG_REGISTRY", reg.host()),
        ("KREG_CA_PEM", reg.ca_pem.clone()),
        ("KREG_PROBE_IMAGE", probe),
        ("KREG_ALLOW_RESTART", "true".to_string()),
        ("KREG_RESTART_WAIT", "3".to_string()),
    ];
    let out = sb.exec(&env, &[KREG, "node-agent", "--once"]);
    let v = text(&out.stdout);
    assert!(!out.status.success(), "{v}");
    assert!(
        v.contains("did not come back") && v.contains("original"),
        "{v}{}",
        text(&out.stderr)
    );
    assert_eq!(
        sb.read("/etc/containerd/config.toml").as_deref(),
        Some(before.as_str()),
        "the original config is back"
    );
    // containerd is up again (its supervisor started it with the original config).
    let t = Instant::now();
    while !runtime_answers(&sb) {
        assert!(t.elapsed().as_secs() < 30, "containerd did not come back");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // One attempt per node: the next pass reports instead of restarting again.
    let out = sb.exec(&env, &[KREG, "node-agent", "--once"]);
    let v = text(&out.stdout);
    assert!(v.contains("does not try again"), "{v}");
    assert_eq!(
        sb.read("/etc/containerd/config.toml").as_deref(),
        Some(before.as_str())
    );
}

//! Image lifecycle on the node tier: `kreg images` lists what `kreg push` stored (digests,
//! sizes, creation times; a multi-arch index as one image), `kreg prune --keep 1` deletes all
//! but the newest image and its garbage collection gives the bytes back, `kreg rm` deletes an
//! index with its platforms and refuses a tag whose digest other tags share. Checked from the
//! outside with skopeo and curl against the registry's API.

mod support;

use std::path::Path;

use serde_json::Value;
use support::kreg::{kreg, kreg_json, resolve_on_node, Workstation, KREG};
use support::{require, text, TestCluster, Tier};

/// A schedule that never fires while a test runs: the test starts the run itself.
const GC_SCHEDULE: &str = "0 3 1 1 *";

const REPO: &str = "kreg-test/app";

/// A fresh registry (no node trust: nothing here runs on a node) the workstation reaches by
/// name and trusts (`trust-local --hosts`). Returns the registry's name.
fn fresh_registry(tc: &TestCluster, ws: &Workstation) -> String {
    fresh_registry_with(tc, ws, &["--no-node-trust"])
}

fn fresh_registry_with(tc: &TestCluster, ws: &Workstation, extra: &[&str]) -> String {
    let _ = kreg(tc, &["down", "--purge", "--yes"]);
    let mut args = vec!["up", "--yes", "-o", "json", "--timeout", "4m"];
    args.extend_from_slice(extra);
    let up = kreg_json(tc, &args);
    assert_eq!(up["healthy"], true, "{up}");
    let registry = up["registry"].as_str().unwrap().to_string();
    resolve_on_node(tc, up["address"].as_str().unwrap(), &registry);
    let out = ws.sh(&format!(
        "{KREG} trust-local --yes --hosts --kubeconfig {}",
        tc.kubeconfig.display()
    ));
    assert!(out.status.success(), "trust-local: {}", text(&out.stderr));
    registry
}

/// `kreg push -o json LAYOUT --name NAME`: the pushed digest.
fn push(tc: &TestCluster, layout: &Path, name: &str) -> String {
    let r = kreg_json(
        tc,
        &[
            "push",
            "-o",
            "json",
            layout.to_str().unwrap(),
            "--name",
            name,
        ],
    );
    r["digest"].as_str().unwrap().to_string()
}

/// The HTTP status the registry answers `GET /v2/PATH` with (the workstation trusts kreg's CA).
fn http_status(ws: &Workstation, registry: &str, path: &str) -> String {
    let out = ws.sh(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' --cacert /etc/kreg-ca.crt -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' https://{registry}/v2/{path}"
    ));
    text(&out.stdout).trim().to_string()
}

/// `kreg status -o json`, healthy or not (exit 1 while a node is still taking up trust: not
/// what these tests are about).
fn status(tc: &TestCluster) -> Value {
    let out = kreg(tc, &["status", "-o", "json"]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status: {e}: {}", text(&out.stderr)))
}

/// Puts kreg's CA where [`http_status`] finds it.
fn save_ca(tc: &TestCluster, ws: &Workstation) {
    let status = status(tc);
    std::fs::write(
        ws.etc().join("kreg-ca.crt"),
        status["ca_pem"].as_str().unwrap(),
    )
    .unwrap();
}

/// The layer digests of a pushed manifest (an image's own layer).
fn layers(ws: &Workstation, registry: &str, repo: &str, digest: &str) -> Vec<String> {
    let out = ws.sh(&format!(
        "curl -sf --cacert /etc/kreg-ca.crt -H 'Accept: application/vnd.oci.image.manifest.v1+json' https://{registry}/v2/{repo}/manifests/{digest}"
    ));
    assert!(
        out.status.success(),
        "manifest {digest}: {}",
        text(&out.stderr)
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect()
}

fn images(tc: &TestCluster, repo: &str) -> Vec<Value> {
    let doc = kreg_json(tc, &["images", "-o", "json", repo]);
    assert_eq!(doc["schemaVersion"], 1, "{doc}");
    doc["images"].as_array().unwrap().clone()
}

fn tags_of(image: &Value) -> Vec<String> {
    image["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn prune_keeps_the_newest_image_and_its_gc_reclaims_the_rest() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ws = Workstation::new();
    let registry = fresh_registry(&tc, &ws);
    save_ca(&tc, &ws);
    let work = tempfile::tempdir().unwrap();
    // Three tags, three images: distinct 4 MiB layers, one year apart, pushed oldest last so
    // the ranking cannot be the push order.
    let mut digests = Vec::new();
    for (tag, created) in [
        ("3", "2022-01-01T00:00:00Z"),
        ("2", "2021-01-01T00:00:00Z"),
        ("1", "2020-01-01T00:00:00Z"),
    ] {
        let layout = support::oci::random_image_created(work.path(), tag, 4 << 20, created);
        digests.push(push(&tc, &layout, &format!("{REPO}:{tag}")));
    }
    let (newest, old) = (digests[0].clone(), &digests[1..]);
    let old_layers: Vec<String> = old
        .iter()
        .flat_map(|d| layers(&ws, &registry, REPO, d))
        .collect();
    assert_eq!(old_layers.len(), 2);

    // Listed newest first, with digests, sizes and creation times.
    let list = images(&tc, REPO);
    assert_eq!(list.len(), 3, "{list:#?}");
    for (img, (tag, digest)) in list.iter().zip(["3", "2", "1"].iter().zip(&digests)) {
        assert_eq!(tags_of(img), [*tag], "{img}");
        assert_eq!(img["digest"], digest.as_str(), "{img}");
        assert_eq!(img["kind"], "image");
        assert!(img["size"].as_u64().unwrap() >= 4 << 20, "{img}");
        assert_eq!(img["platforms"][0], "linux/amd64");
    }
    assert_eq!(list[0]["created"], "2022-01-01T00:00:00Z");
    let table = kreg(&tc, &["images"]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.starts_with(REPO)).count(),
        3,
        "{table}"
    );

    // A dry run says what would go and deletes nothing.
    let dry = kreg_json(
        &tc,
        &["prune", "--keep", "1", "--dry-run", "-o", "json", REPO],
    );
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["manifests_deleted"], 2, "{dry}");
    assert!(dry.get("gc").is_none(), "{dry}");
    assert_eq!(images(&tc, REPO).len(), 3, "the dry run deleted something");

    let pruned = kreg_json(
        &tc,
        &[
            "prune",
            "--keep",
            "1",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "4m",
        ],
    );
    let decided: Vec<(bool, String)> = pruned["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["repository"] == REPO)
        .map(|i| {
            (
                i["delete"].as_bool().unwrap(),
                i["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        decided,
        [
            (false, newest.clone()),
            (true, old[0].clone()),
            (true, old[1].clone())
        ],
        "{pruned}"
    );
    let reclaimed = pruned["gc"]["reclaimed_bytes"].as_u64().unwrap_or(0);
    assert!(
        reclaimed >= 7 << 20,
        "expected the two 4 MiB layers back: {pruned}"
    );
    assert!(
        pruned["gc"]["readonly_ms"].as_u64().unwrap() > 0,
        "{pruned}"
    );

    // One image left; the others' manifests and unique layers are gone, the kept one pulls.
    let left = images(&tc, REPO);
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0]["digest"], newest.as_str());
    for d in old {
        assert_eq!(
            http_status(&ws, &registry, &format!("{REPO}/manifests/{d}")),
            "404"
        );
    }
    for l in &old_layers {
        assert_eq!(
            http_status(&ws, &registry, &format!("{REPO}/blobs/{l}")),
            "404"
        );
    }
    let pull = ws.sh(&format!(
        "skopeo copy --quiet docker://{registry}/{REPO}:3 dir:{}/pulled",
        work.path().display()
    ));
    assert!(pull.status.success(), "pull: {}", text(&pull.stderr));
    let status = status(&tc);
    assert_eq!(status["read_only"], false, "{status}");

    // Nothing more to prune: no deletes, no collector.
    let again = kreg_json(&tc, &["prune", "--keep", "1", "--yes", "-o", "json"]);
    assert_eq!(again["manifests_deleted"], 0, "{again}");
    assert!(again.get("gc").is_none(), "{again}");

    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

#[test]
fn a_multi_arch_image_is_one_image_and_rm_guards_shared_digests() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ws = Workstation::new();
    let registry = fresh_registry(&tc, &ws);
    save_ca(&tc, &ws);
    let work = tempfile::tempdir().unwrap();

    let multi =
        support::oci::multi_arch_image(work.path(), "multi", 1 << 20, "2023-05-01T00:00:00Z");
    let index = push(&tc, &multi, "kreg-test/multi:1");
    let list = images(&tc, "kreg-test/multi");
    assert_eq!(list.len(), 1, "one image, not three: {list:#?}");
    let img = &list[0];
    assert_eq!(img["kind"], "index");
    assert_eq!(img["digest"], index.as_str());
    assert_eq!(
        img["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert!(
        img["size"].as_u64().unwrap() >= 2 << 20,
        "both platforms count: {img}"
    );
    let children: Vec<String> = img["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(children.len(), 2);
    let child_layers: Vec<String> = children
        .iter()
        .flat_map(|c| layers(&ws, &registry, "kreg-test/multi", c))
        .collect();

    // One platform alone is refused: the index would dangle.
    let out = kreg(
        &tc,
        &["rm", "--yes", &format!("kreg-test/multi@{}", children[0])],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("one platform of"),
        "{}",
        text(&out.stderr)
    );

    // A tag whose digest another tag shares: refused, naming the other tag, nothing deleted.
    let single =
        support::oci::random_image_created(work.path(), "single", 1 << 20, "2023-01-01T00:00:00Z");
    let shared = push(&tc, &single, "kreg-test/single:a");
    assert_eq!(push(&tc, &single, "kreg-test/single:b"), shared);
    let out = kreg(&tc, &["rm", "--yes", "kreg-test/single:a"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("kreg-test/single:b") && err.contains("--all-tags"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        http_status(&ws, &registry, "kreg-test/single/manifests/a"),
        "200"
    );
    let rm = kreg_json(
        &tc,
        &[
            "rm",
            "--yes",
            "--all-tags",
            "-o",
            "json",
            "kreg-test/single:a",
        ],
    );
    assert_eq!(rm["deletes"], serde_json::json!([shared]), "{rm}");
    for t in ["a", "b"] {
        assert_eq!(
            http_status(&ws, &registry, &format!("kreg-test/single/manifests/{t}")),
            "404"
        );
    }

    // The index goes with its platforms: index first, then each child.
    let rm = kreg_json(&tc, &["rm", "--yes", "-o", "json", "kreg-test/multi:1"]);
    let mut want = vec![index.clone()];
    want.extend(children.iter().cloned());
    assert_eq!(rm["deletes"], serde_json::json!(want), "{rm}");
    for d in &want {
        assert_eq!(
            http_status(&ws, &registry, &format!("kreg-test/multi/manifests/{d}")),
            "404",
            "{d}"
        );
    }
    assert!(images(&tc, "kreg-test/multi").is_empty());

    // `kreg gc` then reclaims the platforms' layers.
    let gc = kreg_json(&tc, &["gc", "--yes", "-o", "json", "--timeout", "3m"]);
    assert!(
        gc["reclaimed_bytes"].as_u64().unwrap_or(0) >= 2 << 20,
        "{gc}"
    );
    for l in &child_layers {
        assert_eq!(
            http_status(&ws, &registry, &format!("kreg-test/multi/blobs/{l}")),
            "404"
        );
    }
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
}

#[test]
fn the_gc_schedule_prunes_before_it_collects() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    let ws = Workstation::new();
    // Node trust on: the nodes pull the CronJob's kubectl image from kreg's registry.
    let registry = fresh_registry_with(&tc, &ws, &[]);
    save_ca(&tc, &ws);
    let work = tempfile::tempdir().unwrap();
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".into());
    let kubectl_image = support::oci::kubectl_image(work.path(), Path::new(&kubectl));
    push(&tc, &kubectl_image, "kreg-test/kubectl:1");
    let old =
        support::oci::random_image_created(work.path(), "old", 4 << 20, "2020-01-01T00:00:00Z");
    let old = push(&tc, &old, &format!("{REPO}:old"));
    let old_layers = layers(&ws, &registry, REPO, &old);
    let new =
        support::oci::random_image_created(work.path(), "new", 1 << 20, "2021-01-01T00:00:00Z");
    let new = push(&tc, &new, &format!("{REPO}:new"));

    let gc_image = format!("{registry}/kreg-test/kubectl:1");
    let up = kreg_json(
        &tc,
        &[
            "up",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "4m",
            "--gc-schedule",
            GC_SCHEDULE,
            "--gc-image",
            &gc_image,
            "--prune-keep",
            "1",
        ],
    );
    assert!(
        up["changed"].to_string().contains("CronJob/kreg-gc"),
        "{up}"
    );
    // Kept by a later `up` that does not name it.
    let again = kreg_json(&tc, &["up", "--yes", "-o", "json", "--timeout", "4m"]);
    assert!(
        !again["changed"].to_string().contains("CronJob/kreg-gc"),
        "{again}"
    );
    let init = tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "get",
        "cronjob",
        "kreg-gc",
        "-o",
        "jsonpath={.spec.jobTemplate.spec.template.spec.initContainers[0].command}",
    ]);
    assert!(init.contains("--keep") && init.contains("\"1\""), "{init}");
    assert_eq!(
        images(&tc, REPO).len(),
        2,
        "nothing is pruned before the schedule runs"
    );

    tc.kubectl_ok(&[
        "-n",
        "kreg-system",
        "create",
        "job",
        "kreg-prune-now",
        "--from=cronjob/kreg-gc",
    ]);
    let state = tc.wait_job("kreg-prune-now", 150);
    let prune_log = tc.kubectl(&[
        "-n",
        "kreg-system",
        "logs",
        "job/kreg-prune-now",
        "-c",
        "prune",
    ]);
    let gc_log = tc.kubectl(&[
        "-n",
        "kreg-system",
        "logs",
        "job/kreg-prune-now",
        "-c",
        "gc",
    ]);
    let logs = format!(
        "prune:\n{}{}\ngc:\n{}{}",
        text(&prune_log.stdout),
        text(&prune_log.stderr),
        text(&gc_log.stdout),
        text(&gc_log.stderr)
    );
    assert!(
        state.starts_with('1'),
        "the scheduled run failed ({state}):\n{logs}"
    );
    assert!(
        text(&prune_log.stdout).contains(&format!("delete {REPO}:old")),
        "{logs}"
    );
    let outcome = kreg::gc::parse(&text(&gc_log.stdout));
    assert!(
        outcome.reclaimed_bytes.unwrap_or(0) >= 3 << 20,
        "{outcome:?}\n{logs}"
    );

    let left = images(&tc, REPO);
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0]["digest"], new.as_str());
    assert_eq!(
        http_status(&ws, &registry, &format!("{REPO}/manifests/{old}")),
        "404"
    );
    for l in &old_layers {
        assert_eq!(
            http_status(&ws, &registry, &format!("{REPO}/blobs/{l}")),
            "404"
        );
    }
    let status = status(&tc);
    assert_eq!(status["read_only"], false, "{status}");

    // `down` removes the CronJob with its prune.
    let _ = kreg(&tc, &["down", "--purge", "--yes"]);
    let gone = tc.kubectl(&["-n", "kreg-system", "get", "cronjob", "kreg-gc"]);
    assert!(!gone.status.success(), "the CronJob outlived `down`");
}

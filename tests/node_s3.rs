//! `--storage s3 --replicas 2` on the node tier, against a real S3 server: Garage, which the
//! harness builds from crates.io and runs on kreg-node (`kcluster s3 start|stop`), with the
//! bucket and key made by Garage's own CLI.
//!
//! What is shown: the two replicas land on the two nodes; an upload begun on one replica is
//! continued and finished on the other (the shared HTTP secret and the shared bucket); each
//! replica serves what was pushed, and each node pulls and runs it; `kreg gc` collects garbage
//! in the bucket; `down` and `up` keep the images; the S3 server stopped under a running
//! registry makes `status` unhealthy, started again makes it healthy, and nothing is lost.
//! Also prints push and pull throughput on S3 against a PVC (a note, never a pass/fail).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::kreg::{host_of, kreg, kreg_json, purge, resolve_on_node, Workstation};
use support::{require, text, TestCluster, Tier};

/// The S3 server's coordinates, from `kcluster s3 start`'s `export` lines.
struct S3 {
    endpoint: String,
    region: String,
    bucket: String,
    access_key: String,
    secret_key: String,
}

fn s3_start(tc: &TestCluster) -> S3 {
    let out = tc.kcluster_ok(&["s3", "start"]);
    let get = |name: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("export KREG_TEST_S3_{name}=")))
            .unwrap_or_else(|| panic!("kcluster s3 start printed no KREG_TEST_S3_{name}: {out}"))
            .trim()
            .to_string()
    };
    S3 {
        endpoint: get("ENDPOINT"),
        region: get("REGION"),
        bucket: get("BUCKET"),
        access_key: get("ACCESS_KEY"),
        secret_key: get("SECRET_KEY"),
    }
}

/// Starts the S3 server again when dropped: a test that stopped it leaves it running, passed
/// or not.
struct S3Back<'a>(&'a TestCluster);

impl Drop for S3Back<'_> {
    fn drop(&mut self) {
        let _ = self.0.kcluster(&["s3", "start"]);
    }
}

/// Removes the installation in `ns` and the namespace, also when the test fails.
struct Purge<'a>(&'a TestCluster, &'a str);

impl Drop for Purge<'_> {
    fn drop(&mut self) {
        purge(self.0, self.1);
    }
}

const SECRET: &str = "kreg-s3";

/// A clean namespace `ns` holding the S3 credentials Secret `kreg-s3`, as a user makes it
/// before `kreg up --storage s3`.
fn namespace_with_credentials(tc: &TestCluster, ns: &str, s3: &S3) {
    purge(tc, ns);
    tc.kubectl_ok(&["create", "namespace", ns]);
    tc.kubectl_ok(&[
        "-n",
        ns,
        "create",
        "secret",
        "generic",
        SECRET,
        &format!("--from-literal=accesskey={}", s3.access_key),
        &format!("--from-literal=secretkey={}", s3.secret_key),
    ]);
}

/// `kreg -n NS up --storage s3 ... --replicas N`, healthy.
fn up_s3(tc: &TestCluster, ns: &str, s3: &S3, replicas: u32) -> Value {
    let replicas = replicas.to_string();
    let up = kreg_json(
        tc,
        &[
            "-n",
            ns,
            "up",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "5m",
            "--storage",
            "s3",
            "--s3-bucket",
            &s3.bucket,
            "--s3-region",
            &s3.region,
            "--s3-endpoint",
            &s3.endpoint,
            "--s3-secret",
            SECRET,
            "--replicas",
            &replicas,
        ],
    );
    assert_eq!(up["healthy"], true, "{up}");
    up
}

/// How a test reaches one registry: its name, the Service's address, kreg's CA in a file.
struct Registry {
    /// `registry.<ip>.nip.io:<port>`
    name: String,
    address: String,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn of(up: &Value) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, up["ca_pem"].as_str().expect("ca_pem")).unwrap();
        Registry {
            name: up["registry"].as_str().unwrap().to_string(),
            address: up["address"].as_str().unwrap().to_string(),
            ca,
            _dir: dir,
        }
    }

    fn port(&self) -> &str {
        self.name.rsplit_once(':').map(|(_, p)| p).unwrap_or("443")
    }

    /// curl's option that sends a request for the registry's name to `via`: `None` for the
    /// Service (the address `up` gave), `Some(pod_ip)` for one replica, straight to its pod.
    /// TLS is verified against kreg's CA under the registry's own name either way.
    fn route(&self, via: Option<&str>) -> [String; 2] {
        let host = host_of(&self.name);
        match via {
            None => [
                "--resolve".into(),
                format!("{host}:{}:{}", self.port(), self.address),
            ],
            Some(pod) => [
                "--connect-to".into(),
                format!("{host}:{}:{pod}:5000", self.port()),
            ],
        }
    }

    /// One HTTP request; `(status, headers, body)`.
    fn call(
        &self,
        via: Option<&str>,
        method: &str,
        url: &str,
        extra: &[&str],
    ) -> (u16, String, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let headers = dir.path().join("headers");
        let body = dir.path().join("body");
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "120", "-X", method, "--cacert"])
            .arg(&self.ca)
            .args(self.route(via))
            .arg("-D")
            .arg(&headers)
            .arg("-o")
            .arg(&body)
            .args(["-w", "%{http_code}"])
            .args(extra)
            .arg(url)
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "curl {method} {url} via {via:?}: {}",
            text(&out.stderr)
        );
        let code = text(&out.stdout).trim().parse().expect("an HTTP status");
        (
            code,
            std::fs::read_to_string(&headers).unwrap_or_default(),
            std::fs::read(&body).unwrap_or_default(),
        )
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}/v2/{path}", self.name)
    }

    /// The blob `digest` of `repo` as served by `via`, checked against its digest. Redirects
    /// are not followed: the registry serves the bytes itself (a client may not reach the S3
    /// endpoint), so a 307 to the bucket is a failure here.
    fn blob(&self, via: Option<&str>, repo: &str, digest: &str) -> u16 {
        let (code, headers, body) = self.call(
            via,
            "GET",
            &self.url(&format!("{repo}/blobs/{digest}")),
            &[],
        );
        assert!(
            !(300..400).contains(&code),
            "{repo} blob via {via:?}: a redirect ({code}) instead of the bytes:\n{headers}"
        );
        if code == 200 {
            assert_eq!(sha256(&body), digest, "{repo} blob via {via:?}");
        }
        code
    }

    /// The manifest `repo:tag` as served by `via` (200 or the status).
    fn manifest(&self, via: Option<&str>, repo: &str, tag: &str) -> (u16, Vec<u8>) {
        let (code, _, body) = self.call(
            via,
            "GET",
            &self.url(&format!("{repo}/manifests/{tag}")),
            &[
                "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json",
                "-H",
                "Accept: application/vnd.docker.distribution.manifest.v2+json",
            ],
        );
        (code, body)
    }
}

fn sha256(b: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(b))
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The registry's running pods: (name, node, pod IP), each Ready; waits until there are `n`.
fn registry_pods(tc: &TestCluster, ns: &str, n: usize) -> Vec<(String, String, String)> {
    let t = Instant::now();
    loop {
        let out = tc.kubectl_ok(&[
            "-n",
            ns,
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/name=kreg-registry",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.metadata.deletionTimestamp} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
        ]);
        let pods: Vec<(String, String, String)> = out
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|w| w.len() == 4 && w[3] == "True")
            .map(|w| (w[0].to_string(), w[1].to_string(), w[2].to_string()))
            .collect();
        let all = out.lines().filter(|l| !l.trim().is_empty()).count();
        if pods.len() == n && all == n {
            return pods;
        }
        assert!(
            t.elapsed() < Duration::from_secs(240),
            "expected {n} ready registry pods and no others:\n{out}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Uploads `data` as one blob of `repo` in four requests that alternate between two replicas:
/// POST on `a`, PATCH (first part) on `b`, PATCH (second part) on `a`, PUT (the rest and the
/// digest) on `b`. Returns the digest.
fn upload_across(reg: &Registry, a: &str, b: &str, repo: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let dir = tempfile::tempdir().unwrap();
    let (p1, rest) = data.split_at(data.len() * 6 / 10);
    let (p2, p3) = rest.split_at(rest.len() * 3 / 4);
    let mut location = begin_upload(reg, a, repo);
    let mut offset = 0;
    for (i, (via, part)) in [(b, p1), (a, p2)].into_iter().enumerate() {
        let file = dir.path().join(format!("part{i}"));
        std::fs::write(&file, part).unwrap();
        let range = format!("Content-Range: {}-{}", offset, offset + part.len() - 1);
        let (code, headers, body) = reg.call(
            Some(via),
            "PATCH",
            &location,
            &[
                "-H",
                "Content-Type: application/octet-stream",
                "-H",
                &range,
                "--data-binary",
                &format!("@{}", file.display()),
            ],
        );
        assert_eq!(
            code,
            202,
            "PATCH {i} on {via} of an upload begun on {a}: {}",
            text(&body)
        );
        offset += part.len();
        let end = header(&headers, "Range").expect("Range");
        assert_eq!(end, format!("0-{}", offset - 1), "the upload's size so far");
        location = header(&headers, "Location").expect("Location").to_string();
    }
    let headers = finish_upload(reg, b, &location, &digest, p3);
    assert_eq!(header(&headers, "Docker-Content-Digest"), Some(&*digest));
    digest
}

/// POST: begins an upload to `repo` on `via`; the Location to continue it at.
fn begin_upload(reg: &Registry, via: &str, repo: &str) -> String {
    let (code, headers, body) = reg.call(
        Some(via),
        "POST",
        &reg.url(&format!("{repo}/blobs/uploads/")),
        &[],
    );
    assert_eq!(code, 202, "POST on {via}: {}", text(&body));
    header(&headers, "Location").expect("Location").to_string()
}

/// The closing PUT of the upload at `location`, on `via`, carrying `last` (the bytes not sent
/// yet) and naming the blob's `digest`; the response headers.
fn finish_upload(reg: &Registry, via: &str, location: &str, digest: &str, last: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("last");
    std::fs::write(&file, last).unwrap();
    let sep = if location.contains('?') { '&' } else { '?' };
    let (code, headers, body) = reg.call(
        Some(via),
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &[
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", file.display()),
        ],
    );
    assert_eq!(code, 201, "PUT on {via}: {}", text(&body));
    headers
}

/// Uploads `bytes` as a blob of `repo` on `via` (POST, one PUT); returns the digest.
fn put_blob(reg: &Registry, via: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let location = begin_upload(reg, via, repo);
    finish_upload(reg, via, &location, &digest, bytes);
    digest
}

/// Tags `repo:tag` on `via` as an OCI image whose one layer is the blob `layer` (`size`
/// bytes), with a config blob uploaded first: what keeps the layer from the garbage collector.
fn put_image(reg: &Registry, via: &str, repo: &str, tag: &str, layer: &str, size: usize) {
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer]},
    })
    .to_string();
    let config_digest = put_blob(reg, via, repo, config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer, "size": size}],
    })
    .to_string();
    let (code, _, body) = reg.call(
        Some(via),
        "PUT",
        &reg.url(&format!("{repo}/manifests/{tag}")),
        &[
            "-H",
            "Content-Type: application/vnd.oci.image.manifest.v1+json",
            "--data-binary",
            &manifest,
        ],
    );
    assert_eq!(code, 201, "manifest PUT on {via}: {}", text(&body));
}

/// An OCI layout of busybox plus `/data.bin` (`size` random bytes): an image a Pod can run
/// (`/bin/busybox sha256sum /data.bin`) that no node holds yet. Returns the layout and the
/// data's sha256 (hex).
fn runnable_random_image(dir: &Path, tag: &str, size: usize) -> (PathBuf, String) {
    use rand::RngCore;
    let root = dir.join(format!("rootfs-{tag}"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let mut data = vec![0u8; size];
    rand::rng().fill_bytes(&mut data);
    std::fs::write(root.join("data.bin"), &data).unwrap();
    let layout = support::oci::image_of(dir, &root, tag);
    (layout, format!("{:x}", Sha256::digest(&data)))
}

/// Runs `/bin/busybox sha256sum /data.bin` from `image` on `node`; returns the printed hash.
fn sum_on_node(tc: &TestCluster, ns: &str, pod: &str, node: &str, image: &str) -> String {
    let _ = tc.kubectl(&[
        "-n",
        ns,
        "delete",
        "pod",
        pod,
        "--ignore-not-found",
        "--wait",
    ]);
    let overrides = serde_json::json!({"apiVersion": "v1", "spec": {"nodeName": node}});
    tc.kubectl_ok(&[
        "-n",
        ns,
        "run",
        pod,
        "--image",
        image,
        "--restart=Never",
        "--overrides",
        &overrides.to_string(),
        "--command",
        "--",
        "/bin/busybox",
        "sha256sum",
        "/data.bin",
    ]);
    let t = Instant::now();
    loop {
        let phase = tc.kubectl_ok(&[
            "-n",
            ns,
            "get",
            "pod",
            pod,
            "-o",
            "jsonpath={.status.phase}",
        ]);
        if phase == "Succeeded" {
            break;
        }
        assert!(
            phase != "Failed" && t.elapsed() < Duration::from_secs(180),
            "pod {pod} on {node}: {phase}\n{}",
            text(&tc.kubectl(&["-n", ns, "describe", "pod", pod]).stdout)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let logs = tc.kubectl_ok(&["-n", ns, "logs", pod]);
    tc.kubectl_ok(&["-n", ns, "delete", "pod", pod, "--wait=false"]);
    logs.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `kreg -n NS status -o json` whatever its exit code (3 when unhealthy).
fn status(tc: &TestCluster, ns: &str) -> Value {
    let out = kreg(tc, &["-n", ns, "status", "-o", "json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status: not JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// Polls `status` until `healthy` is `want`, for at most `secs`; returns that status.
fn wait_health(tc: &TestCluster, ns: &str, want: bool, secs: u64) -> Value {
    let t = Instant::now();
    loop {
        let s = status(tc, ns);
        if s["healthy"] == want {
            return s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "status never said healthy={want} in {secs} s: {s}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

const NS: &str = "kt-s3";

#[test]
fn s3_replicas_share_uploads_and_survive_gc_down_up_and_an_s3_outage() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    assert!(tc.nodes.len() >= 2, "two nodes: {:?}", tc.nodes);
    let s3 = s3_start(&tc);
    let _s3_back = S3Back(&tc);
    let _purge = Purge(&tc, NS);
    namespace_with_credentials(&tc, NS, &s3);

    // 1. Two replicas on S3, one on each node.
    let up = up_s3(&tc, NS, &s3, 2);
    let reg = Registry::of(&up);
    let pods = registry_pods(&tc, NS, 2);
    assert_ne!(
        pods[0].1, pods[1].1,
        "the replicas must run on different nodes: {pods:?}"
    );
    let (a, b) = (pods[0].2.clone(), pods[1].2.clone());
    let st = status(&tc, NS);
    assert_eq!(st["replicas_ready"], 2, "{st}");
    assert_eq!(st["healthy"], true, "{st}");

    // 2. An upload begun on one replica, continued and finished on the other; then served by
    //    both and through the Service. 11 MiB: the first part is more than S3's 5 MiB
    //    minimum part size, the later ones less. Then tagged as an image's layer (on the
    //    second replica), so the garbage collector keeps it.
    let mut data = vec![0u8; 11 << 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut data);
    let cross = upload_across(&reg, &a, &b, "kt/cross", &data);
    for via in [Some(a.as_str()), Some(b.as_str()), None] {
        assert_eq!(reg.blob(via, "kt/cross", &cross), 200, "via {via:?}");
    }
    put_image(&reg, &b, "kt/cross", "1", &cross, data.len());
    for via in [Some(a.as_str()), Some(b.as_str()), None] {
        assert_eq!(reg.manifest(via, "kt/cross", "1").0, 200, "via {via:?}");
    }

    // 3. Images pushed through the Service: each replica serves their manifests, and each
    //    node pulls and runs one (a layer no node had: every byte comes out of the bucket).
    resolve_on_node(&tc, &reg.address, &reg.name);
    let ws = Workstation::new();
    ws.add_host(&reg.address, host_of(&reg.name));
    let work = tempfile::tempdir().unwrap();
    let (runnable, data_sum) = runnable_random_image(work.path(), "sum", 4 << 20);
    let junk = support::oci::random_image(work.path(), "junk", 8 << 20);
    let certs = reg.ca.parent().unwrap().display().to_string();
    let push = ws.sh(&format!(
        "skopeo copy --quiet --dest-cert-dir {certs} oci:{}:sum docker://{r}/kt/sum:1 && \
         skopeo copy --quiet --dest-cert-dir {certs} oci:{}:junk docker://{r}/kt/junk:1",
        runnable.display(),
        junk.display(),
        r = reg.name
    ));
    assert!(push.status.success(), "push: {}", text(&push.stderr));
    for via in [Some(a.as_str()), Some(b.as_str())] {
        let (code, body) = reg.manifest(via, "kt/sum", "1");
        assert_eq!(code, 200, "kt/sum:1 via {via:?}: {}", text(&body));
        let m: Value = serde_json::from_slice(&body).unwrap();
        let layer = m["layers"][0]["digest"].as_str().unwrap();
        assert_eq!(reg.blob(via, "kt/sum", layer), 200, "layer via {via:?}");
    }
    let image = format!("{}/kt/sum:1", reg.name);
    for (i, node) in tc.nodes.iter().enumerate() {
        let sum = sum_on_node(&tc, NS, &format!("s3-sum-{i}"), &node.name, &image);
        assert_eq!(sum, data_sum, "the layer {} pulled", node.name);
    }

    // 4. kreg gc on S3: a dry run deletes nothing; the real one removes the deleted image's
    //    blobs from the bucket and keeps the rest.
    let (code, body) = reg.manifest(None, "kt/junk", "1");
    assert_eq!(code, 200, "{}", text(&body));
    let junk_manifest: Value = serde_json::from_slice(&body).unwrap();
    let junk_layer = junk_manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let del = ws.sh(&format!(
        "skopeo delete --cert-dir {certs} docker://{}/kt/junk:1",
        reg.name
    ));
    assert!(del.status.success(), "delete: {}", text(&del.stderr));
    let dry = kreg_json(
        &tc,
        &["-n", NS, "gc", "--dry-run", "-o", "json", "--timeout", "4m"],
    );
    assert!(dry["blobs_deleted"].as_u64().unwrap() >= 2, "{dry}");
    assert_eq!(
        reg.blob(None, "kt/junk", &junk_layer),
        200,
        "a dry run deleted"
    );
    let gc = kreg_json(
        &tc,
        &["-n", NS, "gc", "--yes", "-o", "json", "--timeout", "5m"],
    );
    assert!(
        gc["blobs_deleted"].as_u64().unwrap() >= 2,
        "layer and config: {gc}"
    );
    let st = wait_health(&tc, NS, true, 120);
    assert_eq!(st["read_only"], false, "{st}");
    let pods = registry_pods(&tc, NS, 2);
    let (a, b) = (pods[0].2.clone(), pods[1].2.clone());
    for via in [Some(a.as_str()), Some(b.as_str())] {
        assert_eq!(
            reg.blob(via, "kt/junk", &junk_layer),
            404,
            "gc left the deleted layer in the bucket (via {via:?})"
        );
        assert_eq!(reg.blob(via, "kt/cross", &cross), 200);
        assert_eq!(reg.manifest(via, "kt/sum", "1").0, 200);
    }

    // 5. down and up: the images are still there (the bucket is the storage).
    let down = kreg_json(&tc, &["-n", NS, "down", "--yes", "-o", "json"]);
    assert!(
        tc.kubectl(&["-n", NS, "get", "deploy", "kreg-registry"])
            .status
            .code()
            != Some(0),
        "down left the registry: {down}"
    );
    let up2 = up_s3(&tc, NS, &s3, 2);
    let reg = Registry::of(&up2);
    let pods = registry_pods(&tc, NS, 2);
    let (a, b) = (pods[0].2.clone(), pods[1].2.clone());
    for via in [Some(a.as_str()), Some(b.as_str()), None] {
        assert_eq!(reg.manifest(via, "kt/sum", "1").0, 200, "after down/up");
        assert_eq!(reg.blob(via, "kt/cross", &cross), 200, "after down/up");
    }

    // 6. The S3 server goes away under the running registry: status says unhealthy. Back:
    //    healthy again, everything still served, a new upload lands.
    tc.kcluster_ok(&["s3", "stop"]);
    let t = Instant::now();
    let sick = wait_health(&tc, NS, false, 180);
    eprintln!(
        "NOTE: status unhealthy {} s after the S3 server stopped: {}",
        t.elapsed().as_secs(),
        sick["problems"]
    );
    assert!(!sick["problems"].as_array().unwrap().is_empty(), "{sick}");
    // The nodes' probe pulls fail too, but that is the storage, not trust: status names the
    // registry (a 5xx reading a layer), never "N of M nodes trust the CA".
    assert!(
        !sick["problems"].to_string().contains("nodes trust the CA"),
        "an S3 outage is blamed on node trust: {sick}"
    );
    // Down for a minute longer: long enough for a liveness probe that asked the storage to
    // fail three times.
    std::thread::sleep(Duration::from_secs(60));
    let again = s3_start(&tc);
    assert_eq!(again.access_key, s3.access_key, "same key after a restart");
    let t = Instant::now();
    let well = wait_health(&tc, NS, true, 300);
    eprintln!(
        "NOTE: status healthy {} s after the S3 server started again",
        t.elapsed().as_secs()
    );
    assert_eq!(well["replicas_ready"], 2, "{well}");
    let pods = registry_pods(&tc, NS, 2);
    let (a, b) = (pods[0].2.clone(), pods[1].2.clone());
    for via in [Some(a.as_str()), Some(b.as_str())] {
        assert_eq!(reg.manifest(via, "kt/sum", "1").0, 200, "after the outage");
        assert_eq!(reg.blob(via, "kt/cross", &cross), 200, "after the outage");
    }
    let mut more = vec![0u8; 6 << 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut more);
    let after = upload_across(&reg, &b, &a, "kt/after", &more);
    put_image(&reg, &a, "kt/after", "1", &after, more.len());
    assert_eq!(reg.blob(None, "kt/after", &after), 200);
    assert_eq!(reg.manifest(None, "kt/after", "1").0, 200);
    let restarts = tc.kubectl_ok(&[
        "-n",
        NS,
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/name=kreg-registry",
        "-o",
        "jsonpath={.items[*].status.containerStatuses[0].restartCount}",
    ]);
    // Unready over the outage, never restarted: a restart cannot bring the storage back (the
    // liveness probe used to be `GET /`, which failed with the storage: one restart per pod).
    assert!(
        restarts.split_whitespace().all(|n| n == "0"),
        "registry containers restarted over the S3 outage: {restarts}"
    );
}

/// Push and pull throughput of one big blob, S3 against a PVC, through the Service, as raw
/// HTTP (POST, one PUT of the whole blob, one GET). Printed, never asserted.
#[test]
fn throughput_on_s3_and_on_a_pvc_is_printed() {
    let Some(tc) = require(Tier::Node) else {
        return;
    };
    const MIB: usize = 128;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("blob");
    let mut data = vec![0u8; MIB << 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut data);
    std::fs::write(&file, &data).unwrap();
    let digest = sha256(&data);
    drop(data);

    let s3 = s3_start(&tc);
    let ns_s3 = "kt-s3-speed";
    let _p1 = Purge(&tc, ns_s3);
    namespace_with_credentials(&tc, ns_s3, &s3);
    let up = up_s3(&tc, ns_s3, &s3, 1);
    let on_s3 = measure(&Registry::of(&up), &file, &digest);
    purge(&tc, ns_s3);

    let ns_pvc = "kt-pvc-speed";
    let _p2 = Purge(&tc, ns_pvc);
    purge(&tc, ns_pvc);
    let up = kreg_json(
        &tc,
        &["-n", ns_pvc, "up", "--yes", "-o", "json", "--timeout", "5m"],
    );
    assert_eq!(up["healthy"], true, "{up}");
    let on_pvc = measure(&Registry::of(&up), &file, &digest);

    let mbps = |secs: f64| (MIB as f64) * 1.048_576 / secs;
    eprintln!(
        "FIGURES: {MIB} MiB blob, one replica, through the Service, raw HTTP (curl):\n  \
         S3 (Garage {}): push {:.1} MB/s ({:.1} s), pull {:.1} MB/s ({:.1} s)\n  \
         PVC (hostPath): push {:.1} MB/s ({:.1} s), pull {:.1} MB/s ({:.1} s)",
        s3.endpoint,
        mbps(on_s3.0),
        on_s3.0,
        mbps(on_s3.1),
        on_s3.1,
        mbps(on_pvc.0),
        on_pvc.0,
        mbps(on_pvc.1),
        on_pvc.1,
    );
}

/// Seconds to push `file` as a blob (POST + one PUT) and to pull it back (GET).
fn measure(reg: &Registry, file: &Path, digest: &str) -> (f64, f64) {
    let (code, headers, body) = reg.call(None, "POST", &reg.url("kt/speed/blobs/uploads/"), &[]);
    assert_eq!(code, 202, "{}", text(&body));
    let location = header(&headers, "Location").unwrap().to_string();
    let sep = if location.contains('?') { '&' } else { '?' };
    let t = Instant::now();
    let (code, _, body) = reg.call(
        None,
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &[
            "-H",
            "Content-Type: application/octet-stream",
            "-T",
            &file.display().to_string(),
        ],
    );
    let push = t.elapsed().as_secs_f64();
    assert_eq!(code, 201, "{}", text(&body));
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-sS", "-f", "--max-time", "300", "--cacert"])
        .arg(&reg.ca)
        .args(reg.route(None))
        .args(["-o", "/dev/null"])
        .arg(reg.url(&format!("kt/speed/blobs/{digest}")))
        .output()
        .unwrap();
    let pull = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "GET: {}", text(&out.stderr));
    (push, pull)
}

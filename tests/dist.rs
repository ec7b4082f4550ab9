//! `make dist` (packaging/dist.sh) produces artifacts whose checksums verify: `sha256sum -c
//! SHA256SUMS` passes (and fails on a changed byte), the tarball holds the binary, LICENSE,
//! README, CHANGELOG, completions, man pages and schemas, the binary in it prints this
//! version with the commit and the commit's date, the krew manifest and the Homebrew formula
//! carry the sums of SHA256SUMS, and a second run gives the same bytes. One release build
//! (target/release, shared with any other release build of this tree; minutes when cold).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

const BASE_URL: &str = "https://downloads.example/kreg/v0";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout)
        .unwrap()
        .trim()
        .to_string()
}

/// `make dist` into `dir`, the default targets (this machine's), in the environment a person
/// runs it in: without the variables cargo sets for this test (CARGO_MANIFEST_DIR and the
/// like), which build scripts such as ring's track, so that the release build seen from here
/// and from a shell is the same one (no rebuild of half the dependencies in between).
fn make_dist(dir: &Path) {
    let mut make = Command::new("make");
    make.args(["-s", "dist"])
        .arg(format!("DIST_DIR={}", dir.display()))
        .arg(format!("DIST_BASE_URL={BASE_URL}"))
        .arg("DIST_HOMEPAGE=https://kreg.example")
        .env_remove("TARGETS")
        .env_remove("OUT_DIR")
        .current_dir(root());
    const USER_SET: [&str; 9] = [
        "CARGO_HOME",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_",
        "CARGO_PROFILE_",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_TERM_",
        "CARGO_INCREMENTAL",
    ];
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_") && !USER_SET.iter().any(|u| k.starts_with(u)) {
            make.env_remove(k.as_ref());
        }
    }
    // tests/run.sh keeps the release build outside the clone (KREG_DIST_TARGET_DIR, in the
    // cache), so CI on a fresh clone rebuilds kreg only, not its dependencies.
    if let Some(dir) = std::env::var_os("KREG_DIST_TARGET_DIR") {
        make.env("CARGO_TARGET_DIR", dir);
    }
    run(&mut make);
}

/// SHA256SUMS as file name -> sum.
fn sums(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| {
            let (sum, file) = l.split_once("  ").expect("`SUM  FILE` lines");
            (file.to_string(), sum.to_string())
        })
        .collect()
}

fn files_under(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| format!("{dir}/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    v.sort();
    v
}

fn host() -> String {
    stdout(Command::new("rustc").arg("-vV"))
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

fn sha256_hex(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn make_dist_produces_artifacts_whose_checksums_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    make_dist(&dist);

    // The sums verify, with sha256sum and here.
    run(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dist));
    let sums = sums(&dist);
    let version = env!("CARGO_PKG_VERSION");
    let name = format!("kreg-{version}-{}", host());
    let tarball = format!("{name}.tar.gz");
    assert_eq!(
        sums.keys().map(String::as_str).collect::<Vec<_>>(),
        [tarball.as_str(), "kreg-agent-image.tar"],
        "one tarball per target, and kreg's image from the host's Linux binary"
    );
    // The archive holds the image its reference names (what `--agent-image-archive` serves).
    let reference = std::fs::read_to_string(dist.join("kreg-agent-image.ref")).unwrap();
    let digest = reference.trim().strip_prefix("kreg/agent@").unwrap();
    let index = stdout(
        Command::new("tar")
            .args(["-xOf"])
            .arg(dist.join("kreg-agent-image.tar"))
            .arg("index.json"),
    );
    assert!(index.contains(digest), "{index} does not list {digest}");
    for (file, sum) in &sums {
        assert_eq!(&sha256_hex(&dist.join(file)), sum, "{file}");
    }

    // ... and fail on a changed byte.
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::copy(dist.join("SHA256SUMS"), bad.join("SHA256SUMS")).unwrap();
    let mut bytes = std::fs::read(dist.join(&tarball)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(bad.join(&tarball), bytes).unwrap();
    let checked = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&bad)
        .output()
        .unwrap();
    assert!(!checked.status.success(), "a changed tarball verified");

    // The tarball holds what a release ships, under kreg-<version>-<target>/.
    let listed: BTreeSet<String> = stdout(Command::new("tar").arg("-tzf").arg(dist.join(&tarball)))
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(str::to_string)
        .collect();
    let mut want: BTreeSet<String> = ["kreg", "LICENSE", "README.md", "CHANGELOG.md"]
        .iter()
        .map(|f| f.to_string())
        .collect();
    for dir in ["completions", "man", "schemas"] {
        want.extend(files_under(dir));
    }
    let want: BTreeSet<String> = want.into_iter().map(|f| format!("{name}/{f}")).collect();
    assert_eq!(listed, want);
    assert!(listed.contains(&format!("{name}/man/kreg-up.1")));
    assert!(listed.contains(&format!("{name}/schemas/status.json")));

    // The binary in it says which build it is: this version, commit and the commit's date.
    let x = tmp.path().join("x");
    std::fs::create_dir(&x).unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(dist.join(&tarball))
        .arg("-C")
        .arg(&x));
    let kreg: PathBuf = x.join(&name).join("kreg");
    let line = stdout(Command::new(&kreg).arg("--version"));
    let commit = stdout(
        Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(root()),
    );
    let date = stdout(
        Command::new("git")
            .args(["log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d"])
            .env("TZ", "UTC")
            .current_dir(root()),
    );
    assert!(
        line.starts_with(&format!("kreg {version} ({commit}"))
            && line.ends_with(&format!(" {date})")),
        "{line:?}: want kreg {version} ({commit}[-dirty] {date})"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&stdout(Command::new(&kreg).args(["version", "-o", "json"]))).unwrap();
    assert_eq!(doc["version"], version);
    assert_eq!(doc["target"], host());
    assert_eq!(doc["build_date"], date.as_str());
    assert_eq!(
        std::fs::read(x.join(&name).join("LICENSE")).unwrap(),
        std::fs::read(root().join("LICENSE")).unwrap()
    );

    // The krew manifest: plugin kreg, this version, each platform's uri and sha256 from
    // SHA256SUMS, and files that exist in the tarball.
    let krew: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(dist.join("kreg.yaml")).unwrap()).unwrap();
    assert_eq!(krew["kind"], "Plugin");
    assert_eq!(krew["metadata"]["name"], "kreg");
    assert_eq!(krew["spec"]["version"], format!("v{version}").as_str());
    let platforms = krew["spec"]["platforms"].as_sequence().unwrap();
    let tarballs = sums.keys().filter(|f| f.ends_with(".tar.gz")).count();
    assert_eq!(platforms.len(), tarballs);
    for p in platforms {
        let uri = p["uri"].as_str().unwrap();
        let file = uri.strip_prefix(&format!("{BASE_URL}/")).unwrap();
        assert_eq!(
            p["sha256"].as_str(),
            sums.get(file).map(String::as_str),
            "{uri}"
        );
        assert_eq!(p["bin"], "kreg");
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            o => o,
        };
        assert_eq!(p["selector"]["matchLabels"]["os"], os);
        for f in p["files"].as_sequence().unwrap() {
            let from = f["from"].as_str().unwrap();
            assert!(
                listed.contains(from),
                "krew copies {from}, not in the tarball"
            );
        }
    }

    // The Homebrew formula: each url with the sha256 SHA256SUMS has for it.
    let rb = std::fs::read_to_string(dist.join("kreg.rb")).unwrap();
    assert!(rb.contains(&format!("version \"{version}\"")), "{rb}");
    assert!(!rb.contains('@'), "a placeholder is left:\n{rb}");
    let quoted = |l: &str, key: &str| {
        l.trim()
            .strip_prefix(key)
            .map(|r| r.trim().trim_matches('"').to_string())
    };
    let lines: Vec<&str> = rb.lines().collect();
    let mut pairs = 0;
    for (i, l) in lines.iter().enumerate() {
        if let Some(url) = quoted(l, "url ") {
            let file = url
                .strip_prefix(&format!("{BASE_URL}/"))
                .unwrap()
                .to_string();
            let sum = quoted(lines[i + 1], "sha256 ").expect("sha256 after url");
            assert_eq!(Some(&sum), sums.get(&file), "{url}");
            pairs += 1;
        }
    }
    assert_eq!(pairs, tarballs, "{rb}");

    // Reproducible: a second run gives the same bytes.
    let again = tmp.path().join("again");
    make_dist(&again);
    assert_eq!(
        std::fs::read_to_string(again.join("SHA256SUMS")).unwrap(),
        std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap(),
        "two runs of make dist gave different tarballs"
    );
}

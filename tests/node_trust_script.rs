//! manifests/node-trust.sh refuses a registry name that is not a plain DNS name or IP (with an
//! optional port) before it touches anything: the name becomes a directory on every node.
//! Only invalid names are run here: a valid one would go on to configure this machine's runtime.

use std::process::Command;

fn verdict(registry: &str) -> String {
    verdict_with(registry, "")
}

fn verdict_with(registry: &str, mirrors: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/node-trust.sh");
    // The script sleeps forever after a bad name (the pod stays unready); `timeout` ends it.
    let out = Command::new("timeout")
        .args(["1", "sh", script])
        .env("KREG_REGISTRY", registry)
        .env("KREG_MODE", "install")
        .env("KREG_MIRRORS", mirrors)
        .output()
        .expect("sh runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn hostile_registry_names_are_refused() {
    for bad in [
        "",
        "../../etc",
        "reg/../../x",
        "reg;rm -rf /",
        "$(id).nip.io",
        "registry.example.com:5000/x",
        "-rf",
        ".hidden",
        "Registry.Example.com",
        "a b",
        "reg\"]\n[x",
    ] {
        let v = verdict(bad);
        assert!(
            v.contains("kreg-node-trust: untrusted: invalid registry name"),
            "{bad:?} was not refused: {v}"
        );
    }
}

#[test]
fn hostile_mirror_lists_are_refused() {
    // A valid registry, so only the cache list can be the reason.
    for bad in [
        "docker.io",
        "docker.io=",
        "../etc=kreg-mirror-x.toml",
        "docker.io=../../etc/passwd",
        "docker.io=kreg-mirror-x.toml.sh",
        "docker.io=kreg-mirror-X.toml",
        "$(id)=kreg-mirror-x.toml",
        "docker.io=kreg-mirror-x.toml ghcr.io/x=kreg-mirror-y.toml",
    ] {
        let v = verdict_with("registry.10.0.0.5.nip.io:31000", bad);
        assert!(
            v.contains("kreg-node-trust: untrusted: invalid pull-through cache list"),
            "{bad:?} was not refused: {v}"
        );
    }
}

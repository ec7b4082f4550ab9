//! Generated test images: an OCI layout directory holding one layer of random bytes, for
//! `skopeo copy oci:DIR:TAG ...`. Distinct content means distinct blobs, so a test can tell
//! what a garbage collector or a push did with them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

fn put_blob(dir: &Path, bytes: &[u8]) -> String {
    let d = digest(bytes);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(d.trim_start_matches("sha256:")), bytes).unwrap();
    d
}

/// Writes an OCI layout under `dir` (tag `tag`) whose single uncompressed layer holds
/// `size` random bytes in `/data.bin`. Returns the layout directory.
pub fn random_image(dir: &Path, tag: &str, size: usize) -> PathBuf {
    let staging = random_rootfs(dir, tag, size);
    image_of(dir, &staging, tag)
}

/// A shell-and-kubectl image: busybox (every applet) and the harness's kubectl, for
/// `--gc-image`.
pub fn kubectl_image(dir: &Path, kubectl: &Path) -> PathBuf {
    let root = dir.join("rootfs-kubectl");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
    }
    std::fs::copy(kubectl, bin.join("kubectl")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    image_of(dir, &root, "kubectl")
}

/// An OCI layout `dir/oci-<tag>` of one uncompressed layer made of `rootfs`.
pub fn image_of(dir: &Path, rootfs: &Path, tag: &str) -> PathBuf {
    let layout = new_layout(dir, tag);
    let manifest = put_image(&layout, dir, rootfs, tag, None, "amd64");
    write_index(
        &layout,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    layout
}

/// Like [`random_image`], with the config's `created` set (RFC 3339): for tests that rank
/// images by age.
pub fn random_image_created(dir: &Path, tag: &str, size: usize, created: &str) -> PathBuf {
    let rootfs = random_rootfs(dir, tag, size);
    let layout = new_layout(dir, tag);
    let manifest = put_image(&layout, dir, &rootfs, tag, Some(created), "amd64");
    write_index(
        &layout,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    layout
}

/// A multi-arch image: an OCI layout whose `tag` is an image index of two platform images
/// (linux/amd64 and linux/arm64), each with its own random layer of `size` bytes.
pub fn multi_arch_image(dir: &Path, tag: &str, size: usize, created: &str) -> PathBuf {
    let layout = new_layout(dir, tag);
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let name = format!("{tag}-{arch}");
        let rootfs = random_rootfs(dir, &name, size);
        let manifest = put_image(&layout, dir, &rootfs, &name, Some(created), arch);
        entries.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": put_blob(&layout, manifest.as_bytes()),
            "size": manifest.len(),
            "platform": {"os": "linux", "architecture": arch},
        }));
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    })
    .to_string();
    write_index(
        &layout,
        tag,
        "application/vnd.oci.image.index.v1+json",
        &index,
    );
    layout
}

fn random_rootfs(dir: &Path, name: &str, size: usize) -> PathBuf {
    use rand::RngCore;
    let staging = dir.join(format!("rootfs-{name}"));
    std::fs::create_dir_all(&staging).unwrap();
    let mut data = vec![0u8; size];
    rand::rng().fill_bytes(&mut data);
    std::fs::write(staging.join("data.bin"), &data).unwrap();
    staging
}

fn new_layout(dir: &Path, tag: &str) -> PathBuf {
    let layout = dir.join(format!("oci-{tag}"));
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    layout
}

/// Stores the layer (a tar of `rootfs`) and the config in `layout`; returns the manifest.
fn put_image(
    layout: &Path,
    dir: &Path,
    rootfs: &Path,
    name: &str,
    created: Option<&str>,
    arch: &str,
) -> String {
    let tar = dir.join(format!("layer-{name}.tar"));
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(rootfs)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let layer = std::fs::read(&tar).unwrap();
    let layer_digest = put_blob(layout, &layer);
    let mut config = serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    if let Some(c) = created {
        config["created"] = c.into();
    }
    let config = config.to_string();
    let config_digest = put_blob(layout, config.as_bytes());
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
    })
    .to_string()
}

/// Stores `top` and names it `tag` in the layout's index.json.
fn write_index(layout: &Path, tag: &str, media_type: &str, top: &str) {
    let digest = put_blob(layout, top.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": media_type, "digest": digest, "size": top.len(),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
}

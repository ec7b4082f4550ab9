//! The probe image: the tiny image `kreg up` pushes to its registry and every node agent pulls
//! through its runtime's CRI, so that "trusted" means a pull succeeded, not "files written".
//!
//! It is built here, byte for byte the same every time (fixed timestamps and owners), so its
//! digest is known before anything is pushed and can go into the DaemonSet's Pod spec. One
//! layer with one small text file; it is never run. An OCI index lists the one manifest for
//! every common Linux platform, so a node of any architecture finds its entry (containerd
//! checks the platform of a single-manifest image against its own).

use crate::image::{sha256_digest, Manifest};

/// The repository the probe lives in.
pub const REPO: &str = "kreg/probe";
/// Its tag, for people looking at the registry; nodes pull by digest.
pub const TAG: &str = "v1";

const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const PLATFORMS: &[(&str, Option<&str>)] = &[
    ("amd64", None),
    ("arm64", None),
    ("arm", Some("v7")),
    ("ppc64le", None),
    ("s390x", None),
    ("riscv64", None),
];

/// The probe's blobs (layer, config) and manifests (the manifest, then the index).
pub struct ProbeImage {
    pub blobs: Vec<(String, Vec<u8>)>,
    pub manifests: Vec<Manifest>,
}

impl ProbeImage {
    /// The digest nodes pull by: the index's.
    pub fn digest(&self) -> &str {
        &self.manifests.last().expect("index").digest
    }

    /// `REGISTRY/kreg/probe@sha256:…`.
    pub fn reference(&self, registry: &str) -> String {
        format!("{registry}/{REPO}@{}", self.digest())
    }
}

fn layer() -> Vec<u8> {
    let body = b"kreg node-trust probe: pulled by each node to prove it trusts the registry\n";
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path("kreg-probe").expect("static path");
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, &body[..]).expect("in-memory tar");
    b.into_inner().expect("in-memory tar")
}

/// Builds the probe image.
pub fn build() -> ProbeImage {
    let layer = layer();
    let layer_digest = sha256_digest(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }))
    .expect("json");
    let config_digest = sha256_digest(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer_digest, "size": layer.len()}],
    }))
    .expect("json");
    let manifest_digest = sha256_digest(&manifest);
    let entries: Vec<serde_json::Value> = PLATFORMS
        .iter()
        .map(|(arch, variant)| {
            let mut platform = serde_json::json!({"architecture": arch, "os": "linux"});
            if let Some(v) = variant {
                platform["variant"] = serde_json::json!(v);
            }
            serde_json::json!({
                "mediaType": MANIFEST_TYPE,
                "digest": manifest_digest,
                "size": manifest.len(),
                "platform": platform,
            })
        })
        .collect();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": entries,
    }))
    .expect("json");
    ProbeImage {
        blobs: vec![(layer_digest, layer), (config_digest, config)],
        manifests: vec![
            Manifest {
                digest: manifest_digest,
                media_type: MANIFEST_TYPE.into(),
                bytes: manifest,
            },
            Manifest {
                digest: sha256_digest(&index),
                media_type: INDEX_TYPE.into(),
                bytes: index,
            },
        ],
    }
}

/// Pushes the probe: its blobs, the manifest by digest, then the index under [`TAG`]. Used
/// by `up` (from this machine) and by `kreg render`'s Job (from inside the cluster).
pub async fn push(client: &crate::registry::Registry, probe: &ProbeImage) -> anyhow::Result<()> {
    for (digest, bytes) in &probe.blobs {
        client.upload_bytes(REPO, digest, bytes).await?;
    }
    let (child, index) = (&probe.manifests[0], &probe.manifests[1]);
    client.put_manifest(REPO, &child.digest, child).await?;
    client.put_manifest(REPO, TAG, index).await
}

/// `kreg node-agent --push-probe`, the body of `kreg render`'s Job: pushes the probe to the
/// registry at `$KREG_REGISTRY`, connecting to its Service's ClusterIP (the variables
/// Kubernetes sets in every Pod of the namespace, so no DNS is needed) and checking the
/// certificate against the registry's name. Retries while the registry is not up yet. Its
/// lines go to the Job's log: it has no printer and no terminal.
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn push_from_env() -> u8 {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let attempt = || async {
        let registry =
            env("KREG_REGISTRY").ok_or_else(|| anyhow::anyhow!("KREG_REGISTRY is not set"))?;
        let (host, port) = registry
            .rsplit_once(':')
            .and_then(|(h, p)| {
                Some((
                    h.trim_matches(['[', ']']).to_string(),
                    p.parse::<u16>().ok()?,
                ))
            })
            .ok_or_else(|| anyhow::anyhow!("KREG_REGISTRY {registry:?} is not HOST:PORT"))?;
        let service = env("KREG_REGISTRY_SERVICE_HOST")
            .zip(env("KREG_REGISTRY_SERVICE_PORT"))
            .and_then(|(h, p)| Some(std::net::SocketAddr::new(h.parse().ok()?, p.parse().ok()?)));
        let target = crate::registry::Target {
            host,
            port,
            plain_http: env("KREG_SCHEME").as_deref() == Some("http"),
            connect: service,
        };
        let creds = env("KREG_PUSH_USERNAME")
            .zip(env("KREG_PUSH_PASSWORD"))
            .map(|(username, password)| crate::auth::Credentials { username, password });
        let client = crate::registry::Registry::new(
            &target,
            &env("KREG_CA_PEM").unwrap_or_default(),
            creds,
        )?;
        push(&client, &build()).await
    };
    // The Job's own retries (backoffLimit) cover longer outages; this covers a registry that
    // is still starting.
    for _ in 0..60 {
        match attempt().await {
            Ok(()) => {
                println!("pushed: {REPO}:{TAG}");
                return 0;
            }
            Err(e) => {
                eprintln!("waiting: {e:#}");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_is_the_same_bytes_every_time() {
        let (a, b) = (build(), build());
        assert_eq!(a.digest(), b.digest());
        assert!(a.digest().starts_with("sha256:"));
        assert_eq!(
            a.reference("r.example:5000"),
            format!("r.example:5000/kreg/probe@{}", a.digest())
        );
        // Every digest names its bytes.
        for (d, bytes) in &a.blobs {
            assert_eq!(&sha256_digest(bytes), d);
        }
        for m in &a.manifests {
            assert_eq!(sha256_digest(&m.bytes), m.digest);
        }
        // Small: one tar block of header, one of data, two of end marker... plus padding.
        assert!(a.blobs[0].1.len() <= 10240);
    }
}

//! Pull-through cache specs: `--mirror UPSTREAM[=URL]` and
//! `--mirror-credentials UPSTREAM=SECRET`.

use anyhow::{bail, Result};

use super::{names::*, net::*, shown};

/// The upstream URL kreg assumes when `--mirror` names only the registry: Docker Hub's
/// registry API lives on `registry-1.docker.io`, every other registry on its own name.
pub fn default_upstream_url(upstream: &str) -> String {
    match upstream {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://registry-1.docker.io".into()
        }
        other => format!("https://{other}"),
    }
}

/// `--mirror UPSTREAM[=URL]`: the registry name as it appears in image references
/// (`docker.io`, `ghcr.io`, `registry.example.com:5000`) and the URL the cache pulls from.
/// The name becomes a directory on every node and a key in registries.yaml, so it follows the
/// same rule as a registry address.
pub fn mirror(spec: &str) -> Result<(String, String)> {
    let (upstream, url) = match spec.split_once('=') {
        Some((u, url)) => (u, Some(url)),
        None => (spec, None),
    };
    host_port(upstream).map_err(|e| {
        anyhow::anyhow!(
            "invalid --mirror {}: the upstream must be a registry name as in image references \
(docker.io, ghcr.io, registry.example.com:5000): {e}",
            shown(spec)
        )
    })?;
    let url = match url {
        Some(u) => {
            base_url(
                "--mirror",
                "https://registry-1.docker.io",
                "put them in a Secret and pass --mirror-credentials UPSTREAM=SECRET",
                u,
            )?;
            u.to_string()
        }
        None => default_upstream_url(upstream),
    };
    Ok((upstream.to_string(), url))
}

/// `--mirror-credentials UPSTREAM=SECRET`: a Secret in kreg's namespace with `username` and
/// `password`, passed to the cache as environment variables from the Secret (never literal).
pub fn mirror_credentials(spec: &str) -> Result<(String, String)> {
    let Some((upstream, secret)) = spec.split_once('=') else {
        bail!(
            "invalid --mirror-credentials {}: use UPSTREAM=SECRET, e.g. docker.io=dockerhub-login \
(a Secret in kreg's namespace with keys username and password)",
            shown(spec)
        );
    };
    host_port(upstream)
        .map_err(|e| anyhow::anyhow!("invalid --mirror-credentials {}: {e}", shown(spec)))?;
    secret_name(secret)
        .map_err(|e| anyhow::anyhow!("invalid --mirror-credentials {}: {e}", shown(spec)))?;
    Ok((upstream.to_string(), secret.to_string()))
}

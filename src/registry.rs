//! A client for the registry's Distribution HTTP API, just enough to push — check a blob, upload
//! one (POST then PUT `?digest=`, the body streamed from its file), PUT a manifest — and to
//! manage images: list repositories and tags, read manifests and configs, delete a manifest.
//!
//! TLS trusts only kreg's CA and verifies the registry's real host name, also when the bytes go
//! through a port-forward: [`Target::connect`] pins the name to whatever address carries the
//! traffic. Credentials are optional basic auth (for a registry behind htpasswd); a 401 becomes
//! an error that says so.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use reqwest::{header, Client, Response, StatusCode};

use crate::error::{hint, one_line};
use crate::image::{Blob, Manifest};

pub use crate::auth::Credentials;

/// Where the registry is and how to reach it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The registry's name, as in image references (`host` or `host:port`).
    pub host: String,
    pub port: u16,
    /// Plain HTTP (`--expose localhost`: there is no certificate).
    pub plain_http: bool,
    /// Connect here instead of resolving `host` (the port of this address is used, the host
    /// name still goes into TLS and the Host header).
    pub connect: Option<SocketAddr>,
}

/// Why the registry could not be used. `Unreachable` is the one a port-forward can fix.
#[derive(Debug)]
pub(crate) enum Failure {
    Unreachable(String),
    Other(anyhow::Error),
}

/// A registry client for one target.
pub struct Registry {
    http: Client,
    base: String,
    creds: Option<Credentials>,
}

impl Registry {
    pub fn new(target: &Target, ca_pem: &str, creds: Option<Credentials>) -> Result<Registry> {
        let mut builder = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Per read, not per request: a large layer may take minutes, a stall may not.
            .read_timeout(Duration::from_secs(60))
            .no_proxy();
        if !target.plain_http {
            // A bundle during a CA rotation: the old and the new CA.
            let cas = reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())
                .context("kreg's CA certificate is not valid PEM")?;
            builder = builder.tls_certs_only(cas);
        }
        let ip_host = target.host.parse::<IpAddr>().ok();
        // The port the URL names is the port connected to; a pinned address brings its own.
        let port = target.connect.map_or(target.port, |a| a.port());
        if let Some(addr) = target.connect {
            match ip_host {
                None => builder = builder.resolve(&target.host, addr),
                Some(ip) if ip == addr.ip() => {}
                Some(_) => bail!(
                    "the registry's name {} is an IP address: kreg cannot route it elsewhere and still verify its certificate",
                    target.host
                ),
            }
        }
        let host = match ip_host {
            Some(IpAddr::V6(_)) => format!("[{}]", target.host),
            _ => target.host.clone(),
        };
        let scheme = if target.plain_http { "http" } else { "https" };
        Ok(Registry {
            http: builder.build().context("building the HTTP client")?,
            base: format!("{scheme}://{host}:{port}"),
            creds,
        })
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, url);
        match &self.creds {
            Some(c) => r.basic_auth(&c.username, Some(&c.password)),
            None => r,
        }
    }

    /// `GET /v2/`: is a registry there, and does it accept us?
    pub(crate) async fn ping(&self) -> std::result::Result<(), Failure> {
        let url = format!("{}/v2/", self.base);
        let resp = self
            .request(reqwest::Method::GET, &url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() || e.is_timeout() {
                    Failure::Unreachable(one_line(&e))
                } else {
                    Failure::Other(anyhow!("GET {url}: {}", one_line(&e)))
                }
            })?;
        check(resp, "GET /v2/").await.map_err(Failure::Other)?;
        Ok(())
    }

    /// Whether the registry already has the blob in `repo`.
    pub(crate) async fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let resp = self.send(self.request(reqwest::Method::HEAD, &url)).await?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => check(resp, &format!("HEAD blob {digest}"))
                .await
                .map(|_| false),
        }
    }

    /// Uploads a blob in one request, streaming it from its file. The registry recomputes the
    /// digest and refuses the upload if the bytes do not match.
    pub(crate) async fn upload_blob(&self, repo: &str, blob: &Blob) -> Result<()> {
        let put = self.start_upload(repo, &blob.digest).await?;
        let file = tokio::fs::File::open(&blob.at.path)
            .await
            .with_context(|| format!("opening {}", blob.at.path.display()))?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            limited(file, blob.at.offset, blob.at.len).await?,
            256 << 10,
        ));
        let resp = self
            .send(
                self.request(reqwest::Method::PUT, put.as_str())
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .header(header::CONTENT_LENGTH, blob.size)
                    .body(body),
            )
            .await?;
        check(resp, &format!("uploading blob {}", blob.digest)).await?;
        Ok(())
    }

    /// Starts a monolithic upload: the URL to PUT the blob `digest` to.
    async fn start_upload(&self, repo: &str, digest: &str) -> Result<reqwest::Url> {
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let resp = self
            .send(
                self.request(reqwest::Method::POST, &url)
                    .header(header::CONTENT_LENGTH, 0),
            )
            .await?;
        let resp = check(resp, "starting an upload").await?;
        let location = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| anyhow!("the registry started an upload without a Location"))?;
        let mut put = self.absolute(location)?;
        put.query_pairs_mut().append_pair("digest", digest);
        Ok(put)
    }

    /// Uploads a small blob held in memory (the probe image's), unless the registry has it.
    pub async fn upload_bytes(&self, repo: &str, digest: &str, bytes: &[u8]) -> Result<()> {
        if self.has_blob(repo, digest).await? {
            return Ok(());
        }
        let put = self.start_upload(repo, digest).await?;
        let resp = self
            .send(
                self.request(reqwest::Method::PUT, put.as_str())
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.to_vec()),
            )
            .await?;
        check(resp, &format!("uploading blob {digest}")).await?;
        Ok(())
    }

    /// PUTs a manifest under `reference` (a tag or its digest) and checks the registry stored
    /// the same bytes (it answers with their digest).
    pub async fn put_manifest(&self, repo: &str, reference: &str, m: &Manifest) -> Result<()> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let resp = self
            .send(
                self.request(reqwest::Method::PUT, &url)
                    .header(header::CONTENT_TYPE, &m.media_type)
                    .body(m.bytes.clone()),
            )
            .await?;
        let resp = check(resp, &format!("storing manifest {}", m.digest)).await?;
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
        {
            if d != m.digest {
                bail!("the registry stored manifest {} as {d}", m.digest);
            }
        }
        Ok(())
    }

    /// Every repository (`/v2/_catalog`, following its `Link` pages).
    pub async fn catalog(&self) -> Result<Vec<String>> {
        self.paged(
            "/v2/_catalog?n=1000",
            "repositories",
            "listing repositories",
        )
        .await
    }

    /// Every tag of `repo` (`/v2/<repo>/tags/list`, following its `Link` pages); empty when the
    /// repository has none (Distribution keeps a repository whose tags were all deleted).
    pub async fn tags(&self, repo: &str) -> Result<Vec<String>> {
        self.paged(
            &format!("/v2/{repo}/tags/list?n=1000"),
            "tags",
            &format!("listing the tags of {repo}"),
        )
        .await
    }

    async fn paged(&self, first: &str, field: &str, action: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut next = Some(first.to_string());
        // A registry that links a page to itself must not keep kreg busy forever.
        for _ in 0..10_000 {
            let Some(path) = next.take() else {
                return Ok(out);
            };
            let url = self.absolute(&path)?;
            let resp = self
                .send(self.request(reqwest::Method::GET, url.as_str()))
                .await?;
            if resp.status() == StatusCode::NOT_FOUND && field == "tags" {
                return Ok(out);
            }
            let resp = check(resp, action).await?;
            next = resp
                .headers()
                .get(header::LINK)
                .and_then(|l| l.to_str().ok())
                .and_then(next_link);
            let bytes = small_body(resp, action).await?;
            let body: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| anyhow!("{action}: the registry's answer is not JSON: {e}"))?;
            out.extend(
                body[field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string)),
            );
        }
        bail!("{action}: the registry returned more than 10000 pages")
    }

    /// The digest `reference` (a tag or a digest) points at, `None` when there is no such
    /// manifest.
    pub async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<String>> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let resp = self
            .send(
                self.request(reqwest::Method::HEAD, &url)
                    .header(header::ACCEPT, crate::lifecycle::ACCEPT),
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = check(resp, &format!("reading {repo}:{reference}")).await?;
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .ok_or_else(|| {
                anyhow!("the registry answered {repo}:{reference} without its digest")
            })?;
        Ok(Some(digest.to_string()))
    }

    /// A manifest's bytes and content type (`None` when absent), checked against `digest`.
    pub async fn manifest(
        &self,
        repo: &str,
        digest: &str,
    ) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let url = format!("{}/v2/{repo}/manifests/{digest}", self.base);
        let resp = self
            .send(
                self.request(reqwest::Method::GET, &url)
                    .header(header::ACCEPT, crate::lifecycle::ACCEPT),
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = check(resp, &format!("reading manifest {repo}@{digest}")).await?;
        let ctype = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .map(str::to_string);
        let bytes = small_body(resp, &format!("manifest {digest}")).await?;
        if crate::image::sha256_digest(&bytes) != digest {
            bail!("the registry returned manifest {repo}@{digest} with other content");
        }
        Ok(Some((bytes, ctype)))
    }

    /// A small blob (an image config), `None` when absent.
    pub(crate) async fn small_blob(&self, repo: &str, digest: &str) -> Result<Option<Vec<u8>>> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let resp = self.send(self.request(reqwest::Method::GET, &url)).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = check(resp, &format!("reading blob {digest}")).await?;
        Ok(Some(small_body(resp, &format!("blob {digest}")).await?))
    }

    /// Deletes the manifest `digest` of `repo` (and with it every tag pointing at it). Already
    /// gone counts as deleted.
    pub(crate) async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        let url = format!("{}/v2/{repo}/manifests/{digest}", self.base);
        let resp = self
            .send(self.request(reqwest::Method::DELETE, &url))
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(hint(
                format!("the registry refused to delete {repo}@{digest} (405): deletes are disabled"),
                "a pull-through cache (--mirror) accepts no deletes; images in kreg's registry itself can be deleted",
            ));
        }
        check(resp, &format!("deleting {repo}@{digest}")).await?;
        Ok(())
    }

    /// Reads `name`: its tags, the manifest each points at, the children of indexes, and each
    /// image's config (for its creation time and platform). A tag deleted meanwhile is skipped.
    pub async fn repository(&self, name: &str) -> Result<crate::lifecycle::Repository> {
        use crate::lifecycle::{parse_manifest, read_config, Repository};
        let mut repo = Repository {
            name: name.to_string(),
            ..Repository::default()
        };
        for tag in self.tags(name).await? {
            if let Some(d) = self.manifest_digest(name, &tag).await? {
                repo.tags.insert(tag, d);
            }
        }
        let mut todo: Vec<String> = repo.tags.values().cloned().collect();
        while let Some(digest) = todo.pop() {
            if repo.manifests.contains_key(&digest) {
                continue;
            }
            let Some((bytes, ctype)) = self.manifest(name, &digest).await? else {
                continue;
            };
            let mut m = parse_manifest(&bytes, ctype.as_deref())
                .with_context(|| format!("reading {name}@{digest}"))?;
            if let Some(config) = m.config.clone() {
                if let Some(b) = self.small_blob(name, &config).await? {
                    read_config(&mut m, &b);
                }
            }
            todo.extend(m.children.iter().map(|c| c.digest.clone()));
            repo.manifests.insert(digest, m);
        }
        Ok(repo)
    }

    fn absolute(&self, location: &str) -> Result<reqwest::Url> {
        let base = reqwest::Url::parse(&self.base)?;
        base.join(location)
            .with_context(|| format!("the registry's upload Location {location:?} is not a URL"))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Response> {
        req.send()
            .await
            .map_err(|e| anyhow!("talking to the registry: {}", one_line(&e)))
    }
}

/// The `next` target of a `Link: </v2/...>; rel="next"` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Manifests and configs are small: a cap keeps a hostile registry from filling memory.
const SMALL_MAX: usize = 16 << 20;

async fn small_body(resp: Response, what: &str) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|l| l > SMALL_MAX as u64) {
        bail!("{what} is larger than 16 MiB");
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| anyhow!("reading {what}: {}", one_line(&e)))?;
    if bytes.len() > SMALL_MAX {
        bail!("{what} is larger than 16 MiB");
    }
    Ok(bytes.to_vec())
}

/// A file reader over `len` bytes from `offset`.
async fn limited(
    mut f: tokio::fs::File,
    offset: u64,
    len: u64,
) -> Result<tokio::io::Take<tokio::fs::File>> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    f.seek(std::io::SeekFrom::Start(offset)).await?;
    Ok(f.take(len))
}

/// Turns an error status into an error carrying the registry's own message; 401 says what to do.
async fn check(resp: Response, action: &str) -> Result<Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.text().await.unwrap_or_default();
    let detail = registry_message(&body).unwrap_or_else(|| body.chars().take(200).collect());
    if status == StatusCode::UNAUTHORIZED {
        return Err(hint(
            format!("{action}: the registry requires credentials (401 Unauthorized)"),
            "the registry was installed with authentication: pass the credentials (see `kreg up --help`, --auth)",
        ));
    }
    Err(anyhow!(
        "{action}: the registry answered {status}: {detail}"
    ))
}

/// The `errors[].message` of a Distribution error body.
fn registry_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let msgs: Vec<String> = v["errors"]
        .as_array()?
        .iter()
        .map(|e| {
            let code = e["code"].as_str().unwrap_or("");
            let msg = e["message"].as_str().unwrap_or("");
            format!("{code} {msg}").trim().to_string()
        })
        .collect();
    (!msgs.is_empty()).then(|| msgs.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }

    #[test]
    fn registry_errors_are_read_from_their_json() {
        let body = r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#;
        assert_eq!(
            registry_message(body).unwrap(),
            "DIGEST_INVALID provided digest did not match uploaded content"
        );
        assert_eq!(registry_message("<html>"), None);
    }

    #[test]
    fn a_forwarded_target_keeps_the_name_and_uses_the_local_port() {
        let t = Target {
            host: "registry.10.0.0.5.nip.io".into(),
            port: 31000,
            plain_http: false,
            connect: Some("127.0.0.1:40000".parse().unwrap()),
        };
        let ca = crate::pki::generate_ca(
            time::OffsetDateTime::now_utc(),
            &crate::pki::ca_scope(Some("nip.io"), None, "kreg-test", &[]),
        )
        .unwrap()
        .cert_pem;
        let r = Registry::new(&t, &ca, None).unwrap();
        assert_eq!(r.base, "https://registry.10.0.0.5.nip.io:40000");
        let ip = Target {
            host: "10.0.0.5".into(),
            ..t
        };
        assert!(Registry::new(&ip, &ca, None).is_err());
    }

    #[tokio::test]
    async fn a_401_says_credentials_are_needed() {
        let resp = http::Response::builder()
            .status(401)
            .body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#)
            .unwrap();
        let e = check(Response::from(resp), "GET /v2/").await.unwrap_err();
        assert!(e.to_string().contains("requires credentials"), "{e}");
        assert!(crate::error::hint_of(&e).unwrap().contains("--auth"));
        let resp = http::Response::builder()
            .status(400)
            .body(r#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#)
            .unwrap();
        let e = check(Response::from(resp), "storing manifest")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("MANIFEST_BLOB_UNKNOWN blob unknown"),
            "{e}"
        );
    }
}

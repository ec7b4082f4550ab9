//! A client for the registry's Distribution HTTP API, just enough to push: check a blob, upload
//! one (POST then PUT `?digest=`, the body streamed from its file), PUT a manifest.
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
pub enum Failure {
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
    pub async fn ping(&self) -> std::result::Result<(), Failure> {
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
    pub async fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
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
    pub async fn upload_blob(&self, repo: &str, blob: &Blob) -> Result<()> {
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

//! The health probe: an HTTPS `GET /v2/` that trusts only kreg's CA. 200 or 401 means a
//! registry answered with a certificate that chains to the CA and names the host.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use tokio::time::{sleep, Instant};

use crate::plan::Endpoint;

/// Probes once. `connect_ip` pins the host name to that address (nip.io names resolve to the IP
/// they carry anyway; pinning keeps the probe independent of the workstation's DNS).
pub async fn probe_once(
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
    ca_pem: Option<&str>,
) -> Result<u16> {
    let (client, url) = match ca_pem {
        None => plain_http(endpoint, connect_ip)?,
        Some(ca) => https(endpoint, connect_ip, ca)?,
    };
    let resp = client
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow!("GET {url}: {}", crate::error::one_line(&e)))?;
    let code = resp.status().as_u16();
    if code == 200 || code == 401 {
        Ok(code)
    } else {
        Err(anyhow!("GET {url} answered {code}, expected 200 or 401"))
    }
}

/// Reads one blob (the probe image's layer): `/v2/` answers without touching the storage, a
/// blob does not. `Ok(true)` when served, `Ok(false)` when the registry says it has no such
/// blob (never pushed: no verdict), an error for anything else (a 5xx while S3 is down).
pub async fn read_blob(
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
    ca_pem: Option<&str>,
    creds: Option<&crate::auth::Credentials>,
    repo: &str,
    digest: &str,
) -> Result<bool> {
    let (client, base) = match ca_pem {
        None => plain_http(endpoint, connect_ip)?,
        Some(ca) => https(endpoint, connect_ip, ca)?,
    };
    let url = format!("{base}{repo}/blobs/{digest}");
    let mut req = client.get(&url);
    if let Some(c) = creds {
        req = req.basic_auth(&c.username, Some(&c.password));
    }
    let resp = req
        .send()
        .await
        .map_err(|e| anyhow!("GET {url}: {}", crate::error::one_line(&e)))?;
    match resp.status().as_u16() {
        200 => Ok(true),
        404 => Ok(false),
        code => Err(anyhow!("GET {url} answered {code}")),
    }
}

/// Plain `--expose localhost` (no CA given): nodes reach the registry on their own loopback; this machine reaches
/// the same NodePort on the node address, over plain HTTP (there is no certificate).
fn plain_http(
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
) -> Result<(reqwest::Client, String)> {
    let ip =
        connect_ip.ok_or_else(|| anyhow!("no node address to probe the localhost registry on"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(3))
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    Ok((
        client,
        format!("http://{}/v2/", SocketAddr::new(ip, endpoint.port)),
    ))
}

fn https(
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
    ca_pem: &str,
) -> Result<(reqwest::Client, String)> {
    // A bundle during a CA rotation: the old and the new CA.
    let cas = reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())
        .context("kreg's CA certificate is not valid PEM")?;
    let mut builder = reqwest::Client::builder()
        .tls_certs_only(cas)
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(3))
        .no_proxy();
    let url_host = match endpoint.host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{}]", endpoint.host),
        _ => endpoint.host.clone(),
    };
    if let (Some(ip), Err(_)) = (connect_ip, endpoint.host.parse::<IpAddr>()) {
        builder = builder.resolve(&endpoint.host, SocketAddr::new(ip, endpoint.port));
    }
    let client = builder.build().context("building the HTTPS client")?;
    Ok((client, format!("https://{url_host}:{}/v2/", endpoint.port)))
}

/// Probes until it succeeds or `limit` passes (a fresh LoadBalancer or NodePort rule can take
/// a few seconds to route after the pod is ready). Returns the last error on timeout.
pub async fn probe_until(
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
    ca_pem: Option<&str>,
    limit: Duration,
) -> Result<u16> {
    let deadline = Instant::now() + limit;
    let mut delay = Duration::from_millis(200);
    loop {
        match probe_once(endpoint, connect_ip, ca_pem).await {
            Ok(code) => return Ok(code),
            Err(e) if Instant::now() + delay >= deadline => return Err(e),
            Err(_) => {
                sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

//! The gate's edge: TLS on the registry's port (kreg's serving certificate), HTTP/1.1 per
//! client connection, and the requests [`super::decide`] lets through streamed to the
//! registry on the pod's loopback and back. Bodies are never buffered (layers are large).
//!
//! Input comes from the environment the Deployment sets (nothing from the network):
//! `KREG_GATE_LISTEN` (`[::]:5000`, or `0.0.0.0:5000` where IPv6 is off), `KREG_GATE_UPSTREAM`
//! (`127.0.0.1:5001`), the certificate and key files, and the push and pull htpasswd files.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use super::{basic_credentials, decide, Role, Users, Verdict};
use crate::error::EXIT_ERROR;

type Body = BoxBody<Bytes, hyper::Error>;

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), plus the
/// framing header hyper sets again for the next hop.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
];

struct Gate {
    users: Users,
    upstream: String,
    client: Client<HttpConnector, Incoming>,
    /// SHA-256 of `user:password` pairs already verified: bcrypt on every request of a pull
    /// (dozens of blob requests) would cost more than the transfer of small layers.
    verified: Mutex<HashMap<[u8; 32], Role>>,
}

/// The gate's log is its container's stderr, read with `kubectl logs` (no Printer, no reporter:
/// no person at the other end). Never a credential.
#[allow(clippy::print_stderr)]
fn log(line: &str) {
    eprintln!("kreg registry-gate: {line}");
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

/// `kreg registry-gate`: serves until killed. Exits non-zero only when it cannot start.
pub async fn run() -> u8 {
    match serve().await {
        Ok(()) => 0,
        Err(e) => {
            log(&format!("{e:#}"));
            EXIT_ERROR
        }
    }
}

async fn serve() -> Result<()> {
    let read = |key: &str, default: &str| -> Result<String> {
        let path = env_or(key, default);
        std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))
    };
    let push = read("KREG_GATE_PUSH_USERS", "/auth/htpasswd")?;
    // No pull user (an older kreg-auth Secret): then only the push user gets in.
    let pull = read("KREG_GATE_PULL_USERS", "/auth/pull-htpasswd").unwrap_or_default();
    let users = Users::parse(&push, &pull).context("the gate's users")?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(
        &env_or("KREG_GATE_CERT", "/certs/tls.crt"),
        &env_or("KREG_GATE_KEY", "/certs/tls.key"),
    )?));
    let listen = std::env::var("KREG_GATE_LISTEN").ok();
    let listener = match &listen {
        Some(addr) => tokio::net::TcpListener::bind(addr).await,
        None => match tokio::net::TcpListener::bind("[::]:5000").await {
            Ok(l) => Ok(l),
            Err(_) => tokio::net::TcpListener::bind("0.0.0.0:5000").await,
        },
    }
    .context("binding the gate's port")?;
    let gate = Arc::new(Gate {
        users,
        upstream: env_or("KREG_GATE_UPSTREAM", "127.0.0.1:5001"),
        client: Client::builder(TokioExecutor::new()).build_http(),
        verified: Mutex::new(HashMap::new()),
    });
    log(&format!(
        "listening on {}, forwarding to {}",
        listener.local_addr()?,
        gate.upstream
    ));
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            // Out of file descriptors and the like: the next accept may work.
            Err(e) => {
                log(&format!("accept: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, gate) = (acceptor.clone(), gate.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let gate = gate.clone();
                async move { Ok::<_, Infallible>(gate.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

fn tls_config(cert: &str, key: &str) -> Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {cert}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {cert}"))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {key}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the serving certificate and key do not match")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl Gate {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let role = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(basic_credentials)
            .and_then(|(user, password)| self.check(&user, &password));
        match decide(req.method().as_str(), req.uri().path(), role) {
            Verdict::Forward => self.forward(req).await,
            Verdict::Challenge => {
                let mut r = error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "authentication required",
                );
                r.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"kreg\""),
                );
                r
            }
            Verdict::Deny => error(
                StatusCode::FORBIDDEN,
                "DENIED",
                "these credentials may only pull (kreg's pull user)",
            ),
            Verdict::NotFound => error(StatusCode::NOT_FOUND, "NOT_FOUND", "not a registry path"),
        }
    }

    fn check(&self, user: &str, password: &str) -> Option<Role> {
        let key: [u8; 32] = Sha256::new()
            .chain_update(user.as_bytes())
            .chain_update([0u8])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if let Some(role) = self.verified.lock().ok()?.get(&key) {
            return Some(*role);
        }
        let role = self.users.check(user, password)?;
        let mut verified = self.verified.lock().ok()?;
        // Only pairs that were right get here; a handful in practice. Bounded all the same.
        if verified.len() >= 1024 {
            verified.clear();
        }
        verified.insert(key, role);
        Some(role)
    }

    async fn forward(&self, req: Request<Incoming>) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        parts.uri = match format!("http://{}{path}", self.upstream).parse() {
            Ok(u) => u,
            Err(_) => return error(StatusCode::BAD_REQUEST, "UNSUPPORTED", "bad request path"),
        };
        strip(&mut parts.headers);
        parts.headers.remove(AUTHORIZATION);
        // The registry writes upload locations from the Host it was asked for and this scheme.
        parts.headers.insert(
            HeaderName::from_static("x-forwarded-proto"),
            HeaderValue::from_static("https"),
        );
        parts.version = http::Version::HTTP_11;
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(resp) => {
                let (mut parts, body) = resp.into_parts();
                strip(&mut parts.headers);
                Response::from_parts(parts, body.boxed())
            }
            Err(e) => {
                log(&format!("registry: {e}"));
                error(
                    StatusCode::BAD_GATEWAY,
                    "UNAVAILABLE",
                    "the registry behind the gate did not answer",
                )
            }
        }
    }
}

fn strip(headers: &mut HeaderMap) {
    for h in HOP_BY_HOP {
        headers.remove(h);
    }
}

/// A response in Distribution's error format, which registry clients print.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)).map_err(|n| match n {}).boxed());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(
        HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static("registry/2.0"),
    );
    r
}

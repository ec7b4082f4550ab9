//! The gate's edge: TLS on the registry's port (kreg's serving certificate), HTTP/1.1 per
//! client connection, and the requests [`super::decide`] lets through streamed to the
//! registry on the pod's loopback and back. Bodies are never buffered (layers are large).
//!
//! Input comes from the environment the Deployment sets (nothing from the network):
//! Every client is bounded ([`Limits`]): a handshake deadline, hyper's header-read timeout
//! (which also ends idle keep-alive connections), an idle limit while a request is open, and a
//! cap on connections; SIGTERM stops accepting and lets open requests finish.
//!
//! `KREG_GATE_LISTEN` (`[::]:5000`, or `0.0.0.0:5000` where IPv6 is off), `KREG_GATE_UPSTREAM`
//! (`127.0.0.1:5001`), the certificate and key files, and the push and pull htpasswd files; the `KREG_GATE_*_TIMEOUT` and
//! `KREG_GATE_MAX_CONNECTIONS` overrides of [`Limits`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Semaphore};

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

/// How long the gate waits on each client and how many it serves at once. A registry client
/// sends its request line and headers at once and then streams; one that does not is either
/// broken or holding a socket on purpose, and the gate must keep serving the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the TCP accept to the end of the TLS handshake.
    pub handshake: Duration,
    /// For a request's line and headers, and for the next request on an idle keep-alive
    /// connection (hyper starts the clock whenever it waits for a request head).
    pub header_read: Duration,
    /// With no byte read or written while a request is open (a stalled upload or download).
    /// Long, because the registry itself may think for a while (a large blob's commit on S3).
    pub idle: Duration,
    /// Connections served at once; beyond it the gate stops accepting until one ends.
    pub max_connections: usize,
    /// After SIGTERM: how long open requests may finish (below the pod's 30 s grace).
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(30),
            idle: Duration::from_secs(300),
            max_connections: 1024,
            drain: Duration::from_secs(20),
        }
    }
}

impl Limits {
    /// The defaults, each overridable by an environment variable (whole seconds; a count for
    /// the connections). A value that does not parse stops the gate: a typo must not quietly
    /// mean "no limit".
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Limits> {
        let mut l = Limits::default();
        let secs = |key: &str, slot: &mut Duration| -> Result<()> {
            if let Some(v) = get(key) {
                let n: u64 =
                    v.trim().parse().ok().filter(|n| *n > 0).with_context(|| {
                        format!("{key}={v:?} is not a positive number of seconds")
                    })?;
                *slot = Duration::from_secs(n);
            }
            Ok(())
        };
        secs("KREG_GATE_HANDSHAKE_TIMEOUT", &mut l.handshake)?;
        secs("KREG_GATE_HEADER_TIMEOUT", &mut l.header_read)?;
        secs("KREG_GATE_IDLE_TIMEOUT", &mut l.idle)?;
        secs("KREG_GATE_DRAIN_TIMEOUT", &mut l.drain)?;
        if let Some(v) = get("KREG_GATE_MAX_CONNECTIONS") {
            l.max_connections = v.trim().parse().ok().filter(|n| *n > 0).with_context(|| {
                format!("KREG_GATE_MAX_CONNECTIONS={v:?} is not a positive number")
            })?;
        }
        Ok(l)
    }
}

async fn serve() -> Result<()> {
    let limits = Limits::from_env(|k| std::env::var(k).ok())?;
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
    // As PID 1 in its container the gate gets no default SIGTERM handling: without this the
    // kubelet waits out the grace period and kills it mid-request.
    let mut term = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    let gate = Arc::new(Gate {
        users,
        upstream: env_or("KREG_GATE_UPSTREAM", "127.0.0.1:5001"),
        client: Client::builder(TokioExecutor::new()).build_http(),
        verified: Mutex::new(HashMap::new()),
    });
    log(&format!(
        "listening on {}, forwarding to {}; limits: handshake {}s, headers {}s, idle {}s, {} connections",
        listener.local_addr()?,
        gate.upstream,
        limits.handshake.as_secs(),
        limits.header_read.as_secs(),
        limits.idle.as_secs(),
        limits.max_connections,
    ));
    // Each connection holds a permit; all of them back means every connection has ended.
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut full_logged = false;
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if !full_logged {
                    log(&format!(
                        "connection limit reached ({}): waiting for one to end",
                        limits.max_connections
                    ));
                    full_logged = true;
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => p.context("the connection slots")?,
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                }
            }
        };
        let (tcp, _) = tokio::select! {
            c = listener.accept() => match c {
                Ok(c) => c,
                // Out of file descriptors and the like: the next accept may work.
                Err(e) => {
                    log(&format!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        if slots.available_permits() > 0 {
            full_logged = false;
        }
        let (acceptor, gate, stopping) = (acceptor.clone(), gate.clone(), stopping.clone());
        tokio::spawn(async move {
            connection(tcp, acceptor, gate, limits, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    let open = limits.max_connections - slots.available_permits();
    log(&format!(
        "shutting down: {open} connection(s) open, up to {}s to finish",
        limits.drain.as_secs()
    ));
    let _ = stop.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(limits.drain, slots.acquire_many(all)).await {
        Ok(_) => log("all connections ended"),
        Err(_) => log("drain time over: closing the connections still open"),
    }
    Ok(())
}

/// One client: the TLS handshake under its deadline, then HTTP/1.1 until the client leaves,
/// stalls past the idle limit, or the gate shuts down (the request in flight may finish).
async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    gate: Arc<Gate>,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let tls = match tokio::time::timeout(limits.handshake, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        // A failed or slow handshake: nothing was said, nothing to answer.
        Ok(Err(_)) | Err(_) => return,
    };
    let started = Instant::now();
    let activity = Arc::new(AtomicU64::new(0));
    let io = Watched {
        inner: tls,
        started,
        activity: activity.clone(),
    };
    let service = hyper::service::service_fn(move |req| {
        let gate = gate.clone();
        async move { Ok::<_, Infallible>(gate.handle(req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let tick = (limits.idle / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
    let mut draining = *stopping.borrow();
    if draining {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            changed = stopping.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    // Idle connections close now; one with a request open closes after it.
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = tokio::time::sleep(tick) => {
                let last = Duration::from_millis(activity.load(Ordering::Relaxed));
                if started.elapsed().saturating_sub(last) > limits.idle {
                    // Dropping the connection closes the socket.
                    return;
                }
            }
        }
    }
}

/// A stream that notes when a byte last moved either way, for the idle limit.
struct Watched<T> {
    inner: T,
    started: Instant,
    /// Milliseconds after `started`.
    activity: Arc<AtomicU64>,
}

impl<T> Watched<T> {
    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.store(ms, Ordering::Relaxed);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(pairs: &[(&str, &str)]) -> Result<Limits> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Limits::from_env(|k| map.get(k).cloned())
    }

    #[test]
    fn limits_default_and_override() {
        assert_eq!(limits(&[]).unwrap(), Limits::default());
        let l = limits(&[
            ("KREG_GATE_HEADER_TIMEOUT", "2"),
            ("KREG_GATE_MAX_CONNECTIONS", " 8 "),
        ])
        .unwrap();
        assert_eq!(l.header_read, Duration::from_secs(2));
        assert_eq!(l.max_connections, 8);
        assert_eq!(l.idle, Limits::default().idle);
    }

    #[test]
    fn a_limit_that_does_not_parse_stops_the_gate() {
        for (k, v) in [
            ("KREG_GATE_IDLE_TIMEOUT", "5m"),
            ("KREG_GATE_HANDSHAKE_TIMEOUT", "0"),
            ("KREG_GATE_MAX_CONNECTIONS", "-1"),
            ("KREG_GATE_DRAIN_TIMEOUT", ""),
        ] {
            let e = limits(&[(k, v)]).unwrap_err().to_string();
            assert!(e.contains(k), "{e}");
        }
    }
}

//! A CRI image-service client: the few calls the node agent makes to prove trust the way the
//! kubelet would (`PullImage`, then `RemoveImage`), and `Version` to learn which runtime and
//! release answers on a socket.
//!
//! gRPC is HTTP/2 with length-prefixed protobuf messages. The messages used here have only
//! string fields, so they are encoded by hand (field numbers from k8s.io/cri-api): no code
//! generator, no protobuf runtime. `runtime.v1` is tried first; a runtime that answers
//! UNIMPLEMENTED (containerd before 1.6 speaks only v1alpha2) is asked in `v1alpha2`, whose
//! messages have the same numbers.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{Request, StatusCode};
use tokio::net::UnixStream;

/// gRPC status UNIMPLEMENTED.
const UNIMPLEMENTED: u32 = 12;

/// A failed call: the gRPC status code and the runtime's own message (an x509 error, a 404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallError {
    pub code: u32,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (gRPC code {})", self.message, self.code)
    }
}

impl std::error::Error for CallError {}

/// Who answers on the socket (`runtime.v1.RuntimeService/Version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    /// e.g. `containerd`
    pub name: String,
    /// e.g. `v1.7.24` or `2.1.9`
    pub version: String,
}

impl RuntimeVersion {
    /// The release's major number (`v1.7.24` -> 1), 0 when unreadable.
    pub fn major(&self) -> u32 {
        self.version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

// ---- protobuf, by hand --------------------------------------------------------------------

fn put_varint(buf: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// A length-delimited field (strings and embedded messages).
fn put_field(buf: &mut BytesMut, field: u32, bytes: &[u8]) {
    put_varint(buf, u64::from(field << 3 | 2));
    put_varint(buf, bytes.len() as u64);
    buf.put_slice(bytes);
}

fn get_varint(buf: &mut Bytes) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        if !buf.has_remaining() {
            bail!("truncated varint");
        }
        let b = buf.get_u8();
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    bail!("varint too long")
}

/// Every (field number, value) of a message whose fields are strings or sub-messages; other
/// wire types are skipped.
fn fields(mut buf: Bytes) -> Result<Vec<(u32, Bytes)>> {
    let mut out = vec![];
    while buf.has_remaining() {
        let key = get_varint(&mut buf)?;
        let (field, wire) = ((key >> 3) as u32, key & 7);
        match wire {
            0 => {
                get_varint(&mut buf)?;
            }
            1 => buf.advance(8.min(buf.remaining())),
            5 => buf.advance(4.min(buf.remaining())),
            2 => {
                let len = get_varint(&mut buf)? as usize;
                if len > buf.remaining() {
                    bail!("truncated field {field}");
                }
                out.push((field, buf.split_to(len)));
            }
            w => bail!("unsupported wire type {w}"),
        }
    }
    Ok(out)
}

fn string_field(msg: Bytes, field: u32) -> Result<String> {
    Ok(fields(msg)?
        .into_iter()
        .find(|(f, _)| *f == field)
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default())
}

/// `PullImageRequest { ImageSpec image = 1 { string image = 1 }; AuthConfig auth = 2 {
/// string username = 1; string password = 2 } }`; `RemoveImageRequest` is its first field.
pub(crate) fn pull_request(image: &str, auth: Option<(&str, &str)>) -> Bytes {
    let mut spec = BytesMut::new();
    put_field(&mut spec, 1, image.as_bytes());
    let mut msg = BytesMut::new();
    put_field(&mut msg, 1, &spec);
    if let Some((user, password)) = auth {
        let mut a = BytesMut::new();
        put_field(&mut a, 1, user.as_bytes());
        put_field(&mut a, 2, password.as_bytes());
        put_field(&mut msg, 2, &a);
    }
    msg.freeze()
}

/// A gRPC message frame: uncompressed flag, big-endian length, message.
fn frame(msg: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(msg.len() + 5);
    b.put_u8(0);
    b.put_u32(msg.len() as u32);
    b.put_slice(msg);
    b.freeze()
}

fn unframe(mut body: Bytes) -> Result<Bytes> {
    if body.remaining() < 5 {
        return Ok(Bytes::new());
    }
    if body.get_u8() != 0 {
        bail!("compressed gRPC response");
    }
    let len = body.get_u32() as usize;
    if len > body.remaining() {
        bail!("truncated gRPC response");
    }
    Ok(body.split_to(len))
}

/// Decodes `grpc-message` (percent-encoded by the server). Any input decodes: a `%` not
/// followed by two hex digits stays as it is, and invalid UTF-8 becomes U+FFFD.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

// ---- the client ---------------------------------------------------------------------------

/// A CRI endpoint: a unix socket path as this process can reach it (for the node agent that
/// is `/proc/<runtime pid>/root<socket>`, the runtime's own view of its socket).
pub struct Cri {
    socket: std::path::PathBuf,
    api: &'static str,
}

impl Cri {
    /// Connects lazily: nothing is sent until a call. Asks `runtime.v1` unless the runtime
    /// answers UNIMPLEMENTED to [`Cri::version`].
    pub fn new(socket: &Path) -> Cri {
        Cri {
            socket: socket.to_path_buf(),
            api: "runtime.v1",
        }
    }

    async fn call(
        &self,
        service: &str,
        method: &str,
        msg: Bytes,
        limit: Duration,
    ) -> Result<Bytes> {
        let path = format!("/{}.{service}/{method}", self.api);
        tokio::time::timeout(limit, self.call_inner(&path, msg))
            .await
            .map_err(|_| anyhow!("{path}: no answer within {}s", limit.as_secs()))?
    }

    async fn call_inner(&self, path: &str, msg: Bytes) -> Result<Bytes> {
        let io = UnixStream::connect(&self.socket)
            .await
            .with_context(|| format!("cannot connect to {}", self.socket.display()))?;
        let (client, conn) = h2::client::handshake(io)
            .await
            .context("HTTP/2 handshake with the runtime failed")?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut client = client.ready().await?;
        let req = Request::post(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())?;
        let (resp, mut send) = client.send_request(req, false)?;
        send.send_data(frame(&msg), true)?;
        let resp = resp.await.with_context(|| format!("{path}: no response"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = resp.into_body();
        let mut data = BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            data.extend_from_slice(&chunk);
        }
        let trailers = body.trailers().await?.unwrap_or_default();
        driver.abort();
        if status != StatusCode::OK {
            bail!("{path}: HTTP {status}");
        }
        // A trailers-only response carries the status in the headers.
        let code = trailers
            .get("grpc-status")
            .or_else(|| headers.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(2);
        if code != 0 {
            let message = trailers
                .get("grpc-message")
                .or_else(|| headers.get("grpc-message"))
                .and_then(|v| v.to_str().ok())
                .map(percent_decode)
                .unwrap_or_default();
            return Err(CallError { code, message }.into());
        }
        unframe(data.freeze())
    }

    /// `RuntimeService/Version`; switches this client to `v1alpha2` when the runtime does not
    /// serve `v1`.
    pub async fn version(&mut self) -> Result<RuntimeVersion> {
        let limit = Duration::from_secs(10);
        let mut msg = BytesMut::new();
        put_field(&mut msg, 1, b"v1");
        let msg = msg.freeze();
        let out = match self
            .call("RuntimeService", "Version", msg.clone(), limit)
            .await
        {
            Err(e) if is_code(&e, UNIMPLEMENTED) => {
                self.api = "runtime.v1alpha2";
                self.call("RuntimeService", "Version", msg, limit).await?
            }
            other => other?,
        };
        // VersionResponse { version = 1; runtime_name = 2; runtime_version = 3; runtime_api_version = 4 }
        let f = fields(out)?;
        let s = |n: u32| {
            f.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        Ok(RuntimeVersion {
            name: s(2),
            version: s(3),
        })
    }

    /// `ImageService/PullImage`: the image reference the runtime reports (its image id).
    pub async fn pull(
        &self,
        image: &str,
        auth: Option<(&str, &str)>,
        limit: Duration,
    ) -> Result<String> {
        let out = self
            .call(
                "ImageService",
                "PullImage",
                pull_request(image, auth),
                limit,
            )
            .await?;
        string_field(out, 1)
    }

    /// `ImageService/RemoveImage`: forgets the probe image again (best effort).
    pub async fn remove(&self, image: &str) -> Result<()> {
        self.call(
            "ImageService",
            "RemoveImage",
            pull_request(image, None),
            Duration::from_secs(20),
        )
        .await
        .map(|_| ())
    }
}

/// Is `e` a gRPC error with status `code`?
pub(crate) fn is_code(e: &anyhow::Error, code: u32) -> bool {
    e.downcast_ref::<CallError>()
        .is_some_and(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_encodes_the_cri_field_numbers() {
        let m = pull_request("r.example:5000/kreg/probe@sha256:ab", Some(("u", "p")));
        // field 1 (ImageSpec) holding field 1 (image), then field 2 (AuthConfig).
        let f = fields(m).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].0, 1);
        assert_eq!(
            string_field(f[0].1.clone(), 1).unwrap(),
            "r.example:5000/kreg/probe@sha256:ab"
        );
        let auth = fields(f[1].1.clone()).unwrap();
        assert_eq!((auth[0].0, &auth[0].1[..]), (1, &b"u"[..]));
        assert_eq!((auth[1].0, &auth[1].1[..]), (2, &b"p"[..]));
    }

    #[test]
    fn frames_round_trip_and_long_strings_use_multi_byte_lengths() {
        let long = "x".repeat(300);
        let m = pull_request(&long, None);
        let back = unframe(frame(&m)).unwrap();
        let f = fields(back).unwrap();
        assert_eq!(string_field(f[0].1.clone(), 1).unwrap(), long);
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(
            percent_decode("x509: certificate signed by unknown authority%0A"),
            "x509: certificate signed by unknown authority\n"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn grpc_message_decoding_never_panics() {
        // A `%` before a multi-byte character: slicing the &str at byte offsets panicked here.
        assert_eq!(percent_decode("%é"), "%é");
        assert_eq!(percent_decode("a%€b"), "a%€b");
        assert_eq!(percent_decode("%1é"), "%1é");
        // Escapes that decode to invalid UTF-8 are replaced, not trusted.
        assert_eq!(percent_decode("%FF%FE"), "\u{FFFD}\u{FFFD}");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn versions_have_a_major() {
        let v = |s: &str| RuntimeVersion {
            name: "containerd".into(),
            version: s.into(),
        };
        assert_eq!(v("v1.7.24").major(), 1);
        assert_eq!(v("2.1.9").major(), 2);
        assert_eq!(v("").major(), 0);
    }
}

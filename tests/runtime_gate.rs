//! The registry gate (issue 11 item 2, "pull secrets only pull"): kreg's `registry-gate` in
//! front of a real Distribution registry, as in an `--auth` pod, driven by real clients:
//! kreg's own push client, skopeo, and containerd 1.7's CRI through kreg's node agent (the
//! path a pull Secret and a node take). The pull user pulls and is refused on push and delete;
//! the push user does everything; a stranger gets a challenge. And the gate's limits: slow,
//! silent and stalled clients are dropped while others are served; SIGTERM drains.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use sha2::Digest;

use kreg::node::cri::Cri;
use support::rt::{require_root, runtime_bin, Sandbox, TestRegistry, REGISTRY_NAME};
use support::text;

const KREG: &str = env!("CARGO_BIN_EXE_kreg");

fn skopeo(args: &[&str]) -> (bool, String) {
    let out = Command::new("skopeo")
        .args(["--insecure-policy", "--command-timeout", "60s"])
        .args(args)
        .output()
        .expect("skopeo is installed by kcluster build");
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn login(c: &kreg::auth::Credentials) -> String {
    format!("{}:{}", c.username, c.password)
}

#[test]
fn the_pull_user_pulls_and_cannot_push_or_delete() {
    require_root();
    let reg = TestRegistry::start_gated();
    let (push, pull) = (reg.push.clone().unwrap(), reg.pull.clone().unwrap());
    let certs = reg.cert_dir().display().to_string();
    // The push user: kreg's own client uploads the probe image through the gate.
    let probe = reg.push_probe();
    let by_ip = probe.replace(&reg.host(), &format!("127.0.0.1:{}", reg.port));
    let src = format!("docker://{by_ip}");
    let copy = tempfile::tempdir().unwrap();
    let dir = format!("dir:{}", copy.path().display());

    // The pull user reads (skopeo copies the image out).
    let (ok, out) = skopeo(&[
        "copy",
        "--src-cert-dir",
        &certs,
        "--src-creds",
        &login(&pull),
        &src,
        &dir,
    ]);
    assert!(ok, "the pull user pulls: {out}\n{}", reg.log());

    // ... and cannot push: not a new repository, not over an existing tag.
    for dest in ["evil/app:v1", "kreg/probe:v1"] {
        let dest = format!("docker://127.0.0.1:{}/{dest}", reg.port);
        let (ok, out) = skopeo(&[
            "copy",
            "--dest-cert-dir",
            &certs,
            "--dest-creds",
            &login(&pull),
            &dir,
            &dest,
        ]);
        assert!(!ok, "the pull user pushed to {dest}: {out}");
        assert!(
            out.contains("denied") || out.contains("DENIED") || out.contains("403"),
            "refused as denied, not by accident: {out}"
        );
    }
    // ... nor delete.
    let (ok, out) = skopeo(&[
        "delete",
        "--cert-dir",
        &certs,
        "--creds",
        &login(&pull),
        &src,
    ]);
    assert!(!ok, "the pull user deleted the probe: {out}");

    // No credentials, or a wrong password: nothing at all.
    let (ok, out) = skopeo(&["inspect", "--cert-dir", &certs, "--no-creds", &src]);
    assert!(!ok, "a stranger read the registry: {out}");
    let wrong = format!("{}:{}", pull.username, push.password);
    let (ok, _) = skopeo(&["inspect", "--cert-dir", &certs, "--creds", &wrong, &src]);
    assert!(!ok, "the pull user with the push password got in");

    // The push user may do all of it: the refusals above were the role, not the gate.
    let dest = format!("docker://127.0.0.1:{}/team/app:v1", reg.port);
    let (ok, out) = skopeo(&[
        "copy",
        "--dest-cert-dir",
        &certs,
        "--dest-creds",
        &login(&push),
        &dir,
        &dest,
    ]);
    assert!(ok, "the push user pushes: {out}\n{}", reg.log());
    let (ok, out) = skopeo(&[
        "delete",
        "--cert-dir",
        &certs,
        "--creds",
        &login(&push),
        &dest,
    ]);
    assert!(ok, "the push user deletes: {out}");
    // Nothing the pull user tried landed.
    let (ok, out) = skopeo(&[
        "inspect",
        "--cert-dir",
        &certs,
        "--creds",
        &login(&push),
        &format!("docker://127.0.0.1:{}/evil/app:v1", reg.port),
    ]);
    assert!(!ok, "evil/app exists: {out}");
}

/// The node path: kreg's agent pulls the probe through containerd's CRI with the pull user, as
/// the DaemonSet does; and a CRI pull without credentials is refused.
#[test]
fn containerd_pulls_through_the_gate_with_the_pull_user() {
    require_root();
    let bin = runtime_bin("1.7");
    let reg = TestRegistry::start_gated();
    let pull = reg.pull.clone().unwrap();
    let probe = reg.push_probe();
    let sb = Sandbox::start("gate-17", &bin, "default");
    let env = vec![
        ("NODE_NAME", "sandbox".to_string()),
        ("KREG_REGISTRY", reg.host()),
        ("KREG_CA_PEM", reg.ca_pem.clone()),
        ("KREG_PROBE_IMAGE", probe.clone()),
        ("KREG_INSTALL", "kreg-system".to_string()),
        ("KREG_PULL_USERNAME", pull.username.clone()),
        ("KREG_PULL_PASSWORD", pull.password.clone()),
    ];
    let out = sb.exec(&env, &[KREG, "node-agent", "--once"]);
    let verdict = text(&out.stdout);
    assert!(
        out.status.success() && verdict.contains("kreg-node-trust: trusted:"),
        "the agent pulled with the pull user (exit {:?}):\n{verdict}{}\n{}",
        out.status.code(),
        text(&out.stderr),
        reg.log()
    );
    // Without credentials the runtime gets the gate's challenge: the pull fails.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let anonymous = rt.block_on(async {
        let cri = Cri::new(&sb.socket());
        cri.pull(&probe, None, std::time::Duration::from_secs(60))
            .await
    });
    let e = anonymous.expect_err("an anonymous pull through the gate worked");
    assert!(
        format!("{e:#}").contains("no basic auth credentials"),
        "refused for want of credentials: {e:#}"
    );
    // Removal leaves the node as it was (the agent's own contract; here only to clean up).
    let mut renv = env.clone();
    renv.push(("KREG_MODE", "remove".into()));
    let out = sb.exec(&renv, &[KREG, "node-agent", "--once"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

// ---- slow and idle clients (issue 22 item 3) ----------------------------------------------

/// A TLS connection to the gate as a registry client makes it, trusting the test CA.
fn tls(reg: &TestRegistry) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(reg.ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(REGISTRY_NAME).unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", reg.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .expect("TLS handshake with the gate");
    }
    s
}

fn request(reg: &TestRegistry, method: &str, path: &str, extra: &str) -> String {
    let push = reg.push.as_ref().unwrap();
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", push.username, push.password));
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\n{extra}\r\n",
        reg.host()
    )
}

/// Reads a response's status line and headers (the gate's answers here have no body).
fn read_head(s: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).expect("a response head from the gate");
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Starts a blob upload in `repo` on this connection (kept alive): the upload's location.
fn start_upload(reg: &TestRegistry, s: &mut (impl Read + Write), repo: &str) -> String {
    let post = request(
        reg,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        "Content-Length: 0\r\n",
    );
    s.write_all(post.as_bytes()).unwrap();
    let head = read_head(s);
    assert!(head.starts_with("HTTP/1.1 202"), "{head}");
    head.lines()
        .find_map(|l| l.strip_prefix("location: "))
        .expect("the upload's location")
        .to_string()
}

/// The `PUT` that ends an upload with a body of `len` bytes (the caller sends the body).
fn finish_upload(reg: &TestRegistry, location: &str, digest: &str, len: usize) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    request(
        reg,
        "PUT",
        &format!("{location}{sep}digest={digest}"),
        &format!("Content-Length: {len}\r\nContent-Type: application/octet-stream\r\n"),
    )
}

/// A well-behaved client's `GET /v2/` with the push user: the status line.
fn served(reg: &TestRegistry) -> String {
    let mut s = tls(reg);
    s.write_all(request(reg, "GET", "/v2/", "Connection: close\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or_default().to_string()
}

/// Whether the gate has closed this connection: a read ends (EOF or reset) before the
/// socket's read timeout, which is far longer than the limits the test sets.
fn closed_by_gate(r: &mut impl Read) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

#[test]
fn the_gate_drops_slow_clients_and_keeps_serving_others() {
    require_root();
    let reg = TestRegistry::start_gated_with(&[
        ("KREG_GATE_HANDSHAKE_TIMEOUT", "2"),
        ("KREG_GATE_HEADER_TIMEOUT", "2"),
        ("KREG_GATE_IDLE_TIMEOUT", "3"),
        ("KREG_GATE_MAX_CONNECTIONS", "5"),
    ]);
    assert_eq!(served(&reg), "HTTP/1.1 200 OK", "{}", reg.log());

    // 1. Connects and never starts TLS.
    let mut silent = TcpStream::connect(("127.0.0.1", reg.port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // 2. Completes TLS and never sends a request.
    let mut quiet = tls(&reg);
    // 3. Sends a request's headers one byte every 300 ms (slowloris).
    let drip = request(&reg, "GET", "/v2/", "");
    let mut dripper = tls(&reg);
    let drip_thread = std::thread::spawn(move || {
        for b in drip.as_bytes() {
            if dripper
                .write_all(&[*b])
                .and_then(|_| dripper.flush())
                .is_err()
            {
                return (true, String::new());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut out = String::new();
        let _ = dripper.read_to_string(&mut out);
        (false, out)
    });
    // 4. Uploads a blob of 1000 bytes, sends 10 and stalls.
    let mut staller = tls(&reg);
    let location = start_upload(&reg, &mut staller, "team/app");
    let digest = format!("sha256:{}", "0".repeat(64));
    staller
        .write_all(finish_upload(&reg, &location, &digest, 1000).as_bytes())
        .unwrap();
    staller.write_all(&[0u8; 10]).unwrap();
    staller.flush().unwrap();

    // With all four holding their sockets, another client is served.
    assert_eq!(served(&reg), "HTTP/1.1 200 OK", "{}", reg.log());

    assert!(
        closed_by_gate(&mut silent),
        "a client that never sent a TLS hello was kept"
    );
    assert!(
        closed_by_gate(&mut quiet),
        "a client that never sent a request was kept"
    );
    assert!(closed_by_gate(&mut staller), "a stalled upload was kept");
    let (write_failed, answer) = drip_thread.join().unwrap();
    assert!(
        write_failed || !answer.contains(" 200 "),
        "headers sent a byte at a time were served: {answer}"
    );
    assert_eq!(served(&reg), "HTTP/1.1 200 OK", "{}", reg.log());

    // The cap: five silent connections fill it; the sixth client waits until the handshake
    // deadline frees a slot, and is then served.
    let fill: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", reg.port)).unwrap())
        .collect();
    assert_eq!(served(&reg), "HTTP/1.1 200 OK", "{}", reg.log());
    drop(fill);
    let log = reg.log();
    assert!(
        log.contains("connection limit reached (5)"),
        "the cap was never reached: {log}"
    );
}

#[test]
fn sigterm_lets_the_open_request_finish_and_the_gate_exits_0() {
    require_root();
    let mut reg = TestRegistry::start_gated_with(&[("KREG_GATE_DRAIN_TIMEOUT", "20")]);
    // An idle keep-alive connection (one request answered) and a request in flight: an upload
    // whose body is still coming when SIGTERM arrives.
    let mut idle = tls(&reg);
    idle.write_all(request(&reg, "GET", "/v2/", "").as_bytes())
        .unwrap();
    let mut first = [0u8; 15];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200 OK");
    let body = b"kreg gate drain test";
    let digest = format!("sha256:{:x}", sha2::Sha256::digest(body));
    let mut upload = tls(&reg);
    let location = start_upload(&reg, &mut upload, "team/drain");
    let put = finish_upload(&reg, &location, &digest, body.len());
    upload.write_all(put.as_bytes()).unwrap();
    upload.write_all(&body[..5]).unwrap();
    upload.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let pid = reg.gate().id() as i32;
    // SAFETY: kill(2) on the gate process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    std::thread::sleep(Duration::from_millis(500));
    // No new connection is accepted.
    assert!(
        TcpStream::connect(("127.0.0.1", reg.port)).is_err(),
        "the gate accepted a connection after SIGTERM"
    );
    // The idle connection is closed; the upload in flight completes.
    assert!(closed_by_gate(&mut idle), "the idle connection was kept");
    upload.write_all(&body[5..]).unwrap();
    upload.flush().unwrap();
    let mut answer = String::new();
    let _ = upload.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 201 Created"),
        "the upload in flight was cut: {answer}\n{}",
        reg.log()
    );
    let status = reg.gate().wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", reg.log());
    let log = reg.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("all connections ended"), "{log}");
}

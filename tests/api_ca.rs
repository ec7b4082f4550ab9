//! Bring your own CA (`kreg up --ca-secret`) on the API tier: every way a Secret can fail to be
//! a usable CA is refused before anything is applied; a good one (made by OpenSSL, not by kreg)
//! signs the serving certificate without its key going anywhere; a later `up` keeps it and
//! never switches the CA of an installed registry by accident; `down --purge` leaves it.
//! `up --no-wait` stops before the rollout (no node here); tests/node_ca.rs pulls through nodes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use support::kreg::{api_tier_up, kreg, kreg_json, purge};
use support::{require, text, TestCluster, Tier};

/// A CA the way a user makes one with OpenSSL: `(certificate, key)` PEM. `ext` are the
/// certificate's `-addext` extensions.
fn openssl_ca(dir: &Path, name: &str, curve: &str, ext: &[&str]) -> (String, String) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let mut cmd = Command::new("openssl");
    cmd.args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg(format!("ec_paramgen_curve:{curve}"))
        .args(["-nodes", "-days", "365", "-subj"])
        .arg(format!("/CN={name}/O=Example Corp"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt);
    for e in ext {
        cmd.args(["-addext", e]);
    }
    let out = cmd.output().expect("openssl runs");
    assert!(out.status.success(), "openssl: {}", text(&out.stderr));
    (
        std::fs::read_to_string(crt).unwrap(),
        std::fs::read_to_string(key).unwrap(),
    )
}

pub const CA_EXT: &[&str] = &[
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
];

/// An expired CA (OpenSSL 3.0's `req` cannot backdate): made with rcgen, as a user's tool might.
fn expired_ca() -> (String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, "Expired CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(60);
    p.not_after = now - time::Duration::days(1);
    (p.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

/// A Secret's keys and values.
type Data<'a> = Vec<(&'a str, &'a str)>;

/// Creates or replaces Secret `name` of `type_` with `data` (as given: kubectl's own `create
/// secret tls` would refuse some of the broken pairs this file needs).
fn put_secret(
    tc: &TestCluster,
    dir: &Path,
    ns: &str,
    name: &str,
    type_: &str,
    data: &[(&str, &str)],
) {
    let string_data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let doc = json!({
        "apiVersion": "v1", "kind": "Secret", "type": type_,
        "metadata": {"name": name, "namespace": ns},
        "stringData": string_data,
    });
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, doc.to_string()).unwrap();
    let _ = tc.kubectl(&["-n", ns, "delete", "secret", name, "--ignore-not-found"]);
    tc.kubectl_ok(&["create", "-f", file.to_str().unwrap()]);
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kreg-api-ca-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn exists(tc: &TestCluster, ns: &str, what: &str) -> bool {
    tc.kubectl(&["-n", ns, "get", what]).status.success()
}

/// `uid/resourceVersion` of a Secret: unchanged means kreg neither wrote nor re-created it.
fn identity(tc: &TestCluster, ns: &str, name: &str) -> String {
    tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "secret",
        name,
        "-o",
        "jsonpath={.metadata.uid}/{.metadata.resourceVersion}",
    ])
}

/// A refused `up`: exit 2, the message and a hint, and nothing of kreg's in the namespace.
fn refused(tc: &TestCluster, ns: &str, extra: &[&str], why: &str) -> String {
    let out = kreg(tc, &api_tier_up(ns, "60s", extra));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{why}: {err}");
    assert!(err.contains(why), "expected {why:?} in:\n{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    err
}

#[test]
fn a_secret_that_is_not_a_usable_ca_is_refused_before_anything_is_applied() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-ca-bad";
    purge(&tc, ns);
    let dir = tmpdir("bad");
    tc.kubectl_ok(&["create", "namespace", ns]);
    let (ca, ca_key) = openssl_ca(&dir, "good", "P-256", CA_EXT);
    let (_, other_key) = openssl_ca(&dir, "other", "P-256", CA_EXT);
    let (leaf, leaf_key) = openssl_ca(
        &dir,
        "leaf",
        "P-256",
        &["basicConstraints=critical,CA:FALSE"],
    );
    let (no_sign, no_sign_key) = openssl_ca(
        &dir,
        "nosign",
        "P-256",
        &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,digitalSignature",
        ],
    );
    let (p521, p521_key) = openssl_ca(&dir, "p521", "P-521", CA_EXT);
    let (old, old_key) = expired_ca();
    let tls = "kubernetes.io/tls";
    let flag = ["--ca-secret", "user-ca"];

    refused(&tc, ns, &flag, "Secret user-ca does not exist");
    let cases: Vec<(&str, Data, &str)> = vec![
        (
            "Opaque",
            vec![("tls.crt", &ca), ("tls.key", &ca_key)],
            "not kubernetes.io/tls",
        ),
        (
            tls,
            vec![("tls.crt", &leaf), ("tls.key", &leaf_key)],
            "not a CA certificate",
        ),
        (
            tls,
            vec![("tls.crt", &no_sign), ("tls.key", &no_sign_key)],
            "lacks keyCertSign",
        ),
        (
            tls,
            vec![("tls.crt", &ca), ("tls.key", &other_key)],
            "does not belong",
        ),
        (
            tls,
            vec![("tls.crt", &old), ("tls.key", &old_key)],
            "expired on",
        ),
        (
            tls,
            vec![("tls.crt", &p521), ("tls.key", &p521_key)],
            "of a supported type",
        ),
        (
            tls,
            vec![("tls.crt", ""), ("tls.key", &ca_key)],
            "has no tls.crt",
        ),
    ];
    for (type_, data, why) in &cases {
        put_secret(&tc, &dir, ns, "user-ca", type_, data);
        let before = identity(&tc, ns, "user-ca");
        let err = refused(&tc, ns, &flag, why);
        // The key is never shown, whatever went wrong.
        for key in [
            &ca_key,
            &other_key,
            &leaf_key,
            &no_sign_key,
            &p521_key,
            &old_key,
        ] {
            let body = key.lines().nth(1).unwrap();
            assert!(!err.contains(body), "key material in the error:\n{err}");
        }
        assert_eq!(
            identity(&tc, ns, "user-ca"),
            before,
            "{why}: the Secret was written"
        );
        for what in [
            "service/kreg-registry",
            "pvc/kreg-registry-data",
            "secret/kreg-http-secret",
            "deployment/kreg-registry",
            "configmap/kreg-state",
            "secret/kreg-ca",
            "secret/kreg-tls",
        ] {
            assert!(!exists(&tc, ns, what), "{why}: {what} was applied");
        }
    }
    // A chain or another namespace's Secret: said, not guessed.
    put_secret(
        &tc,
        &dir,
        ns,
        "user-ca",
        tls,
        &[("tls.crt", &format!("{ca}{leaf}")), ("tls.key", &ca_key)],
    );
    refused(&tc, ns, &flag, "2 certificates");
    let out = kreg(
        &tc,
        &api_tier_up(ns, "60s", &["--ca-secret", "other/user-ca"]),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("only from its own namespace"),
        "{}",
        text(&out.stderr)
    );
    purge(&tc, ns);
}

#[test]
fn the_users_ca_signs_is_kept_and_is_never_switched_or_deleted_by_accident() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-ca-own";
    purge(&tc, ns);
    let dir = tmpdir("own");
    tc.kubectl_ok(&["create", "namespace", ns]);
    let (ca, ca_key) = openssl_ca(&dir, "corp", "P-256", CA_EXT);
    put_secret(
        &tc,
        &dir,
        ns,
        "corp-ca",
        "kubernetes.io/tls",
        &[("tls.crt", &ca), ("tls.key", &ca_key)],
    );
    let theirs = identity(&tc, ns, "corp-ca");

    let first = kreg_json(&tc, &api_tier_up(ns, "60s", &["--ca-secret", "corp-ca"]));
    let ca_sha = kreg::pki::cert_sha256(&ca).unwrap();
    assert_eq!(first["ca_sha256"], ca_sha.as_str());
    assert_eq!(first["ca_secret"], "corp-ca");
    assert_eq!(
        kreg::pki::cert_sha256(first["ca_pem"].as_str().unwrap()).unwrap(),
        ca_sha
    );
    assert!(!first["ca_pem"].as_str().unwrap().contains("PRIVATE KEY"));
    // The serving certificate chains to the user's CA; its Secret holds its own key, never the CA's.
    let leaf = tc.secret_text(ns, "kreg-tls", "tls.crt");
    kreg::pki::verify_signed_by(&leaf, &ca).unwrap();
    let leaf_key = tc.secret_text(ns, "kreg-tls", "tls.key");
    kreg::pki::key_matches(&leaf, &leaf_key).unwrap();
    let ca_body: String = ca_key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!leaf_key.replace('\n', "").contains(&ca_body));
    // Nothing else holds the CA's key: no CA of kreg's own was made, and no Secret or
    // ConfigMap kreg wrote contains it.
    assert!(
        !exists(&tc, ns, "secret/kreg-ca"),
        "kreg made its own CA as well"
    );
    let everything = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "secret,configmap",
        "-l",
        "app.kubernetes.io/managed-by=kreg",
        "-o",
        "json",
    ]);
    let decoded: String = serde_json::from_str::<Value>(&everything).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            let secret = i["kind"] == "Secret";
            let data = i["data"].as_object().cloned().unwrap_or_default();
            data.into_iter().map(move |(_, v)| {
                let v = v.as_str().unwrap_or_default().to_string();
                match secret {
                    true => String::from_utf8_lossy(&support::b64decode(&v)).into_owned(),
                    false => v,
                }
            })
        })
        .collect();
    assert!(
        !decoded.replace('\n', "").contains(&ca_body),
        "the CA's key was copied"
    );
    assert_eq!(
        identity(&tc, ns, "corp-ca"),
        theirs,
        "kreg wrote the user's Secret"
    );
    let record = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "configmap",
        "kreg-state",
        "-o",
        "jsonpath={.data.state\\.json}",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&record).unwrap()["caSecret"],
        "corp-ca"
    );

    // A plain `up` keeps the user's CA (never falls back to one of kreg's own).
    let again = kreg_json(&tc, &api_tier_up(ns, "60s", &[]));
    assert_eq!(again["ca_sha256"], ca_sha.as_str());
    assert_eq!(again["ca_secret"], "corp-ca");
    assert!(!exists(&tc, ns, "secret/kreg-ca"));
    // (`status` exits 1 here: no node runs the registry on this tier.)
    let out = kreg(&tc, &["status", "-n", ns, "-o", "json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["ca_secret"], "corp-ca");

    // Switching the CA of the installed registry: refused, whichever way, nothing changed.
    let serving = identity(&tc, ns, "kreg-tls");
    refused(&tc, ns, &["--no-ca-secret"], "not supported yet");
    refused(
        &tc,
        ns,
        &["--no-ca-secret", "--rotate-ca"],
        "not supported yet",
    );
    let (ca2, ca2_key) = openssl_ca(&dir, "corp2", "P-256", CA_EXT);
    put_secret(
        &tc,
        &dir,
        ns,
        "corp-ca-2",
        "kubernetes.io/tls",
        &[("tls.crt", &ca2), ("tls.key", &ca2_key)],
    );
    refused(&tc, ns, &["--ca-secret", "corp-ca-2"], "needs --rotate-ca");
    refused(
        &tc,
        ns,
        &["--rotate-ca"],
        "--rotate-ca replaces kreg's own CA",
    );
    // Another CA put into the same Secret: refused too (nodes trust only the old one).
    put_secret(
        &tc,
        &dir,
        ns,
        "corp-ca",
        "kubernetes.io/tls",
        &[("tls.crt", &ca2), ("tls.key", &ca2_key)],
    );
    refused(&tc, ns, &[], "now holds another CA");
    assert_eq!(
        identity(&tc, ns, "kreg-tls"),
        serving,
        "the serving certificate changed"
    );
    assert!(!exists(&tc, ns, "secret/kreg-ca"));
    put_secret(
        &tc,
        &dir,
        ns,
        "corp-ca",
        "kubernetes.io/tls",
        &[("tls.crt", &ca), ("tls.key", &ca_key)],
    );
    let theirs = identity(&tc, ns, "corp-ca");

    // down --purge removes what kreg made and leaves the user's CA as it was.
    let out = kreg(
        &tc,
        &[
            "down",
            "-n",
            ns,
            "--purge",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "60s",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let down: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        down["kept"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k.as_str().unwrap().starts_with("Secret/corp-ca ")),
        "{down}"
    );
    assert_eq!(
        identity(&tc, ns, "corp-ca"),
        theirs,
        "down --purge touched the user's CA"
    );
    assert!(!exists(&tc, ns, "secret/kreg-tls"));
    purge(&tc, ns);
}

#[test]
fn kreg_s_own_ca_moves_to_the_users_only_through_a_rotation() {
    let Some(tc) = require(Tier::Api) else { return };
    let ns = "kt-ca-switch";
    purge(&tc, ns);
    let dir = tmpdir("switch");
    let first = kreg_json(&tc, &api_tier_up(ns, "60s", &[]));
    assert!(first.get("ca_secret").is_none(), "{first}");
    let own = identity(&tc, ns, "kreg-ca");
    let own_pem = tc.secret_text(ns, "kreg-ca", "ca.crt");
    let (ca, ca_key) = openssl_ca(&dir, "corp", "P-256", CA_EXT);
    put_secret(
        &tc,
        &dir,
        ns,
        "corp-ca",
        "kubernetes.io/tls",
        &[("tls.crt", &ca), ("tls.key", &ca_key)],
    );
    let serving = identity(&tc, ns, "kreg-tls");
    let err = refused(
        &tc,
        ns,
        &["--ca-secret", "corp-ca"],
        "switching to your CA (Secret corp-ca) needs --rotate-ca",
    );
    assert!(err.contains("--ca-secret corp-ca --rotate-ca"), "{err}");
    assert_eq!(identity(&tc, ns, "kreg-ca"), own);
    assert_eq!(identity(&tc, ns, "kreg-tls"), serving);
    let certs = |pem: &str| pem.matches("BEGIN CERTIFICATE").count();
    let leaf = || tc.secret_text(ns, "kreg-tls", "tls.crt");

    // 1. Both CAs are handed out; the registry still serves under kreg's own; the user's key
    //    is not copied (kreg-ca-next holds its certificate only).
    let one = kreg_json(
        &tc,
        &api_tier_up(ns, "60s", &["--ca-secret", "corp-ca", "--rotate-ca"]),
    );
    assert!(
        one.get("ca_secret").is_none(),
        "still kreg's own CA signs: {one}"
    );
    let handed = one["ca_pem"].as_str().unwrap();
    assert_eq!(certs(handed), 2, "{handed}");
    assert!(kreg::pki::bundle_has_key_of(handed, &ca).unwrap());
    assert!(kreg::pki::bundle_has_key_of(handed, &own_pem).unwrap());
    kreg::pki::verify_signed_by(&leaf(), &own_pem).unwrap();
    assert_eq!(
        tc.secret_text(ns, "kreg-ca-next", "ca.crt").trim(),
        ca.trim()
    );
    let keys = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "secret",
        "kreg-ca-next",
        "-o",
        "jsonpath={.data}",
    ]);
    assert!(!keys.contains("key"), "kreg-ca-next holds a key: {keys}");
    let record = tc.kubectl_ok(&[
        "-n",
        ns,
        "get",
        "configmap",
        "kreg-state",
        "-o",
        "jsonpath={.data.state\\.json}",
    ]);
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["caSecretNext"], "corp-ca", "{record}");
    assert!(record.get("caSecret").is_none(), "{record}");

    // 2. Every node trusts both (`up` marks it after waiting; no nodes on this tier): the
    //    next pass switches the registry to the user's CA, keeping the old one trusted.
    tc.kubectl_ok(&[
        "-n",
        ns,
        "annotate",
        "secret",
        "kreg-ca-next",
        "kreg.dev/ca-distributed=true",
    ]);
    let two = kreg_json(&tc, &api_tier_up(ns, "60s", &["--ca-secret", "corp-ca"]));
    assert_eq!(two["ca_secret"], "corp-ca");
    assert_eq!(
        two["ca_sha256"],
        kreg::pki::cert_sha256(&ca).unwrap().as_str()
    );
    assert_eq!(certs(two["ca_pem"].as_str().unwrap()), 2);
    kreg::pki::verify_signed_by(&leaf(), &ca).unwrap();
    assert!(!exists(&tc, ns, "secret/kreg-ca-next"));
    assert_eq!(
        tc.secret_text(ns, "kreg-ca-previous", "ca.crt").trim(),
        own_pem.trim()
    );
    assert_eq!(
        identity(&tc, ns, "kreg-ca"),
        own,
        "kreg's own CA was rewritten"
    );

    // 3. The next `up` stops handing out kreg's own CA.
    let three = kreg_json(&tc, &api_tier_up(ns, "60s", &[]));
    assert_eq!(three["ca_secret"], "corp-ca");
    let handed = three["ca_pem"].as_str().unwrap();
    assert_eq!(certs(handed), 1);
    assert_eq!(
        kreg::pki::cert_sha256(handed).unwrap(),
        kreg::pki::cert_sha256(&ca).unwrap()
    );
    assert!(!exists(&tc, ns, "secret/kreg-ca-previous"));

    // down --purge: kreg's own CA (kreg made it) goes; the user's stays, and so does the
    // namespace kreg created, which deleting would take the user's CA with it.
    let corp = identity(&tc, ns, "corp-ca");
    let out = kreg(
        &tc,
        &[
            "down",
            "-n",
            ns,
            "--purge",
            "--yes",
            "-o",
            "json",
            "--timeout",
            "60s",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let down: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!exists(&tc, ns, "secret/kreg-ca"), "kreg's own CA was kept");
    assert_eq!(
        identity(&tc, ns, "corp-ca"),
        corp,
        "down --purge touched the user's CA"
    );
    let kept: Vec<&str> = down["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(
        kept.contains(&format!("Namespace/{ns} (it holds your CA, Secret corp-ca)").as_str()),
        "{kept:?}"
    );
    purge(&tc, ns);
}

//! The registry's PKI: generating the CA, issuing the registry's serving certificate from it,
//! and the checks kreg runs on certificates it finds in the cluster (what a certificate covers,
//! who signed it, whether a key belongs to it).
//!
//! Everything is pure: PEM strings in, PEM strings or facts out; `now` is always passed in so
//! tests are deterministic. Key material never appears in an error message or a `Debug` output.

use std::fmt;
use std::net::IpAddr;

use anyhow::{anyhow, bail, Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType, PKCS_ECDSA_P256_SHA256,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

/// The CA's common name, shown by `openssl x509 -text` and OS trust-store UIs.
pub(crate) const CA_COMMON_NAME: &str = "kreg registry CA";
/// The CA's organisation.
pub(crate) const CA_ORGANIZATION: &str = "kreg";

/// How long a new CA is valid. Long, because every node and workstation trusts it and
/// replacing it means re-trusting everywhere.
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long a serving certificate is valid. Short enough to limit a leaked key's use, long
/// enough that `kreg up` (which re-issues when less than a margin remains) is rarely needed.
const LEAF_VALIDITY: Duration = Duration::days(365);
/// Certificates start this long before `now`, so nodes whose clocks lag the workstation's do
/// not reject a brand-new certificate as "not yet valid".
const BACKDATE: Duration = Duration::hours(1);

/// A certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPairPem {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for KeyPairPem {
    // Hand-written so that a `{:?}` in a log line or a panic message never leaks the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The names a kreg CA may sign for: its X.509 name constraints. A leaked CA key then cannot
/// sign for any other site (browsers, Go, rustls and OpenSSL all enforce them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaScope {
    /// DNS subtrees: each name and every name below it.
    pub dns: Vec<String>,
    /// IP ranges (address, prefix length).
    pub ips: Vec<(IpAddr, u8)>,
}

/// The private and local address ranges every kreg CA permits: where cluster, node, LoadBalancer
/// and ClusterIP addresses live on every flavour kreg knows (RFC 1918, CGNAT's 100.64/10 which
/// some LoadBalancers and VPNs use, loopback, link-local, IPv6 unique-local and loopback).
pub(crate) const PRIVATE_RANGES: &[(&str, u8)] = &[
    ("10.0.0.0", 8),
    ("172.16.0.0", 12),
    ("192.168.0.0", 16),
    ("100.64.0.0", 10),
    ("127.0.0.0", 8),
    ("169.254.0.0", 16),
    ("fc00::", 7),
    ("::1", 128),
];

/// The scope of a new CA: the DNS suffix of kreg's wildcard names (`nip.io`, `sslip.io` or
/// `--dns-suffix`), the `--host` (or the load balancer's hostname) when it is a name, the
/// namespace's Service names (`<namespace>.svc`, the pull-through caches' certificates) and
/// `localhost`; the private ranges, plus each address in `ips` that is not in them (a public
/// load balancer's) as a single address.
pub fn ca_scope(
    dns_suffix: Option<&str>,
    host: Option<&str>,
    namespace: &str,
    ips: &[IpAddr],
) -> CaScope {
    // No suffix (`--dns-suffix none` names the registry by IP): no DNS subtree for it.
    let mut dns: Vec<String> = dns_suffix
        .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
        .into_iter()
        .collect();
    if let Some(h) = host.filter(|h| h.parse::<IpAddr>().is_err()) {
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        if !dns.iter().any(|d| dns_in_subtree(&h, d)) {
            dns.push(h);
        }
    }
    dns.push(format!("{namespace}.svc"));
    dns.push("localhost".into());
    let mut ranges: Vec<(IpAddr, u8)> = PRIVATE_RANGES
        .iter()
        .map(|(a, p)| (a.parse().expect("constant ranges parse"), *p))
        .collect();
    let mut extra: Vec<IpAddr> = host.and_then(|h| h.parse().ok()).into_iter().collect();
    extra.extend_from_slice(ips);
    for ip in extra {
        if !ranges.iter().any(|(net, p)| ip_in_range(ip, *net, *p)) {
            ranges.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
        }
    }
    CaScope { dns, ips: ranges }
}

/// Generates a new CA: ECDSA P-256, valid 10 years from `now` (backdated an hour for clock
/// skew), CN "kreg registry CA", O "kreg", CA:true with pathlen 0 (it signs only leaves),
/// keyUsage keyCertSign + cRLSign + digitalSignature, and name constraints permitting only
/// `scope` (critical, as RFC 5280 asks).
pub fn generate_ca(now: OffsetDateTime, scope: &CaScope) -> Result<KeyPairPem> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| anyhow!("could not generate the CA key: {e}"))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, CA_ORGANIZATION);
    params.distinguished_name = dn;
    params.not_before = now - BACKDATE;
    params.not_after = now + CA_VALIDITY;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let mut permitted: Vec<GeneralSubtree> = scope
        .dns
        .iter()
        .map(|d| GeneralSubtree::DnsName(d.clone()))
        .collect();
    permitted.extend(
        scope
            .ips
            .iter()
            .map(|(ip, p)| GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(*ip, *p))),
    );
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: vec![],
    });
    let cert = params
        .self_signed(&key)
        .map_err(|e| anyhow!("could not self-sign the CA certificate: {e}"))?;
    Ok(KeyPairPem {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Issues the registry's serving certificate from `ca`: ECDSA P-256, valid one year from `now`
/// (never past the CA's own expiry), CN = `host`, a DNS SAN for `host` when it is a name, an IP
/// SAN for `host` when it is an IP literal and for every address in `ips`, EKU serverAuth and
/// keyUsage digitalSignature.
///
/// `ca` may be one kreg generated or one loaded from the cluster; its two halves are checked to
/// belong together first, so a Secret with a mismatched key fails here with a clear message
/// instead of producing a certificate nobody can verify.
pub fn issue_leaf(
    ca: &KeyPairPem,
    host: &str,
    ips: &[IpAddr],
    now: OffsetDateTime,
) -> Result<KeyPairPem> {
    crate::validate::host(host)?;
    let ca_info = inspect(&ca.cert_pem).context("the CA certificate is unusable")?;
    if !ca_info.is_ca {
        bail!("the CA certificate is not a CA certificate (basicConstraints CA:true is missing)");
    }
    if ca_info.not_after <= now {
        bail!(
            "the CA certificate expired on {}; replace it with `kreg up --rotate-ca`",
            ca_info.not_after.date()
        );
    }
    key_matches(&ca.cert_pem, &ca.key_pem)
        .context("the CA certificate and key do not belong together")?;
    scope_permits(ca_scope_of(&ca.cert_pem)?.as_ref(), host, ips).map_err(|e| {
        crate::error::hint(
            format!("kreg's CA cannot sign a certificate for this registry: {e}"),
            "add --rotate-ca to this command to replace the CA with one made for these names and addresses (it signs at once; \
then run `kreg trust-local` again on each workstation); with --ca-secret, use a CA whose name constraints permit them",
        )
    })?;
    let ca_key = load_key(&ca.key_pem, "the CA")?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key)
        .map_err(|e| anyhow!("could not use the CA certificate to sign: {e}"))?;

    let mut sans = Vec::new();
    let mut ip_sans: Vec<IpAddr> = Vec::new();
    match host.parse::<IpAddr>() {
        Ok(ip) => ip_sans.push(ip),
        Err(_) => sans
            .push(SanType::DnsName(host.try_into().map_err(|e| {
                anyhow!("{host:?} cannot be a certificate name: {e}")
            })?)),
    }
    for ip in ips {
        if !ip_sans.contains(ip) {
            ip_sans.push(*ip);
        }
    }
    sans.extend(ip_sans.into_iter().map(SanType::IpAddress));

    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, host);
    params.distinguished_name = dn;
    params.subject_alt_names = sans;
    params.not_before = now - BACKDATE;
    // A leaf outliving its CA would be rejected by verifiers anyway; clamping keeps the
    // expiry kreg reports honest.
    params.not_after = (now + LEAF_VALIDITY).min(ca_info.not_after);
    params.is_ca = IsCa::ExplicitNoCa;
    // ECDSA keys cannot encipher keys, so keyEncipherment would be meaningless here.
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Lets clients with several kreg CAs (after a rotation) find the right issuer quickly.
    params.use_authority_key_identifier_extension = true;

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| anyhow!("could not generate the registry key: {e}"))?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| anyhow!("could not sign the registry certificate: {e}"))?;
    Ok(KeyPairPem {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Parses a private key without ever echoing it: rcgen's errors are generic, but the message
/// here is ours so that stays true whatever rcgen does later.
fn load_key(key_pem: &str, whose: &str) -> Result<KeyPair> {
    KeyPair::from_pem(key_pem).map_err(|_| {
        anyhow!(
            "{whose} private key is not an unencrypted PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----) \
of a supported type (ECDSA P-256/P-384, Ed25519, RSA); convert one with \
`openssl pkcs8 -topk8 -nocrypt -in key.pem`"
        )
    })
}

/// The DER of the first CERTIFICATE block in `pem` (other blocks, such as a key pasted in
/// the same file, are skipped).
fn first_cert_der(pem: &str) -> Result<Vec<u8>> {
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| anyhow!("malformed PEM: {e}"))?;
        if block.label == "CERTIFICATE" {
            return Ok(block.contents);
        }
    }
    bail!("no certificate found (expected a -----BEGIN CERTIFICATE----- block)")
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| anyhow!("not a valid X.509 certificate: {e}"))?;
    Ok(cert)
}

/// Lowercase hex SHA-256 of the first certificate's DER in `pem`: the fingerprint kreg shows
/// and compares (the same one `openssl x509 -fingerprint -sha256` prints, without colons).
pub fn cert_sha256(pem: &str) -> Result<String> {
    let der = first_cert_der(pem)?;
    // Parsed only to refuse a corrupt block: a fingerprint of garbage would look legitimate.
    parse_cert(&der)?;
    let digest = Sha256::digest(&der);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// What kreg needs to know about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub dns_names: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub is_ca: bool,
    pub subject_cn: Option<String>,
}

/// Reads the validity, SANs, CA flag and subject CN of the first certificate in `pem`.
pub fn inspect(pem: &str) -> Result<CertInfo> {
    let der = first_cert_der(pem)?;
    let cert = parse_cert(&der)?;
    let mut dns_names = Vec::new();
    let mut ips = Vec::new();
    let san = cert
        .subject_alternative_name()
        .map_err(|e| anyhow!("unreadable subjectAltName extension: {e}"))?;
    if let Some(san) = san {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns_names.push((*n).to_string()),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_from_bytes(b) {
                        ips.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    let is_ca = cert
        .basic_constraints()
        .map_err(|e| anyhow!("unreadable basicConstraints extension: {e}"))?
        .is_some_and(|bc| bc.value.ca);
    let subject_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    Ok(CertInfo {
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        dns_names,
        ips,
        is_ca,
        subject_cn,
    })
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// True when the certificate is valid now and still will be `min_remaining` from now, and its
/// SANs cover `host` and every address in `ips`. Used to decide whether `kreg up` can keep
/// the serving certificate or must issue a new one.
///
/// The names are matched by rustls's webpki, as TLS clients match them (the CN is ignored, as
/// TLS clients, Go's included, have ignored it for years).
pub fn leaf_covers(
    leaf_pem: &str,
    host: &str,
    ips: &[IpAddr],
    now: OffsetDateTime,
    min_remaining: Duration,
) -> bool {
    let Ok(info) = inspect(leaf_pem) else {
        return false;
    };
    if now < info.not_before || now + min_remaining >= info.not_after {
        return false;
    }
    let Ok(der) = first_cert_der(leaf_pem) else {
        return false;
    };
    let der = rustls_pki_types::CertificateDer::from(der);
    let Ok(leaf) = webpki::EndEntityCert::try_from(&der) else {
        return false;
    };
    std::iter::once(host.to_string())
        .chain(ips.iter().map(IpAddr::to_string))
        .all(|name| {
            rustls_pki_types::ServerName::try_from(name.as_str())
                .is_ok_and(|n| leaf.verify_is_valid_for_subject_name(&n).is_ok())
        })
}

/// Checks that `leaf_pem` was issued by `ca_pem` and is a serving certificate a TLS client
/// that trusts that CA accepts: rustls's webpki verifies the signature, the serverAuth usage
/// and the CA's name constraints (the validity period is [`leaf_covers`]'s). The issuer name is compared first only
/// for a clearer message.
pub fn verify_signed_by(leaf_pem: &str, ca_pem: &str) -> Result<()> {
    let leaf_der = first_cert_der(leaf_pem).context("the registry certificate")?;
    let ca_der = first_cert_der(ca_pem).context("the CA certificate")?;
    {
        let leaf = parse_cert(&leaf_der).context("the registry certificate")?;
        let ca = parse_cert(&ca_der).context("the CA certificate")?;
        if leaf.issuer().as_raw() != ca.subject().as_raw() {
            bail!(
                "the registry certificate was issued by \"{}\", not by this CA (\"{}\")",
                leaf.issuer(),
                ca.subject()
            );
        }
    }
    let (leaf_der, ca_der) = (
        rustls_pki_types::CertificateDer::from(leaf_der),
        rustls_pki_types::CertificateDer::from(ca_der),
    );
    let anchor = webpki::anchor_from_trusted_cert(&ca_der)
        .map_err(|e| anyhow!("the CA certificate cannot be a trust anchor: {e}"))?;
    let leaf = webpki::EndEntityCert::try_from(&leaf_der)
        .map_err(|e| anyhow!("the registry certificate is unusable: {e}"))?;
    // Issued-by is a question about the signature, not the clock ([`leaf_covers`] checks
    // the time): verified at the moment the leaf became valid.
    let issued = inspect(leaf_pem)?.not_before.unix_timestamp();
    let at = rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(issued).unwrap_or(0),
    ));
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        at,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey => anyhow!(
            "the registry certificate's signature does not verify with the CA's key ({e:?}); \
it was signed by another CA with the same name"
        ),
        e => anyhow!("a TLS client would refuse the registry certificate: {e:?}"),
    })
}

/// Checks that `key_pem` is the private key for `cert_pem`, by comparing the public key
/// derived from the private key with the certificate's SubjectPublicKeyInfo.
pub fn key_matches(cert_pem: &str, key_pem: &str) -> Result<()> {
    let der = first_cert_der(cert_pem)?;
    let cert = parse_cert(&der)?;
    let key = load_key(key_pem, "the")?;
    use rcgen::PublicKeyData;
    if key.subject_public_key_info() != cert.public_key().raw {
        bail!(
            "the private key does not belong to the certificate (CN {:?}); the two halves come \
from different key pairs",
            cert.subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .unwrap_or("")
        );
    }
    Ok(())
}

/// Whether the first certificates of `a` and `b` carry the same public key (one CA, renewed).
pub(crate) fn same_public_key(a: &str, b: &str) -> Result<bool> {
    let (a, b) = (first_cert_der(a)?, first_cert_der(b)?);
    let (a, b) = (parse_cert(&a)?, parse_cert(&b)?);
    Ok(a.public_key().raw == b.public_key().raw)
}

/// Whether any certificate of `bundle` carries the public key of `pem`'s first certificate.
pub fn bundle_has_key_of(bundle: &str, pem: &str) -> Result<bool> {
    let want = first_cert_der(pem)?;
    let want = parse_cert(&want)?;
    for block in Pem::iter_from_buffer(bundle.as_bytes()) {
        let block = block.map_err(|e| anyhow!("malformed PEM: {e}"))?;
        if block.label == "CERTIFICATE"
            && parse_cert(&block.contents)?.public_key().raw == want.public_key().raw
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// RFC 5280 DNS subtree matching: `name` equals `base` or ends in `.base` (case-insensitive).
fn dns_in_subtree(name: &str, base: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let base = base
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    base.is_empty() || name == base || name.ends_with(&format!(".{base}"))
}

fn ip_in_range(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The CA's name constraints, or None for a CA without them (made by kreg before 0.x, or
/// brought by the user).
pub fn ca_scope_of(ca_pem: &str) -> Result<Option<CaScope>> {
    let der = first_cert_der(ca_pem)?;
    let cert = parse_cert(&der)?;
    let nc = cert
        .name_constraints()
        .map_err(|e| anyhow!("unreadable nameConstraints extension: {e}"))?;
    let Some(nc) = nc else { return Ok(None) };
    let mut scope = CaScope {
        dns: vec![],
        ips: vec![],
    };
    for sub in nc.value.permitted_subtrees.iter().flatten() {
        match &sub.base {
            GeneralName::DNSName(d) => scope.dns.push(d.to_string()),
            GeneralName::IPAddress(b) if b.len() == 8 || b.len() == 32 => {
                let (addr, mask) = b.split_at(b.len() / 2);
                if let Some(ip) = ip_from_bytes(addr) {
                    let prefix = mask.iter().map(|m| m.count_ones()).sum::<u32>() as u8;
                    scope.ips.push((ip, prefix));
                }
            }
            _ => {}
        }
    }
    Ok(Some(scope))
}

/// Checks that a CA with `scope` may sign for `host` and `ips`, as TLS clients will check it: a
/// leaf it signed for anything else would be refused everywhere. None (an unconstrained CA)
/// permits everything.
pub(crate) fn scope_permits(scope: Option<&CaScope>, host: &str, ips: &[IpAddr]) -> Result<()> {
    let Some(scope) = scope else { return Ok(()) };
    let mut all: Vec<IpAddr> = ips.to_vec();
    match host.parse::<IpAddr>() {
        Ok(ip) => all.push(ip),
        Err(_) => {
            if !scope.dns.iter().any(|d| dns_in_subtree(host, d)) {
                bail!(
                    "the CA may only sign for names under {}, not {host}",
                    scope.dns.join(", ")
                );
            }
        }
    }
    for ip in all {
        if !scope.ips.iter().any(|(net, p)| ip_in_range(ip, *net, *p)) {
            bail!("the CA may not sign for address {ip} (outside the ranges it was made for)");
        }
    }
    Ok(())
}

/// Checks a CA the user brings (`up --ca-secret`: the `tls.crt` and `tls.key` of a
/// `kubernetes.io/tls` Secret) before kreg signs with it: `tls.crt` holds exactly one
/// certificate (no chain, no key), a CA certificate (basicConstraints CA:true; a keyUsage
/// extension, when present, allows keyCertSign), valid at `now`; `tls.key` is a key type kreg
/// can sign with and belongs to that certificate. Returns the certificate re-encoded (what
/// nodes and workstations get to trust: nothing but the certificate). Messages never quote
/// the key.
pub(crate) fn check_user_ca(ca: &KeyPairPem, now: OffsetDateTime) -> Result<String> {
    let mut certs = Vec::new();
    for block in Pem::iter_from_buffer(ca.cert_pem.as_bytes()) {
        let block = block.map_err(|e| anyhow!("tls.crt is not valid PEM: {e}"))?;
        if block.label != "CERTIFICATE" {
            bail!(
                "tls.crt holds a {} block; it must hold only the CA certificate",
                block.label
            );
        }
        certs.push(block);
    }
    let one = match certs.as_slice() {
        [one] => one,
        [] => bail!("tls.crt holds no certificate (expected a -----BEGIN CERTIFICATE----- block)"),
        more => bail!(
            "tls.crt holds {} certificates; kreg takes exactly one, the CA it signs with (a chain is not supported yet)",
            more.len()
        ),
    };
    let cert = parse_cert(&one.contents).context("tls.crt")?;
    let subject = cert.subject().to_string();
    let is_ca = cert
        .basic_constraints()
        .map_err(|e| anyhow!("tls.crt: unreadable basicConstraints extension: {e}"))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        bail!("the certificate \"{subject}\" is not a CA certificate (basicConstraints CA:true is missing)");
    }
    let ku = cert
        .key_usage()
        .map_err(|e| anyhow!("tls.crt: unreadable keyUsage extension: {e}"))?;
    if ku.is_some_and(|k| !k.value.key_cert_sign()) {
        bail!("the CA certificate \"{subject}\" may not sign certificates (its keyUsage lacks keyCertSign)");
    }
    let (from, until) = (
        cert.validity().not_before.to_datetime(),
        cert.validity().not_after.to_datetime(),
    );
    if now >= until {
        bail!(
            "the CA certificate \"{subject}\" expired on {}",
            until.date()
        );
    }
    if now < from {
        bail!("the CA certificate \"{subject}\" is not valid before {from}");
    }
    let pem = one_pem(one);
    load_key(&ca.key_pem, "tls.key: the")?;
    key_matches(&pem, &ca.key_pem).context("tls.key")?;
    Ok(pem)
}

/// Checks that `pem` (what the cluster's state hands out as kreg's CA) is only that: one or more
/// CERTIFICATE blocks and nothing else, each a CA certificate with kreg's subject (CN
/// "kreg registry CA", O "kreg"), valid at `now`, and, when it carries name constraints,
/// allowed to sign for `registry_host` (the registry the same state names). Returns each
/// certificate's SHA-256, in order. What `trust-local` installs must pass this.
///
/// `external`: the state says the CA is the user's (`up --ca-secret`), whose subject is theirs;
/// every other check holds.
pub fn check_kreg_ca(
    pem: &str,
    registry_host: &str,
    now: OffsetDateTime,
    external: bool,
) -> Result<Vec<String>> {
    let mut fingerprints = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| anyhow!("malformed PEM: {e}"))?;
        if block.label != "CERTIFICATE" {
            bail!(
                "it holds a {} block; kreg's CA is certificates only",
                block.label
            );
        }
        let cert = parse_cert(&block.contents)?;
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok());
        let org = cert
            .subject()
            .iter_organization()
            .next()
            .and_then(|c| c.as_str().ok());
        if !external && (cn != Some(CA_COMMON_NAME) || org != Some(CA_ORGANIZATION)) {
            bail!(
                "its certificate \"{}\" is not kreg's CA (CN={CA_COMMON_NAME:?}, O={CA_ORGANIZATION:?})",
                cert.subject()
            );
        }
        let is_ca = cert
            .basic_constraints()
            .map_err(|e| anyhow!("unreadable basicConstraints extension: {e}"))?
            .is_some_and(|bc| bc.value.ca);
        if !is_ca {
            bail!("its certificate is not a CA certificate (basicConstraints CA:true is missing)");
        }
        let (from, until) = (
            cert.validity().not_before.to_datetime(),
            cert.validity().not_after.to_datetime(),
        );
        if now < from || now >= until {
            bail!("its certificate is not valid now (valid {from} to {until})");
        }
        let one = Pem {
            label: block.label.clone(),
            contents: block.contents.clone(),
        };
        let single = one_pem(&one);
        scope_permits(ca_scope_of(&single)?.as_ref(), registry_host, &[])
            .with_context(|| format!("it cannot sign for the registry {registry_host}"))?;
        fingerprints.push(cert_sha256(&single)?);
    }
    if fingerprints.is_empty() {
        bail!("no certificate found (expected a -----BEGIN CERTIFICATE----- block)");
    }
    Ok(fingerprints)
}

fn one_pem(p: &Pem) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&p.contents);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Normalises a user-given fingerprint list (`--ca-sha256`): lowercase hex, colons and spaces
/// dropped, comma-separated. Refuses anything that is not 64 hex digits.
pub(crate) fn parse_fingerprints(s: &str) -> Result<Vec<String>> {
    s.split(',')
        .map(|f| {
            let hex: String = f
                .chars()
                .filter(|c| *c != ':' && !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                Ok(hex)
            } else {
                Err(anyhow!(
                    "{f:?} is not a SHA-256 fingerprint (64 hex digits, colons allowed)"
                ))
            }
        })
        .collect()
}

/// Lowercase hex SHA-256 of any bytes: change-detection annotations, file records.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};

    fn now() -> OffsetDateTime {
        // A fixed instant keeps the validity assertions exact.
        OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
    }

    fn scope() -> CaScope {
        ca_scope(Some("nip.io"), Some("reg.example.com"), "kreg-test", &[])
    }

    fn with_cert<T>(pem: &str, f: impl FnOnce(&X509Certificate<'_>) -> T) -> T {
        let der = first_cert_der(pem).unwrap();
        let cert = parse_cert(&der).unwrap();
        f(&cert)
    }

    #[test]
    fn ca_has_the_promised_fields() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let info = inspect(&ca.cert_pem).unwrap();
        assert!(info.is_ca);
        assert_eq!(info.subject_cn.as_deref(), Some("kreg registry CA"));
        let ten_years = info.not_after - now();
        assert!(
            (ten_years - Duration::days(3650)).abs() <= Duration::days(1),
            "validity {ten_years}"
        );
        assert!(info.not_before <= now());
        with_cert(&ca.cert_pem, |c| {
            let bc = c.basic_constraints().unwrap().unwrap().value;
            assert!(bc.ca);
            assert_eq!(bc.path_len_constraint, Some(0));
            let ku = c.key_usage().unwrap().unwrap().value;
            assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
            let org: Vec<_> = c
                .subject()
                .iter_organization()
                .map(|o| o.as_str().unwrap().to_string())
                .collect();
            assert_eq!(org, ["kreg"]);
            let spki = c.public_key();
            assert_eq!(spki.algorithm.algorithm, OID_KEY_TYPE_EC_PUBLIC_KEY);
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .unwrap()
                .as_oid()
                .unwrap();
            assert_eq!(curve, OID_EC_P256);
        });
        key_matches(&ca.cert_pem, &ca.key_pem).unwrap();
        // A CA is no serving certificate: TLS clients refuse it as one.
        assert!(verify_signed_by(&ca.cert_pem, &ca.cert_pem).is_err());
    }

    #[test]
    fn two_cas_differ() {
        let a = generate_ca(now(), &scope()).unwrap();
        let b = generate_ca(now(), &scope()).unwrap();
        assert_ne!(a.key_pem, b.key_pem);
        assert_ne!(
            cert_sha256(&a.cert_pem).unwrap(),
            cert_sha256(&b.cert_pem).unwrap()
        );
    }

    #[test]
    fn leaf_for_a_name() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
        let leaf = issue_leaf(&ca, "registry.10.0.0.5.nip.io", &[ip, ip], now()).unwrap();
        let info = inspect(&leaf.cert_pem).unwrap();
        assert!(!info.is_ca);
        assert_eq!(info.subject_cn.as_deref(), Some("registry.10.0.0.5.nip.io"));
        assert_eq!(info.dns_names, ["registry.10.0.0.5.nip.io"]);
        assert_eq!(info.ips, [ip], "duplicate IPs are written once");
        let year = info.not_after - now();
        assert!((year - Duration::days(365)).abs() <= Duration::days(1));
        with_cert(&leaf.cert_pem, |c| {
            let eku = c.extended_key_usage().unwrap().unwrap().value;
            assert!(eku.server_auth);
            assert!(!eku.client_auth);
            let ku = c.key_usage().unwrap().unwrap().value;
            assert!(ku.digital_signature());
            assert!(!ku.key_cert_sign());
            let bc = c.basic_constraints().unwrap().unwrap().value;
            assert!(!bc.ca);
        });
        key_matches(&leaf.cert_pem, &leaf.key_pem).unwrap();
        verify_signed_by(&leaf.cert_pem, &ca.cert_pem).unwrap();
    }

    #[test]
    fn leaf_for_an_ip_host() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
        let leaf = issue_leaf(&ca, "192.168.49.2", &[v6], now()).unwrap();
        let info = inspect(&leaf.cert_pem).unwrap();
        assert!(info.dns_names.is_empty(), "no DNS SAN for an IP host");
        assert_eq!(info.ips, [IpAddr::V4(Ipv4Addr::new(192, 168, 49, 2)), v6]);
        assert!(leaf_covers(
            &leaf.cert_pem,
            "192.168.49.2",
            &[v6],
            now(),
            Duration::days(30)
        ));
    }

    #[test]
    fn leaf_refuses_bad_hosts_and_bad_cas() {
        let ca = generate_ca(now(), &scope()).unwrap();
        assert!(issue_leaf(&ca, "a b", &[], now()).is_err());
        assert!(issue_leaf(&ca, "$(id)", &[], now()).is_err());

        // A leaf is not a CA.
        let leaf = issue_leaf(&ca, "reg.example.com", &[], now()).unwrap();
        let e = issue_leaf(&leaf, "reg.example.com", &[], now()).unwrap_err();
        assert!(format!("{e:#}").contains("not a CA"), "{e:#}");

        // Halves of two different CAs.
        let other = generate_ca(now(), &scope()).unwrap();
        let mixed = KeyPairPem {
            cert_pem: ca.cert_pem.clone(),
            key_pem: other.key_pem.clone(),
        };
        let e = issue_leaf(&mixed, "reg.example.com", &[], now()).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("do not belong together"), "{msg}");
        assert_no_key_material(&msg, &[&ca.key_pem, &other.key_pem]);

        // Expired CA.
        let later = now() + Duration::days(3651);
        let e = issue_leaf(&ca, "reg.example.com", &[], later).unwrap_err();
        assert!(format!("{e:#}").contains("expired"), "{e:#}");
    }

    #[test]
    fn leaf_never_outlives_its_ca() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let late = now() + Duration::days(3600);
        let leaf = issue_leaf(&ca, "reg.example.com", &[], late).unwrap();
        let leaf_end = inspect(&leaf.cert_pem).unwrap().not_after;
        let ca_end = inspect(&ca.cert_pem).unwrap().not_after;
        assert!(leaf_end <= ca_end, "leaf {leaf_end} > CA {ca_end}");
    }

    #[test]
    fn existing_ca_is_reused_from_pem() {
        // The round trip kreg does with a CA stored in a Secret: only the PEM strings survive.
        let ca = generate_ca(now(), &scope()).unwrap();
        let reloaded = KeyPairPem {
            cert_pem: ca.cert_pem.clone(),
            key_pem: ca.key_pem.clone(),
        };
        let leaf = issue_leaf(&reloaded, "reg.example.com", &[], now()).unwrap();
        verify_signed_by(&leaf.cert_pem, &ca.cert_pem).unwrap();
        with_cert(&leaf.cert_pem, |l| {
            with_cert(&ca.cert_pem, |c| {
                assert_eq!(l.issuer().as_raw(), c.subject().as_raw());
            })
        });
    }

    #[test]
    fn chain_fails_for_another_ca() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let other = generate_ca(now(), &scope()).unwrap();
        let leaf = issue_leaf(&ca, "reg.example.com", &[], now()).unwrap();
        // Same subject name, different key: only the signature check can tell.
        let e = verify_signed_by(&leaf.cert_pem, &other.cert_pem).unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        // Different subject name: caught by the issuer comparison.
        let e = verify_signed_by(&leaf.cert_pem, &leaf.cert_pem).unwrap_err();
        assert!(e.to_string().contains("not by this CA"), "{e}");
    }

    #[test]
    fn key_matches_rejects_the_wrong_key() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let leaf = issue_leaf(&ca, "reg.example.com", &[], now()).unwrap();
        let e = key_matches(&leaf.cert_pem, &ca.key_pem).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("does not belong"), "{msg}");
        assert_no_key_material(&msg, &[&ca.key_pem, &leaf.key_pem]);
        // Garbage where a key should be: the message must not echo it back.
        let e = key_matches(
            &ca.cert_pem,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("PKCS#8"), "{msg}");
        assert!(!msg.contains("c2VjcmV0"), "{msg}");
    }

    fn assert_no_key_material(msg: &str, keys: &[&str]) {
        for key in keys {
            for line in key.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!msg.contains(line), "key material in message: {msg}");
            }
        }
    }

    #[test]
    fn leaf_covers_negative_cases() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
        let other_ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 6));
        let leaf = issue_leaf(&ca, "reg.example.com", &[ip], now()).unwrap();
        let info = inspect(&leaf.cert_pem).unwrap();
        let info = (info, leaf.cert_pem.as_str());
        let margin = Duration::days(30);
        assert!(leaf_covers(info.1, "reg.example.com", &[ip], now(), margin));
        assert!(leaf_covers(info.1, "REG.example.com", &[], now(), margin));
        // Expires within the margin.
        let soon = info.0.not_after - Duration::days(10);
        assert!(!leaf_covers(info.1, "reg.example.com", &[ip], soon, margin));
        // Already expired.
        assert!(!leaf_covers(
            info.1,
            "reg.example.com",
            &[],
            info.0.not_after + Duration::days(1),
            margin
        ));
        // Not yet valid.
        assert!(!leaf_covers(
            info.1,
            "reg.example.com",
            &[],
            now() - Duration::days(1),
            margin
        ));
        // Wrong host, or a host the wildcard-free SAN does not cover.
        assert!(!leaf_covers(
            info.1,
            "other.example.com",
            &[ip],
            now(),
            margin
        ));
        assert!(!leaf_covers(
            info.1,
            "x.reg.example.com",
            &[ip],
            now(),
            margin
        ));
        // Missing IP, and an IP host not in the IP SANs.
        assert!(!leaf_covers(
            info.1,
            "reg.example.com",
            &[ip, other_ip],
            now(),
            margin
        ));
        assert!(!leaf_covers(info.1, "10.0.0.6", &[], now(), margin));
    }

    #[test]
    fn debug_redacts_the_key() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let shown = format!("{ca:?}");
        assert!(shown.contains("<redacted>"));
        assert!(shown.contains("BEGIN CERTIFICATE"));
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert_no_key_material(&shown, &[&ca.key_pem]);
    }

    #[test]
    fn sha256_is_stable_lowercase_hex() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let a = cert_sha256(&ca.cert_pem).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_eq!(a, cert_sha256(&ca.cert_pem).unwrap());
        // The first certificate counts, whatever precedes or follows it.
        let bundle = format!("{}{}", ca.key_pem, ca.cert_pem);
        assert_eq!(a, cert_sha256(&bundle).unwrap());
        let leaf = issue_leaf(&ca, "reg.example.com", &[], now()).unwrap();
        let chain = format!("{}{}", ca.cert_pem, leaf.cert_pem);
        assert_eq!(a, cert_sha256(&chain).unwrap());
        // Equals SHA-256 over the DER, computed independently of the PEM parser.
        use base64::Engine;
        let body: String = ca
            .cert_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let expect: String = Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(a, expect);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
        ] {
            assert!(cert_sha256(bad).is_err(), "{bad:?}");
            assert!(inspect(bad).is_err(), "{bad:?}");
            assert!(verify_signed_by(bad, bad).is_err(), "{bad:?}");
        }
    }

    /// A leaf for `names`, signed by `ca` without kreg's own checks (what someone holding a
    /// leaked CA key could make).
    fn forged_leaf(ca: &KeyPairPem, dns: &str, ip: Option<IpAddr>) -> String {
        let issuer =
            Issuer::from_ca_cert_pem(&ca.cert_pem, KeyPair::from_pem(&ca.key_pem).unwrap())
                .unwrap();
        let mut params = CertificateParams::new(vec![dns.to_string()]).unwrap();
        if let Some(ip) = ip {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
        params.not_before = now() - BACKDATE;
        params.not_after = now() + Duration::days(30);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        params.signed_by(&key, &issuer).unwrap().pem()
    }

    /// Verifies `leaf_pem` for `name` against `ca_pem` as a TLS client does (rustls's webpki:
    /// chain, validity, serverAuth, name constraints, the name).
    fn webpki_verify(leaf_pem: &str, ca_pem: &str, name: &str) -> Result<(), webpki::Error> {
        use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
        let ca_der = CertificateDer::from(first_cert_der(ca_pem).unwrap());
        let leaf_der = CertificateDer::from(first_cert_der(leaf_pem).unwrap());
        let anchor = webpki::anchor_from_trusted_cert(&ca_der).unwrap();
        let ee = webpki::EndEntityCert::try_from(&leaf_der)?;
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            now().unix_timestamp() as u64
        ));
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &[anchor],
            &[],
            at,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )?;
        ee.verify_is_valid_for_subject_name(&ServerName::try_from(name.to_string()).unwrap())
    }

    #[test]
    fn scope_covers_the_suffix_host_namespace_localhost_and_private_ranges() {
        let public = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        let s = ca_scope(
            Some("sslip.io"),
            Some("Reg.Example.com."),
            "team",
            &[public],
        );
        assert_eq!(
            s.dns,
            ["sslip.io", "reg.example.com", "team.svc", "localhost"]
        );
        assert!(s.ips.contains(&(public, 32)), "{s:?}");
        // A host under the suffix adds nothing; private addresses add nothing.
        let p = ca_scope(
            Some("nip.io"),
            Some("r.1.2.3.4.nip.io"),
            "ns",
            &["10.1.2.3".parse().unwrap()],
        );
        assert_eq!(p.dns, ["nip.io", "ns.svc", "localhost"]);
        assert_eq!(p.ips.len(), PRIVATE_RANGES.len());
        for (host, ips, ok) in [
            ("registry.10.1.2.3.nip.io", vec!["10.1.2.3"], true),
            ("kreg-mirror-docker-io.ns.svc", vec!["10.96.0.12"], true),
            ("localhost", vec![], true),
            ("192.168.49.2", vec!["fd00::1"], true),
            ("nip.io.evil.com", vec![], false),
            ("registry.10.1.2.3.nip.io", vec!["203.0.113.7"], false),
            ("github.com", vec![], false),
            ("8.8.8.8", vec![], false),
        ] {
            let ips: Vec<IpAddr> = ips.iter().map(|i| i.parse().unwrap()).collect();
            assert_eq!(
                scope_permits(Some(&p), host, &ips).is_ok(),
                ok,
                "{host} {ips:?}"
            );
        }
        assert!(
            scope_permits(None, "github.com", &[]).is_ok(),
            "unconstrained"
        );
    }

    #[test]
    fn the_ca_carries_its_scope_and_kreg_refuses_to_sign_outside_it() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let read = ca_scope_of(&ca.cert_pem).unwrap().unwrap();
        assert_eq!(read, scope());
        with_cert(&ca.cert_pem, |c| {
            assert!(c.name_constraints().unwrap().unwrap().critical);
        });
        let e = issue_leaf(&ca, "github.com", &[], now()).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("cannot sign") && msg.contains("github.com"),
            "{msg}"
        );
        let hint = crate::error::hint_of(&e).unwrap_or_default();
        assert!(hint.contains("--rotate-ca"), "{hint}");
        let public = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        assert!(issue_leaf(&ca, "registry.203.0.113.7.nip.io", &[public], now()).is_err());
    }

    #[test]
    fn a_leaf_for_another_site_signed_by_the_ca_fails_verification() {
        let ca = generate_ca(now(), &scope()).unwrap();
        // kreg's own leaves verify, by name and with their addresses.
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
        let ours = issue_leaf(&ca, "registry.10.0.0.5.nip.io", &[ip], now()).unwrap();
        webpki_verify(&ours.cert_pem, &ca.cert_pem, "registry.10.0.0.5.nip.io").unwrap();
        webpki_verify(&ours.cert_pem, &ca.cert_pem, "10.0.0.5").unwrap();
        let host = issue_leaf(&ca, "reg.example.com", &[], now()).unwrap();
        webpki_verify(&host.cert_pem, &ca.cert_pem, "reg.example.com").unwrap();
        let svc = issue_leaf(&ca, "kreg-mirror-docker-io.kreg-test.svc", &[ip], now()).unwrap();
        webpki_verify(
            &svc.cert_pem,
            &ca.cert_pem,
            "kreg-mirror-docker-io.kreg-test.svc",
        )
        .unwrap();
        // A stolen key signs for another site: every client refuses it.
        for (name, ip) in [
            ("github.com", None),
            ("example.com", None),
            ("nip.io.evil.com", None),
            (
                "registry.10.0.0.5.nip.io",
                Some(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8))),
            ),
        ] {
            let forged = forged_leaf(&ca, name, ip);
            let e = webpki_verify(&forged, &ca.cert_pem, name).unwrap_err();
            assert!(
                matches!(e, webpki::Error::NameConstraintViolation),
                "{name} {ip:?}: {e:?}"
            );
        }
        // The same forgery from a CA without constraints (kreg's before this change) verifies:
        // the constraints are what stops it.
        let old = generate_unconstrained_ca_for_test();
        let forged = forged_leaf(&old, "github.com", None);
        webpki_verify(&forged, &old.cert_pem, "github.com").unwrap();
        assert_eq!(ca_scope_of(&old.cert_pem).unwrap(), None);
    }

    fn generate_unconstrained_ca_for_test() -> KeyPairPem {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, CA_COMMON_NAME);
        dn.push(DnType::OrganizationName, CA_ORGANIZATION);
        params.distinguished_name = dn;
        params.not_before = now() - BACKDATE;
        params.not_after = now() + CA_VALIDITY;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        KeyPairPem {
            cert_pem: params.self_signed(&key).unwrap().pem(),
            key_pem: key.serialize_pem(),
        }
    }

    #[test]
    fn only_kreg_cas_pass_the_trust_local_check() {
        let ca = generate_ca(now(), &scope()).unwrap();
        let fp = check_kreg_ca(&ca.cert_pem, "registry.10.0.0.5.nip.io", now(), false).unwrap();
        assert_eq!(fp, [cert_sha256(&ca.cert_pem).unwrap()]);
        // A bundle (during a rotation): both, in order.
        let next = generate_ca(now(), &scope()).unwrap();
        let both = format!("{}{}", ca.cert_pem, next.cert_pem);
        let fps = check_kreg_ca(&both, "reg.example.com", now(), false).unwrap();
        assert_eq!(fps.len(), 2);
        assert_eq!(fps[1], cert_sha256(&next.cert_pem).unwrap());
        // A leaf, a key, another CA, a CA for other names, an expired one: refused.
        let leaf = issue_leaf(&ca, "reg.example.com", &[], now()).unwrap();
        for (bad, why) in [
            (leaf.cert_pem.clone(), "not kreg's CA"),
            (
                format!("{}{}", ca.cert_pem, ca.key_pem),
                "PRIVATE KEY block",
            ),
            (String::new(), "no certificate"),
        ] {
            let e = check_kreg_ca(&bad, "reg.example.com", now(), false).unwrap_err();
            assert!(format!("{e:#}").contains(why), "{why}: {e:#}");
        }
        let e = check_kreg_ca(&ca.cert_pem, "github.com", now(), false).unwrap_err();
        assert!(format!("{e:#}").contains("cannot sign"), "{e:#}");
        let e = check_kreg_ca(
            &ca.cert_pem,
            "reg.example.com",
            now() + Duration::days(4000),
            false,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("not valid now"), "{e:#}");
        // A CA kreg made before name constraints: still kreg's, kept (and installable).
        let old = generate_unconstrained_ca_for_test();
        assert!(check_kreg_ca(&old.cert_pem, "anything.example", now(), false).is_ok());
        // The user's CA (`--ca-secret`): its own subject passes only when the state says so.
        let theirs = user_ca(|_| {});
        let e = check_kreg_ca(&theirs.cert_pem, "reg.example.com", now(), false).unwrap_err();
        assert!(format!("{e:#}").contains("not kreg's CA"), "{e:#}");
        let fp = check_kreg_ca(&theirs.cert_pem, "reg.example.com", now(), true).unwrap();
        assert_eq!(fp, [cert_sha256(&theirs.cert_pem).unwrap()]);
        // Everything else still holds for it: no leaf, no key block.
        let leaf = issue_leaf(&theirs, "reg.example.com", &[], now()).unwrap();
        assert!(check_kreg_ca(&leaf.cert_pem, "reg.example.com", now(), true).is_err());
        let with_key = format!("{}{}", theirs.cert_pem, theirs.key_pem);
        assert!(check_kreg_ca(&with_key, "reg.example.com", now(), true).is_err());
    }

    /// A CA as a user (or their company's PKI) makes one: another subject, no name
    /// constraints; `edit` changes its parameters.
    fn user_ca(edit: impl FnOnce(&mut CertificateParams)) -> KeyPairPem {
        user_ca_with(&PKCS_ECDSA_P256_SHA256, edit)
    }

    fn user_ca_with(
        alg: &'static rcgen::SignatureAlgorithm,
        edit: impl FnOnce(&mut CertificateParams),
    ) -> KeyPairPem {
        let key = KeyPair::generate_for(alg).unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "Example Corp Dev CA");
        dn.push(DnType::OrganizationName, "Example Corp");
        params.distinguished_name = dn;
        params.not_before = now() - Duration::days(1);
        params.not_after = now() + Duration::days(365);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        edit(&mut params);
        KeyPairPem {
            cert_pem: params.self_signed(&key).unwrap().pem(),
            key_pem: key.serialize_pem(),
        }
    }

    #[test]
    fn a_users_ca_is_checked_before_kreg_signs_with_it() {
        let good = user_ca(|_| {});
        let pem = check_user_ca(&good, now()).unwrap();
        assert_eq!(
            cert_sha256(&pem).unwrap(),
            cert_sha256(&good.cert_pem).unwrap()
        );
        assert!(!pem.contains("PRIVATE KEY"));
        // What kreg then signs verifies against it, for any name (it has no constraints).
        let leaf = issue_leaf(&good, "registry.10.0.0.5.nip.io", &[], now()).unwrap();
        webpki_verify(&leaf.cert_pem, &pem, "registry.10.0.0.5.nip.io").unwrap();
        // No keyUsage at all (`openssl req -x509`'s default): every verifier accepts it.
        check_user_ca(&user_ca(|p| p.key_usages.clear()), now()).unwrap();
        // Other key types rcgen signs with.
        check_user_ca(&user_ca_with(&rcgen::PKCS_ECDSA_P384_SHA384, |_| {}), now()).unwrap();
        check_user_ca(&user_ca_with(&rcgen::PKCS_ED25519, |_| {}), now()).unwrap();

        let leaf_as_ca = KeyPairPem {
            cert_pem: leaf.cert_pem.clone(),
            key_pem: leaf.key_pem.clone(),
        };
        let other = user_ca(|_| {});
        let cases: Vec<(KeyPairPem, OffsetDateTime, &str)> = vec![
            (leaf_as_ca, now(), "not a CA certificate"),
            (
                user_ca(|p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature]),
                now(),
                "lacks keyCertSign",
            ),
            (good.clone(), now() + Duration::days(400), "expired on"),
            (good.clone(), now() - Duration::days(2), "not valid before"),
            (
                KeyPairPem {
                    cert_pem: good.cert_pem.clone(),
                    key_pem: other.key_pem.clone(),
                },
                now(),
                "does not belong",
            ),
            (
                KeyPairPem {
                    cert_pem: format!("{}{}", good.cert_pem, other.cert_pem),
                    key_pem: good.key_pem.clone(),
                },
                now(),
                "2 certificates",
            ),
            (
                KeyPairPem {
                    cert_pem: format!("{}{}", good.cert_pem, good.key_pem),
                    key_pem: good.key_pem.clone(),
                },
                now(),
                "PRIVATE KEY block",
            ),
            (
                KeyPairPem {
                    cert_pem: String::new(),
                    key_pem: good.key_pem.clone(),
                },
                now(),
                "no certificate",
            ),
            (
                KeyPairPem {
                    cert_pem: good.cert_pem.clone(),
                    key_pem:
                        "-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0\n-----END EC PRIVATE KEY-----\n"
                            .into(),
                },
                now(),
                "PKCS#8",
            ),
        ];
        for (ca, at, why) in cases {
            let e = check_user_ca(&ca, at).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(why), "{why}: {msg}");
            assert_no_key_material(&msg, &[&ca.key_pem, &other.key_pem, &good.key_pem]);
        }
    }

    #[test]
    fn fingerprints_are_normalised_and_checked() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(
            parse_fingerprints(&format!("{hex}, {colons}")).unwrap(),
            ["ab".repeat(32), "ab".repeat(32)]
        );
        assert!(parse_fingerprints("abc").is_err());
        assert!(parse_fingerprints(&"zz".repeat(32)).is_err());
    }
}

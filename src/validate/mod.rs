//! Input validation: every value a user hands kreg (flags, environment) is checked here before
//! it reaches a manifest, a file on a node, a shell-visible command or the API server.
//!
//! The rules are deliberately narrower than what the wider world sometimes accepts: these
//! values end up in YAML, TOML, file paths on nodes and certificate SANs, so anything outside a
//! small, well-known alphabet is refused rather than escaped. Every error says what was wrong
//! and what is accepted, so the user can fix it without reading the source.
//!
//! Pure functions, no I/O.
//!
//! One file per grammar: `names` (DNS names, namespaces), `net` (CIDRs, host:port, URLs),
//! `image` (image references), `storage` (sizes, S3, cron), `mirror` (cache specs).

mod image;
mod mirror;
mod names;
mod net;
mod storage;

pub use image::{agent_image, image, image_parts, push_name};
pub use mirror::{mirror, mirror_credentials};
pub use names::{ca_secret, canonical_host, dns_suffix, host, namespace, secret_name};
pub use net::{cidr, host_port};
pub use storage::{cron, s3_bucket, s3_endpoint, s3_region, size};

/// Shows a user value inside an error message: quoted and escaped (so control characters and
/// terminal escapes are never echoed raw) and cut short, so a 10 kB paste does not flood the
/// terminal.
pub(super) fn shown(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}… ({} characters)", s.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Result;

    use super::*;

    #[test]
    fn cron_schedules() {
        for ok in ["0 3 * * 0", "*/15 * * * *", "0 0 1,15 * MON-FRI", "@weekly"] {
            cron(ok).unwrap_or_else(|e| panic!("{ok}: {e:#}"));
        }
        for bad in [
            "",
            "* * * *",
            "0 3 * * 0 *",
            "0  3 * * 0",
            "0 3 * * 0; rm -rf /",
            "$(id) * * * *",
            "@sometimes",
        ] {
            let e = cron(bad).expect_err(bad);
            assert!(format!("{e:#}").contains("--gc-schedule"), "{e:#}");
        }
    }

    /// Strings no validator may accept: shell injection, traversal, unicode look-alikes,
    /// control characters, empties and floods.
    fn hostile() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            " ",
            ";rm -rf /",
            "$(id)",
            "`x`",
            "../../etc",
            "a b",
            "a\tb",
            "a\nb",
            "a;b",
            "a|b",
            "a&b",
            "a>b",
            "a<b",
            "a'b",
            "a\"b",
            "a\\b",
            "a*b",
            "a?b",
            "a{b}",
            "a$b",
            "a%b",
            "a!b",
            "a\u{0}b",
            "a\u{1b}[31mb",
            "ré",
            "аpple", // Cyrillic 'а'
            "日本",
            "a\u{200b}b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push("a".repeat(300));
        v.push(format!("{}.com", "a.".repeat(150)));
        v
    }

    fn assert_all_rejected(what: &str, f: fn(&str) -> Result<()>, inputs: &[String]) {
        for s in inputs {
            assert!(f(s).is_err(), "{what} accepted hostile input {s:?}");
        }
    }

    #[test]
    fn hostile_inputs_are_rejected_everywhere() {
        let h = hostile();
        assert_all_rejected("host", host, &h);
        assert_all_rejected("host_port", host_port, &h);
        assert_all_rejected("dns_suffix", dns_suffix, &h);
        assert_all_rejected("namespace", namespace, &h);
        assert_all_rejected("secret_name", secret_name, &h);
        assert_all_rejected("image", image, &h);
        assert_all_rejected("push_name", |s| push_name(s).map(|_| ()), &h);
        assert_all_rejected("size", size, &h);
        assert_all_rejected("s3_bucket", s3_bucket, &h);
        assert_all_rejected("s3_region", s3_region, &h);
        assert_all_rejected("s3_endpoint", s3_endpoint, &h);
        assert_all_rejected("mirror", |s| mirror(s).map(drop), &h);
        assert_all_rejected(
            "mirror_credentials",
            |s| mirror_credentials(s).map(drop),
            &h,
        );
        // The same hostile strings as the URL half of a --mirror, and as the Secret half.
        let as_url: Vec<String> = h.iter().map(|s| format!("docker.io={s}")).collect();
        assert_all_rejected("mirror URL", |s| mirror(s).map(drop), &as_url);
        let as_secret: Vec<String> = h.iter().map(|s| format!("docker.io={s}")).collect();
        assert_all_rejected(
            "mirror secret",
            |s| mirror_credentials(s).map(drop),
            &as_secret,
        );
    }

    #[test]
    fn mirrors() {
        for (spec, upstream, url) in [
            ("docker.io", "docker.io", "https://registry-1.docker.io"),
            ("ghcr.io", "ghcr.io", "https://ghcr.io"),
            (
                "registry.k8s.io",
                "registry.k8s.io",
                "https://registry.k8s.io",
            ),
            (
                "quay.io=https://quay.example:8443",
                "quay.io",
                "https://quay.example:8443",
            ),
            (
                "10.213.0.2:5001=http://10.213.0.2:5001",
                "10.213.0.2:5001",
                "http://10.213.0.2:5001",
            ),
            ("[fd00::1]:5000", "[fd00::1]:5000", "https://[fd00::1]:5000"),
        ] {
            assert_eq!(
                mirror(spec).unwrap(),
                (upstream.to_string(), url.to_string()),
                "{spec}"
            );
        }
        for bad in [
            "docker.io/library",
            "https://docker.io",
            "Docker.io",
            "docker.io=",
            "docker.io=registry-1.docker.io",
            "docker.io=ftp://x",
            "docker.io=https://u:p@x",
            "docker.io=https://x/v2",
            "docker.io=https://x?a=1",
            "docker.io=https://x=y",
            "=https://x",
            "../x=https://x",
        ] {
            assert!(mirror(bad).is_err(), "accepted {bad:?}");
        }
        let e = mirror("docker.io=https://u:secret@x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--mirror-credentials"), "{e}");
        assert!(!e.contains("secret@"), "credentials echoed: {e}");
    }

    #[test]
    fn mirror_credential_specs() {
        assert_eq!(
            mirror_credentials("docker.io=hub-login").unwrap(),
            ("docker.io".to_string(), "hub-login".to_string())
        );
        for bad in [
            "docker.io",
            "docker.io=",
            "=x",
            "docker.io=Hub",
            "docker.io=a/b",
            "a b=x",
        ] {
            assert!(mirror_credentials(bad).is_err(), "accepted {bad:?}");
        }
        let e = mirror_credentials("docker.io").unwrap_err().to_string();
        assert!(
            e.contains("UPSTREAM=SECRET") && e.contains("username"),
            "{e}"
        );
    }

    #[test]
    fn hosts() {
        for ok in [
            "registry.example.com",
            "localhost",
            "registry.10.0.0.5.nip.io",
            "a",
            "a-b.c-d",
            "10.0.0.5",
            "192.168.1.1",
            "::1",
            "fd00::5",
            &format!("{}.com", "a".repeat(63)),
        ] {
            assert!(host(ok).is_ok(), "rejected {ok:?}: {:?}", host(ok));
        }
        for bad in [
            "Registry.example.com",
            "-a.com",
            "a-.com",
            "a..b",
            "a.com.",
            ".a.com",
            "a_b.com",
            "a/b",
            "reg:5000",
            "https://reg",
            "[::1]",
            "10.0.0.256",
            "1.2.3",
            "01.2.3.4",
            "0.0.0.0",
            "::",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(host(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn ip_hosts_are_canonical() {
        assert_eq!(canonical_host("FD00:0:0::5").unwrap(), "fd00::5");
        assert_eq!(
            canonical_host("2001:DB8:0:0:0:0:0:1").unwrap(),
            "2001:db8::1"
        );
        assert_eq!(canonical_host("10.0.0.5").unwrap(), "10.0.0.5");
        assert_eq!(
            canonical_host("registry.example.com").unwrap(),
            "registry.example.com"
        );
        assert!(canonical_host("Registry.example.com").is_err());
        assert!(canonical_host("::").is_err());
    }

    #[test]
    fn cidrs() {
        for ok in ["203.0.113.0/24", "10.0.0.1/32", "fd00::/64", "0.0.0.0/0"] {
            assert!(cidr(ok).is_ok(), "{ok}");
        }
        for bad in [
            "203.0.113.0",
            "10.0.0.0/33",
            "fd00::/129",
            "x/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "",
        ] {
            assert!(cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_error_says_what_is_accepted() {
        let e = host("a b").unwrap_err().to_string();
        assert!(e.starts_with("invalid --host \"a b\":"), "{e}");
        assert!(e.contains("DNS name") && e.contains("IP address"), "{e}");
        let e = host("Reg.io").unwrap_err().to_string();
        assert!(e.contains("lowercase"), "{e}");
    }

    #[test]
    fn error_messages_escape_and_truncate_input() {
        let e = host("a\u{1b}[31mb").unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'), "raw escape echoed: {e:?}");
        let e = host(&"a".repeat(5000)).unwrap_err().to_string();
        assert!(e.len() < 600, "message not truncated: {} bytes", e.len());
        assert!(e.contains("5000 characters"), "{e}");
    }

    #[test]
    fn host_ports() {
        for ok in [
            "reg.example.com",
            "reg.example.com:5000",
            "localhost:5000",
            "10.0.0.5:443",
            "10.0.0.5",
            "[::1]:5000",
            "[fd00::1]",
            "r:1",
            "r:65535",
        ] {
            assert!(
                host_port(ok).is_ok(),
                "rejected {ok:?}: {:?}",
                host_port(ok)
            );
        }
        for bad in [
            "reg:0",
            "reg:65536",
            "reg:05000",
            "reg:",
            "reg:50a",
            "reg:5000:1",
            "::1",
            "::1:5000",
            "[::1]5000",
            "[::1",
            "[10.0.0.1]:5000",
            "REG:5000",
            ":5000",
            "reg:+5000",
            "reg:-1",
        ] {
            assert!(host_port(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn dns_suffixes() {
        for ok in ["nip.io", "sslip.io", "traefik.me", "local", "none"] {
            assert!(dns_suffix(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            ".nip.io",
            "nip.io.",
            "1.2.3.4",
            "https://nip.io",
            "nip.io:80",
            "NIP.io",
        ] {
            assert!(dns_suffix(bad).is_err(), "accepted {bad:?}");
        }
        let e = dns_suffix(".nip.io").unwrap_err().to_string();
        assert!(e.contains("leading dot"), "{e}");
    }

    #[test]
    fn namespaces() {
        for ok in ["kreg-system", "a", "a1", "1a", &"a".repeat(63)] {
            assert!(namespace(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            "Kreg",
            "kreg.system",
            "-kreg",
            "kreg-",
            "kreg_system",
            &"a".repeat(64),
        ] {
            assert!(namespace(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn secret_names() {
        for ok in [
            "s3-creds",
            "my.secret",
            "a",
            // Subdomains cap only the total length, not each label.
            &"a".repeat(100),
        ] {
            assert!(secret_name(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in ["S3", "a_b", "a..b", ".a", "a.", "-a", &"a".repeat(254)] {
            assert!(secret_name(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn images() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        for ok in [
            "registry:2".to_string(),
            "registry".to_string(),
            "library/registry:2.8.3".to_string(),
            "docker.io/library/registry:2".to_string(),
            "mirror.example.com:5000/library/registry:2".to_string(),
            "localhost:5000/registry".to_string(),
            "localhost/registry".to_string(),
            "10.0.0.5:5000/a/b/c:v1".to_string(),
            "[fd00::1]:5000/registry:2".to_string(),
            "Mirror.Example.com/registry".to_string(),
            "a__b/c-d/e--f/g.h_i:TAG_1.0-x".to_string(),
            format!("registry@{digest}"),
            format!("registry:2@{digest}"),
            format!("ghcr.io/org/registry@sha512:{}", "0".repeat(128)),
            format!("{}:2", "a".repeat(255)),
        ] {
            assert!(image(&ok).is_ok(), "rejected {ok:?}: {:?}", image(&ok));
        }
        for bad in [
            "Registry:2".to_string(),
            "registry:".to_string(),
            ":2".to_string(),
            "registry:-2".to_string(),
            "registry:.2".to_string(),
            format!("registry:{}", "a".repeat(129)),
            "registry@sha256:abc".to_string(),
            format!("registry@md5:{}", "a".repeat(32)),
            format!("registry@sha256:{}", "AB".repeat(32)),
            "reg.io/../registry".to_string(),
            "reg.io/./registry".to_string(),
            "reg.io//registry".to_string(),
            "reg.io/registry/".to_string(),
            "/registry".to_string(),
            "reg.io/a...b".to_string(),
            "reg.io/a-".to_string(),
            "reg.io/_a".to_string(),
            "reg.io:0/a".to_string(),
            "reg.io:99999/a".to_string(),
            "-reg.io/a".to_string(),
            "[zz]:5000/a".to_string(),
            "reg.io/a@b@c".to_string(),
            "reg.io/a b".to_string(),
            "reg.io/a;b".to_string(),
            format!("{}:2", "a".repeat(256)),
        ] {
            assert!(image(&bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn push_names() {
        for (given, repo, tag) in [
            ("hello", "hello", "latest"),
            ("kreg-test/hello:1", "kreg-test/hello", "1"),
            ("a__b/c-d/e.f:TAG_1.0-x", "a__b/c-d/e.f", "TAG_1.0-x"),
        ] {
            assert_eq!(
                push_name(given).unwrap(),
                (repo.to_string(), tag.to_string())
            );
        }
        for (bad, why) in [
            ("registry.example.com/app:1", "leave the host out"),
            ("localhost:5000/app", "leave the host out"),
            (
                "app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "digest",
            ),
            ("App:1", "--name"),
            ("app:", "tag"),
            ("", "empty"),
            ("a/../b", "not allowed"),
        ] {
            let e = push_name(bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("--name"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn sizes() {
        for ok in [
            "10Gi",
            "500Mi",
            "1Ti",
            "1G",
            "1073741824",
            "1.5Gi",
            "1Ki",
            "2k",
            "1Ei",
            "0.5Ti",
        ] {
            assert!(size(ok).is_ok(), "rejected {ok:?}: {:?}", size(ok));
        }
        for bad in [
            "-1Gi",
            "10 Gi",
            "10GB",
            "10gi",
            "0",
            "0Gi",
            "0.0Mi",
            "Gi",
            "1.Gi",
            ".5Gi",
            "1..5Gi",
            "100m",
            "1e9",
            "+1Gi",
            "1Gi ",
            "9999999999999999Gi",
            &"1".repeat(40),
        ] {
            assert!(size(bad).is_err(), "accepted {bad:?}");
        }
        let e = size("10GB").unwrap_err().to_string();
        assert!(e.contains("did you mean Gi or G"), "{e}");
    }

    #[test]
    fn s3_buckets() {
        for ok in ["my-bucket", "abc", "a.b.c", "bucket-123", &"a".repeat(63)] {
            assert!(s3_bucket(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "my_bucket",
            "-bucket",
            "bucket-",
            ".bucket",
            "a..b",
            "192.168.5.4",
            "xn--bucket",
            "sthree-bucket",
            "bucket-s3alias",
            "bucket--ol-s3",
        ] {
            assert!(s3_bucket(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn s3_regions() {
        for ok in ["us-east-1", "eu-central-1", "minio", "auto"] {
            assert!(s3_region(ok).is_ok(), "rejected {ok:?}");
        }
        for bad in [
            "US-EAST-1",
            "us_east_1",
            "-us",
            "us-",
            "us east",
            &"a".repeat(65),
        ] {
            assert!(s3_region(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn s3_endpoints() {
        for ok in [
            "https://minio.example.com:9000",
            "http://minio",
            "https://10.0.0.5",
            "https://[fd00::1]:9000",
            "https://s3.us-east-1.amazonaws.com",
        ] {
            assert!(
                s3_endpoint(ok).is_ok(),
                "rejected {ok:?}: {:?}",
                s3_endpoint(ok)
            );
        }
        for bad in [
            "minio.example.com",
            "ftp://minio",
            "https://",
            "https://minio/",
            "https://minio/bucket",
            "https://minio?x=1",
            "https://minio#f",
            "https://user:pw@minio",
            "https://minio:0",
            "https://minio:99999",
            "HTTPS://minio",
            "https://Minio",
            "https://minio:9000 ",
        ] {
            assert!(s3_endpoint(bad).is_err(), "accepted {bad:?}");
        }
        let e = s3_endpoint("https://u:pw0rd@minio")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--s3-secret"), "{e}");
        assert!(!e.contains("pw0rd"), "credentials echoed: {e}");
    }
}

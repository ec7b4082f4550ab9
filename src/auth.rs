//! `--auth`: the generated credentials and the three forms they take — the htpasswd line the
//! registry checks, the `.dockerconfigjson` a pull Secret carries, and nothing else. Pure.
//!
//! Distribution's htpasswd backend accepts only bcrypt. The password is 128 random bits, so the
//! bcrypt cost protects nothing a guess could reach; a low cost keeps each authenticated
//! request (the registry verifies on every one) cheap.

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::json;

/// bcrypt's cost for the htpasswd line (htpasswd -B uses 5 as well).
const BCRYPT_COST: u32 = 5;

/// A registry user and password. `Debug` hides the password so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// A new password of 32 hex digits (128 bits) for `username`.
    pub fn generate(username: &str) -> Credentials {
        use rand::Rng;
        let bytes: [u8; 16] = rand::rng().random();
        Credentials {
            username: username.to_string(),
            password: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// `user:$2b$...`: one line of an htpasswd file.
    pub fn htpasswd_line(&self) -> Result<String> {
        let hash = bcrypt::hash(&self.password, BCRYPT_COST).context("hashing the password")?;
        Ok(format!("{}:{hash}\n", self.username))
    }

    /// The `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret for `registry`.
    pub fn dockerconfigjson(&self, registry: &str) -> String {
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password));
        json!({
            "auths": {
                registry: {
                    "username": self.username,
                    "password": self.password,
                    "auth": auth,
                }
            }
        })
        .to_string()
    }
}

/// Adds (`present`) or removes kreg's pull Secret in a ServiceAccount's `imagePullSecrets`,
/// keeping every other entry. Returns whether the list changed.
pub(crate) fn set_pull_secret(
    list: &mut Option<Vec<k8s_openapi::api::core::v1::LocalObjectReference>>,
    secret: &str,
    present: bool,
) -> bool {
    let entries = list.get_or_insert_with(Vec::new);
    let had = entries.iter().any(|r| r.name == secret);
    match (had, present) {
        (false, true) => entries.push(k8s_openapi::api::core::v1::LocalObjectReference {
            name: secret.into(),
        }),
        (true, false) => entries.retain(|r| r.name != secret),
        _ => {}
    }
    if entries.is_empty() {
        *list = None;
    }
    had != present
}

/// Whether an htpasswd line accepts these credentials (used by `up` to keep a stored line).
pub(crate) fn htpasswd_accepts(line: &str, c: &Credentials) -> bool {
    let Some((user, hash)) = line.trim_end().split_once(':') else {
        return false;
    };
    user == c.username && bcrypt::verify(&c.password, hash).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = Credentials::generate("kreg");
        let b = Credentials::generate("kreg");
        assert_eq!(a.password.len(), 32);
        assert!(a.password.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.password, b.password);
    }

    #[test]
    fn htpasswd_line_is_bcrypt_and_verifies() {
        let c = Credentials::generate("kreg");
        let line = c.htpasswd_line().unwrap();
        assert!(line.starts_with("kreg:$2"), "{line}");
        assert!(line.ends_with('\n'));
        assert!(htpasswd_accepts(&line, &c));
        let other = Credentials::generate("kreg");
        assert!(!htpasswd_accepts(&line, &other));
        let renamed = Credentials {
            username: "someone".into(),
            ..c.clone()
        };
        assert!(!htpasswd_accepts(&line, &renamed));
        assert!(!htpasswd_accepts("garbage", &c));
    }

    #[test]
    fn dockerconfigjson_carries_user_password_and_auth() {
        let c = Credentials {
            username: "kreg".into(),
            password: "s3cret".into(),
        };
        let v: serde_json::Value =
            serde_json::from_str(&c.dockerconfigjson("registry.10.0.0.1.nip.io:443")).unwrap();
        let e = &v["auths"]["registry.10.0.0.1.nip.io:443"];
        assert_eq!(e["username"], "kreg");
        assert_eq!(e["password"], "s3cret");
        assert_eq!(e["auth"], "a3JlZzpzM2NyZXQ="); // base64("kreg:s3cret")
    }

    #[test]
    fn pull_secret_entries_of_others_are_kept() {
        use k8s_openapi::api::core::v1::LocalObjectReference as R;
        let mut list = Some(vec![R {
            name: "theirs".into(),
        }]);
        assert!(set_pull_secret(&mut list, "kreg-pull", true));
        assert!(!set_pull_secret(&mut list, "kreg-pull", true), "once");
        let names: Vec<_> = list.iter().flatten().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["theirs", "kreg-pull"]);
        assert!(set_pull_secret(&mut list, "kreg-pull", false));
        assert_eq!(list.as_ref().unwrap().len(), 1);
        let mut none = None;
        assert!(!set_pull_secret(&mut none, "kreg-pull", false));
        assert!(none.is_none());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = Credentials::generate("kreg");
        assert!(!format!("{c:?}").contains(&c.password));
    }
}

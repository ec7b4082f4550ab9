//! The registry gate (`kreg registry-gate`): with `--auth`, the registry pod's front door. It
//! owns who may do what; [`server`] owns the sockets.
//!
//! Distribution's htpasswd backend authenticates but does not authorize: every user it accepts
//! may push and delete in every repository. A pull Secret handed to another namespace must only
//! pull, so the gate terminates TLS, checks the Basic credentials itself and forwards to the
//! registry on the pod's loopback (where nothing else can reach it):
//!
//! - the push user (`kreg`): every request;
//! - the pull user (`kreg-pull`): reads only (GET and HEAD under `/v2/`);
//! - no or wrong credentials: a Basic challenge, except the health check `GET /` (probes).
//!
//! This module is pure: parsing the users and the per-request decision.

pub mod server;

use anyhow::{bail, Result};
use base64::Engine;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: push, delete, read.
    Push,
    /// GET and HEAD only.
    Pull,
}

/// The users the gate accepts: bcrypt htpasswd lines (user, line, role).
#[derive(Debug, Clone)]
pub struct Users {
    entries: Vec<(String, String, Role)>,
}

impl Users {
    /// Parses the push and the pull htpasswd files (one `user:$2…` line each, blank lines
    /// ignored). A user named in both is refused: its role would be ambiguous.
    pub fn parse(push: &str, pull: &str) -> Result<Users> {
        let mut entries = vec![];
        for (text, role) in [(push, Role::Push), (pull, Role::Pull)] {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let Some((user, hash)) = line.split_once(':') else {
                    bail!("an htpasswd line without `user:hash`");
                };
                if !hash.starts_with("$2") {
                    bail!("user {user}: only bcrypt hashes are accepted");
                }
                if entries.iter().any(|(u, _, _)| u == user) {
                    bail!("user {user} is listed twice");
                }
                entries.push((user.to_string(), line.to_string(), role));
            }
        }
        if !entries.iter().any(|(_, _, r)| *r == Role::Push) {
            bail!("no push user: the registry could never be written");
        }
        Ok(Users { entries })
    }

    /// The role of `user` if `password` is theirs.
    pub fn check(&self, user: &str, password: &str) -> Option<Role> {
        let (_, line, role) = self.entries.iter().find(|(u, _, _)| u == user)?;
        // The same check `kreg up` makes of the lines it stores.
        let creds = crate::auth::Credentials {
            username: user.to_string(),
            password: password.to_string(),
        };
        crate::auth::htpasswd_accepts(line, &creds).then_some(*role)
    }
}

/// `Authorization: Basic …` as user and password.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// What the gate does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it to the registry.
    Forward,
    /// 401 with a Basic challenge: no or wrong credentials.
    Challenge,
    /// 403: the credentials are good but may not do this.
    Deny,
    /// 404: not a registry path.
    NotFound,
}

/// The decision for `method path` from a client whose credentials gave `role`.
pub fn decide(method: &str, path: &str, role: Option<Role>) -> Verdict {
    let reads = method == "GET" || method == "HEAD";
    // Distribution answers `/` with an empty 200: the probes' health check, nothing to protect.
    if path == "/" && reads {
        return Verdict::Forward;
    }
    if path != "/v2" && !path.starts_with("/v2/") {
        return Verdict::NotFound;
    }
    match role {
        None => Verdict::Challenge,
        Some(Role::Push) => Verdict::Forward,
        Some(Role::Pull) if reads => Verdict::Forward,
        Some(Role::Pull) => Verdict::Deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credentials;

    fn users() -> (Users, Credentials, Credentials) {
        let push = Credentials::generate("kreg");
        let pull = Credentials::generate("kreg-pull");
        let users = Users::parse(
            &push.htpasswd_line().unwrap(),
            &pull.htpasswd_line().unwrap(),
        )
        .unwrap();
        (users, push, pull)
    }

    #[test]
    fn each_user_gets_its_role_and_only_with_its_password() {
        let (users, push, pull) = users();
        assert_eq!(users.check("kreg", &push.password), Some(Role::Push));
        assert_eq!(users.check("kreg-pull", &pull.password), Some(Role::Pull));
        assert_eq!(users.check("kreg-pull", &push.password), None);
        assert_eq!(users.check("kreg", &pull.password), None);
        assert_eq!(users.check("someone", &push.password), None);
    }

    #[test]
    fn bad_user_files_are_refused() {
        let push = Credentials::generate("kreg").htpasswd_line().unwrap();
        assert!(Users::parse("", &push).is_err(), "no push user");
        assert!(Users::parse(&push, &push).is_err(), "a user in both files");
        assert!(Users::parse("kreg:{SHA}abc", "").is_err(), "not bcrypt");
        assert!(Users::parse("garbage", "").is_err());
    }

    #[test]
    fn the_pull_user_reads_and_nothing_else() {
        for method in ["GET", "HEAD"] {
            assert_eq!(
                decide(method, "/v2/app/manifests/v1", Some(Role::Pull)),
                Verdict::Forward
            );
        }
        for method in ["PUT", "POST", "PATCH", "DELETE"] {
            assert_eq!(
                decide(method, "/v2/app/blobs/uploads/", Some(Role::Pull)),
                Verdict::Deny,
                "{method}"
            );
            assert_eq!(
                decide(method, "/v2/app/blobs/uploads/", Some(Role::Push)),
                Verdict::Forward
            );
        }
    }

    #[test]
    fn strangers_get_a_challenge_except_for_the_health_check() {
        assert_eq!(decide("GET", "/v2/", None), Verdict::Challenge);
        assert_eq!(decide("GET", "/v2", None), Verdict::Challenge);
        assert_eq!(decide("GET", "/v2/_catalog", None), Verdict::Challenge);
        assert_eq!(decide("PUT", "/v2/a/manifests/x", None), Verdict::Challenge);
        assert_eq!(decide("GET", "/", None), Verdict::Forward);
        assert_eq!(decide("POST", "/", None), Verdict::NotFound);
        assert_eq!(
            decide("GET", "/debug/vars", Some(Role::Push)),
            Verdict::NotFound
        );
        assert_eq!(decide("GET", "/v2x", Some(Role::Push)), Verdict::NotFound);
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("kreg-pull:s3:cret")
        );
        assert_eq!(
            basic_credentials(&header),
            Some(("kreg-pull".into(), "s3:cret".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}

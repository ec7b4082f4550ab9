//! `--auth` and `--pull-secret-namespaces`, shared by `up`, `status` and `down`: the
//! credentials in Secret `kreg-auth`, and kreg's pull Secret plus its entry in the default
//! ServiceAccount of each listed namespace.
//!
//! The password is read and written only here and is never printed, except by
//! `kreg status --show-password`.

use anyhow::{anyhow, Result};
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use serde::Serialize;

use crate::auth::{self, Credentials};
use crate::cluster::{Applied, Cluster};
use crate::error::hint;
use crate::manifests;
use crate::plan::names;

/// The registry's credentials as `up` reports them: never the password.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuthReport {
    pub username: String,
    /// `namespace/name` of the Secret that holds the password.
    pub secret: String,
    /// A `docker login` that reads the password from the Secret (nothing secret in it).
    pub login: String,
    /// Only with `kreg status --show-password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The user of the pull Secrets (`--pull-secret-namespaces`): it may only pull.
    pub pull_username: String,
}

impl AuthReport {
    pub fn new(namespace: &str, registry: &str, users: &Users, show_password: bool) -> Self {
        let creds = &users.push;
        AuthReport {
            username: creds.username.clone(),
            secret: format!("{namespace}/{}", names::AUTH_SECRET),
            login: format!(
                "kubectl -n {namespace} get secret {} -o jsonpath='{{.data.password}}' | base64 -d | docker login {registry} -u {} --password-stdin",
                names::AUTH_SECRET,
                creds.username
            ),
            password: show_password.then(|| creds.password.clone()),
            pull_username: users.pull.username.clone(),
        }
    }
}

/// The two users of Secret `kreg-auth`: `push` may do everything (kreg itself, `docker
/// login` on workstations and CI); `pull` may only read (the pull Secrets handed to
/// namespaces, the node agents' probe pull). The registry gate enforces the difference.
#[derive(Debug, Clone)]
pub struct Users {
    pub push: Credentials,
    pub pull: Credentials,
    /// SHA-256 of both htpasswd lines: the registry pod restarts when they change.
    pub sha256: String,
}

/// The stored users, if Secret `kreg-auth` holds both with htpasswd lines that accept them.
pub async fn read(cluster: &Cluster) -> Result<Option<Users>> {
    Ok(cluster
        .get::<Secret>(names::AUTH_SECRET)
        .await?
        .as_ref()
        .and_then(usable))
}

/// One user of a `kreg-auth` Secret (keys `<prefix>username`, `password`, `htpasswd`) and its
/// htpasswd line, if the line accepts it.
fn user(s: &Secret, prefix: &str) -> Option<(Credentials, String)> {
    let field = |k: &str| manifests::secret_text(s, &format!("{prefix}{k}"));
    let (Some(username), Some(password), Some(line)) =
        (field("username"), field("password"), field("htpasswd"))
    else {
        return None;
    };
    let creds = Credentials { username, password };
    auth::htpasswd_accepts(&line, &creds).then_some((creds, line))
}

fn usable(s: &Secret) -> Option<Users> {
    let ((push, push_line), (pull, pull_line)) = (user(s, "")?, user(s, "pull-")?);
    Some(Users {
        push,
        pull,
        sha256: crate::pki::sha256_hex(format!("{push_line}{pull_line}").as_bytes()),
    })
}

/// The Secret holding both users.
fn secret(namespace: &str, push: &Credentials, pull: &Credentials) -> Result<Secret> {
    let (push_line, pull_line) = (push.htpasswd_line()?, pull.htpasswd_line()?);
    Ok(manifests::secret(
        namespace,
        names::AUTH_SECRET,
        "Opaque",
        &[
            ("username", push.username.as_bytes()),
            ("password", push.password.as_bytes()),
            ("htpasswd", push_line.as_bytes()),
            ("pull-username", pull.username.as_bytes()),
            ("pull-password", pull.password.as_bytes()),
            ("pull-htpasswd", pull_line.as_bytes()),
        ],
    ))
}

/// Returns both users, generating them on the first `--auth`, and the Secret when this run
/// created it (its UID goes into kreg's ownership record). A Secret from before the pull user
/// keeps its push password (every `docker login` made with it stays valid) and gains the pull
/// user; a damaged one is replaced in place (its UID, so kreg's ownership, stays). The Secret
/// is created only if absent, so two concurrent runs end with one password.
pub async fn ensure(cluster: &Cluster, namespace: &str) -> Result<(Users, Option<Secret>)> {
    let existing = cluster.get::<Secret>(names::AUTH_SECRET).await?;
    if let Some(users) = existing.as_ref().and_then(usable) {
        return Ok((users, None));
    }
    if let Some(old) = &existing {
        let push = user(old, "")
            .map(|(c, _)| c)
            .unwrap_or_else(|| Credentials::generate(names::AUTH_USER));
        cluster
            .apply(&secret(
                namespace,
                &push,
                &Credentials::generate(names::PULL_USER),
            )?)
            .await?;
        let stored = cluster.get::<Secret>(names::AUTH_SECRET).await?;
        let users = stored.as_ref().and_then(usable).ok_or_else(changed)?;
        return Ok((users, None));
    }
    let fresh = secret(
        namespace,
        &Credentials::generate(names::AUTH_USER),
        &Credentials::generate(names::PULL_USER),
    )?;
    let (stored, created) = cluster.create_if_absent(&fresh).await?;
    // Created, or another `up` won the race: either way the stored Secret is the truth.
    let users = usable(&stored).ok_or_else(changed)?;
    Ok((users, created.then_some(stored)))
}

fn changed() -> anyhow::Error {
    anyhow!(
        "Secret {} changed while kreg read it; run `kreg up` again",
        names::AUTH_SECRET
    )
}

/// Puts a pull Secret (rendered for its namespace) there and adds it to the default
/// ServiceAccount of that namespace.
pub async fn grant(cluster: &Cluster, secret: &Secret) -> Result<bool> {
    let namespace = secret.metadata.namespace.as_deref().unwrap_or_default();
    if cluster.get::<Namespace>(namespace).await?.is_none() {
        return Err(hint(
            format!("--pull-secret-namespaces: namespace {namespace} does not exist"),
            format!("create it first (kubectl create namespace {namespace}), or leave it out"),
        ));
    }
    let secret = cluster.apply(secret).await?;
    let add = |sa: &mut ServiceAccount| {
        auth::set_pull_secret(&mut sa.image_pull_secrets, names::PULL_SECRET, true)
    };
    let sa_changed = match cluster.edit(namespace, "default", add).await? {
        Some(changed) => changed,
        // The namespace is new and its ServiceAccount controller has not run yet: create the
        // account; the controller adopts an existing one.
        None => {
            let mut sa = ServiceAccount::default();
            sa.metadata.name = Some("default".into());
            sa.metadata.namespace = Some(namespace.into());
            add(&mut sa);
            let (_, created) = cluster.create_if_absent(&sa).await?;
            created || cluster.edit(namespace, "default", add).await? == Some(true)
        }
    };
    Ok(secret != Applied::Unchanged || sa_changed)
}

/// Undoes [`grant`]: kreg's entry leaves the default ServiceAccount (other entries stay), then
/// the pull Secret is deleted. Absent namespaces are already clean.
pub async fn revoke(cluster: &Cluster, namespace: &str) -> Result<bool> {
    if cluster.get::<Namespace>(namespace).await?.is_none() {
        return Ok(false);
    }
    let sa_changed = cluster
        .edit(namespace, "default", |sa: &mut ServiceAccount| {
            auth::set_pull_secret(&mut sa.image_pull_secrets, names::PULL_SECRET, false)
        })
        .await?
        == Some(true);
    let deleted = cluster
        .delete_in::<Secret>(namespace, names::PULL_SECRET)
        .await?;
    Ok(sa_changed || deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_never_carries_the_password_unless_asked() {
        let users = Users {
            push: Credentials::generate("kreg"),
            pull: Credentials::generate("kreg-pull"),
            sha256: String::new(),
        };
        let r = AuthReport::new("kreg-system", "r.example", &users, false);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains(&users.push.password), "{json}");
        assert!(!json.contains(&users.pull.password), "{json}");
        assert!(r.login.contains("--password-stdin"));
        let shown = AuthReport::new("kreg-system", "r.example", &users, true);
        assert_eq!(
            shown.password.as_deref(),
            Some(users.push.password.as_str())
        );
    }

    #[test]
    fn a_secret_is_usable_only_with_both_users() {
        let (push, pull) = (
            Credentials::generate("kreg"),
            Credentials::generate("kreg-pull"),
        );
        let full = secret("ns", &push, &pull).unwrap();
        let users = usable(&full).expect("both users");
        assert_eq!(users.push, push);
        assert_eq!(users.pull, pull);
        // A Secret from before the pull user: not usable as it is, its push user is kept.
        let mut old = full.clone();
        for k in ["pull-username", "pull-password", "pull-htpasswd"] {
            old.data.as_mut().unwrap().remove(k);
        }
        assert!(usable(&old).is_none());
        assert_eq!(user(&old, "").map(|(c, _)| c), Some(push));
    }
}

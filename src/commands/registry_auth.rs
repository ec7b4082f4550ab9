//! `--auth` and `--pull-secret-namespaces`, shared by `up`, `status` and `down`: the
//! credentials in Secret `kreg-auth`, and kreg's pull Secret plus its entry in the default
//! ServiceAccount of each listed namespace.
//!
//! The password is read and written only here and is never printed, except by
//! `kreg status --show-password`.

use anyhow::{anyhow, Result};
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::api::Api;
use serde::Serialize;

use crate::auth::{self, Credentials};
use crate::cluster::{Applied, Cluster};
use crate::error::hint;
use crate::manifests;
use crate::plan::names;

/// The registry's credentials as `up` reports them: never the password.
#[derive(Debug, Clone, Serialize)]
pub struct AuthReport {
    pub username: String,
    /// `namespace/name` of the Secret that holds the password.
    pub secret: String,
    /// A `docker login` that reads the password from the Secret (nothing secret in it).
    pub login: String,
    /// Only with `kreg status --show-password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl AuthReport {
    pub fn new(namespace: &str, registry: &str, creds: &Credentials, show_password: bool) -> Self {
        AuthReport {
            username: creds.username.clone(),
            secret: format!("{namespace}/{}", names::AUTH_SECRET),
            login: format!(
                "kubectl -n {namespace} get secret {} -o jsonpath='{{.data.password}}' | base64 -d | docker login {registry} -u {} --password-stdin",
                names::AUTH_SECRET,
                creds.username
            ),
            password: show_password.then(|| creds.password.clone()),
        }
    }
}

/// The stored credentials, if Secret `kreg-auth` holds a user, a password and an htpasswd
/// line that accepts them.
pub async fn read(cluster: &Cluster) -> Result<Option<(Credentials, String)>> {
    Ok(cluster
        .get(&cluster.ns_api::<Secret>(), names::AUTH_SECRET)
        .await?
        .as_ref()
        .and_then(usable))
}

/// The credentials and htpasswd line of a `kreg-auth` Secret, if the line accepts them.
fn usable(s: &Secret) -> Option<(Credentials, String)> {
    let field = |k| manifests::secret_text(s, k);
    let (Some(username), Some(password), Some(line)) =
        (field("username"), field("password"), field("htpasswd"))
    else {
        return None;
    };
    let creds = Credentials { username, password };
    auth::htpasswd_accepts(&line, &creds).then_some((creds, line))
}

/// Returns the credentials, generating them on the first `--auth` (or when the Secret was
/// damaged), the SHA-256 of the htpasswd line for the Deployment's restart annotation, and the
/// Secret when this run created it (its UID goes into kreg's ownership record).
/// The Secret is created only if absent, so two concurrent runs end with one password.
pub async fn ensure(
    cluster: &Cluster,
    namespace: &str,
) -> Result<(Credentials, String, Option<Secret>)> {
    let secrets: Api<Secret> = cluster.ns_api();
    let existing = cluster.get(&secrets, names::AUTH_SECRET).await?;
    if let Some((creds, line)) = existing.as_ref().and_then(usable) {
        return Ok((creds, manifests::sha256_hex(line.as_bytes()), None));
    }
    let creds = Credentials::generate(names::AUTH_USER);
    let line = creds.htpasswd_line()?;
    let secret = manifests::secret(
        namespace,
        names::AUTH_SECRET,
        "Opaque",
        &[
            ("username", creds.username.as_bytes()),
            ("password", creds.password.as_bytes()),
            ("htpasswd", line.as_bytes()),
        ],
    );
    if existing.is_some() {
        // Present but unusable (edited by hand): replace it with a working pair. Its UID (and
        // so kreg's ownership of it) stays.
        cluster.apply(&secrets, &secret).await?;
        return Ok((creds, manifests::sha256_hex(line.as_bytes()), None));
    }
    let (stored, created) = cluster.create_if_absent(&secrets, &secret).await?;
    if created {
        return Ok((creds, manifests::sha256_hex(line.as_bytes()), Some(stored)));
    }
    // Another `up` won the race: adopt its credentials.
    let (creds, line) = usable(&stored).ok_or_else(|| {
        anyhow!(
            "Secret {} changed while kreg read it; run `kreg up` again",
            names::AUTH_SECRET
        )
    })?;
    Ok((creds, manifests::sha256_hex(line.as_bytes()), None))
}

/// Puts the pull Secret into `namespace` and adds it to the default ServiceAccount there.
pub async fn grant(
    cluster: &Cluster,
    namespace: &str,
    registry: &str,
    creds: &Credentials,
) -> Result<bool> {
    let client = cluster.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if cluster.get(&namespaces, namespace).await?.is_none() {
        return Err(hint(
            format!("--pull-secret-namespaces: namespace {namespace} does not exist"),
            format!("create it first (kubectl create namespace {namespace}), or leave it out"),
        ));
    }
    let secret = cluster
        .apply(
            &Api::<Secret>::namespaced(client.clone(), namespace),
            &manifests::pull_secret(namespace, registry, creds),
        )
        .await?;
    let sas: Api<ServiceAccount> = Api::namespaced(client, namespace);
    let add = |sa: &mut ServiceAccount| {
        auth::set_pull_secret(&mut sa.image_pull_secrets, names::PULL_SECRET, true)
    };
    let sa_changed = match cluster.edit(&sas, "default", add).await? {
        Some(changed) => changed,
        // The namespace is new and its ServiceAccount controller has not run yet: create the
        // account; the controller adopts an existing one.
        None => {
            let mut sa = ServiceAccount::default();
            sa.metadata.name = Some("default".into());
            sa.metadata.namespace = Some(namespace.into());
            add(&mut sa);
            let (_, created) = cluster.create_if_absent(&sas, &sa).await?;
            created || cluster.edit(&sas, "default", add).await? == Some(true)
        }
    };
    Ok(secret != Applied::Unchanged || sa_changed)
}

/// Undoes [`grant`]: kreg's entry leaves the default ServiceAccount (other entries stay), then
/// the pull Secret is deleted. Absent namespaces are already clean.
pub async fn revoke(cluster: &Cluster, namespace: &str) -> Result<bool> {
    let client = cluster.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if cluster.get(&namespaces, namespace).await?.is_none() {
        return Ok(false);
    }
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let sa_changed = cluster
        .edit(&sas, "default", |sa| {
            auth::set_pull_secret(&mut sa.image_pull_secrets, names::PULL_SECRET, false)
        })
        .await?
        == Some(true);
    let deleted = cluster
        .delete(
            &Api::<Secret>::namespaced(client, namespace),
            names::PULL_SECRET,
        )
        .await?;
    Ok(sa_changed || deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_never_carries_the_password_unless_asked() {
        let c = Credentials::generate("kreg");
        let r = AuthReport::new("kreg-system", "r.example", &c, false);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains(&c.password), "{json}");
        assert!(r.login.contains("--password-stdin"));
        let shown = AuthReport::new("kreg-system", "r.example", &c, true);
        assert_eq!(shown.password.as_deref(), Some(c.password.as_str()));
    }
}

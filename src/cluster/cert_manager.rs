//! The cert-manager edge of `up --issuer`: whether the server serves `cert-manager.io/v1`,
//! the named Issuer or ClusterIssuer, and kreg's Certificate (server-side applied, read,
//! deleted by UID). Dynamic objects, handed to the callers as JSON: the typed Kubernetes crate
//! has no cert-manager types. What the objects say is decided by `install::tls`.

use anyhow::Result;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject};

use super::{api_error, Applied, Cluster};
use crate::plan::{IssuerKind, IssuerRef};

const GROUP: &str = "cert-manager.io";
const VERSION: &str = "v1";

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn certificates(c: &Cluster) -> Api<DynamicObject> {
    Api::namespaced_with(
        c.client.clone(),
        &c.namespace,
        &resource("Certificate", "certificates"),
    )
}

impl Cluster {
    /// The resources of `cert-manager.io/v1` this server serves (empty when none: no CRDs).
    pub async fn cert_manager_resources(&self) -> Vec<String> {
        match self
            .client
            .list_api_group_resources(&format!("{GROUP}/{VERSION}"))
            .await
        {
            Ok(list) => list.resources.into_iter().map(|r| r.name).collect(),
            Err(_) => vec![],
        }
    }

    /// The issuer `r` names (an Issuer in kreg's namespace, or a ClusterIssuer), as JSON;
    /// `None` when it does not exist.
    pub async fn cert_manager_issuer(&self, r: &IssuerRef) -> Result<Option<serde_json::Value>> {
        let api: Api<DynamicObject> = match r.kind {
            IssuerKind::Issuer => Api::namespaced_with(
                self.client.clone(),
                &self.namespace,
                &resource("Issuer", "issuers"),
            ),
            IssuerKind::ClusterIssuer => Api::all_with(
                self.client.clone(),
                &resource("ClusterIssuer", "clusterissuers"),
            ),
        };
        let found = api
            .get_opt(&r.name)
            .await
            .map_err(|e| api_error(e, &format!("reading {r}")))?;
        found
            .map(serde_json::to_value)
            .transpose()
            .map_err(Into::into)
    }

    /// kreg's Certificate `name` in its namespace, as JSON.
    pub async fn certificate(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let found = certificates(self)
            .get_opt(name)
            .await
            .map_err(|e| api_error(e, &format!("reading Certificate {name}")))?;
        found
            .map(serde_json::to_value)
            .transpose()
            .map_err(Into::into)
    }

    /// Server-side applies kreg's Certificate, skipped like [`Cluster::apply`] when unchanged.
    pub async fn apply_certificate(&self, obj: &serde_json::Value) -> Result<Applied> {
        super::jobs::apply_json(&certificates(self), "Certificate", obj).await
    }

    /// Deletes Certificate `name` only while it is the one with this UID (the one kreg
    /// created). Returns whether it was deleted.
    pub async fn delete_certificate_uid(&self, name: &str, uid: &str) -> Result<bool> {
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match certificates(self).delete(name, &dp).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(false),
            Err(e) => Err(api_error(e, &format!("deleting Certificate {name}"))),
        }
    }
}

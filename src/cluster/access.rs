//! Up-front permission checks (SelfSubjectAccessReview): kreg names what is missing before it
//! changes anything, instead of failing half-way through an install.

use anyhow::Result;
use futures::future::try_join_all;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::{api_error, Cluster};
use crate::error::hint;

/// One thing kreg needs to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    /// Namespaced in kreg's namespace (false: cluster-scoped).
    pub namespaced: bool,
}

const fn p(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    namespaced: bool,
) -> Permission {
    Permission {
        verb,
        group,
        resource,
        namespaced,
    }
}

/// What `kreg up` does to a cluster.
pub const UP: &[Permission] = &[
    p("list", "", "nodes", false),
    p("create", "", "namespaces", false),
    p("patch", "", "namespaces", false),
    p("create", "", "secrets", true),
    p("get", "", "secrets", true),
    p("patch", "", "secrets", true),
    p("patch", "", "configmaps", true),
    p("patch", "", "services", true),
    p("patch", "", "persistentvolumeclaims", true),
    p("patch", "apps", "deployments", true),
    p("patch", "apps", "daemonsets", true),
    p("list", "", "pods", true),
    // Pull-through caches: `up` finds the ones it no longer lists by label, and admits only
    // the nodes to them.
    p("list", "apps", "deployments", true),
    p("patch", "networking.k8s.io", "networkpolicies", true),
    p("list", "networking.k8s.io", "networkpolicies", true),
    p("delete", "networking.k8s.io", "networkpolicies", true),
];

/// What `kreg up --expose gateway` adds through a TLS Passthrough listener.
pub const UP_GATEWAY_TLS: &[Permission] = &[p("patch", GATEWAY_GROUP, "tlsroutes", true)];

/// What `kreg up --expose gateway` adds through an HTTPS listener.
pub const UP_GATEWAY_HTTPS: &[Permission] = &[
    p("patch", GATEWAY_GROUP, "httproutes", true),
    p("patch", GATEWAY_GROUP, "backendtlspolicies", true),
];

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// What `kreg up --expose ingress` adds behind Traefik with its CRDs: kreg's ServersTransport.
pub const UP_TRAEFIK_TRANSPORT: &[Permission] =
    &[p("patch", "traefik.io", "serverstransports", true)];

/// What `kreg up --issuer ClusterIssuer/NAME` adds: kreg's Certificate, and reading the issuer.
pub const UP_CLUSTER_ISSUER: &[Permission] = &[
    p("patch", CERT_MANAGER_GROUP, "certificates", true),
    p("get", CERT_MANAGER_GROUP, "certificates", true),
    p("get", CERT_MANAGER_GROUP, "clusterissuers", false),
];

/// What `kreg up --issuer Issuer/NAME` adds (the Issuer is in kreg's namespace).
pub const UP_ISSUER: &[Permission] = &[
    p("patch", CERT_MANAGER_GROUP, "certificates", true),
    p("get", CERT_MANAGER_GROUP, "certificates", true),
    p("get", CERT_MANAGER_GROUP, "issuers", true),
];

const CERT_MANAGER_GROUP: &str = "cert-manager.io";

/// What `kreg down` does.
pub const DOWN: &[Permission] = &[
    p("delete", "", "secrets", true),
    p("delete", "", "configmaps", true),
    p("delete", "", "services", true),
    p("delete", "apps", "deployments", true),
    p("delete", "apps", "daemonsets", true),
    p("patch", "apps", "daemonsets", true),
    // Pull-through caches are found by label.
    p("list", "apps", "deployments", true),
    p("list", "", "services", true),
    p("list", "", "persistentvolumeclaims", true),
    p("list", "networking.k8s.io", "networkpolicies", true),
    p("delete", "networking.k8s.io", "networkpolicies", true),
];

impl Cluster {
    /// Asks the API server, in parallel, whether the current user may do each of `perms`.
    /// Returns an error that names every missing permission.
    pub async fn check_access(&self, perms: &[Permission]) -> Result<()> {
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client());
        let reviews = perms.iter().map(|perm| {
            let api = api.clone();
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some(perm.verb.into()),
                        group: Some(perm.group.into()),
                        resource: Some(perm.resource.into()),
                        namespace: perm.namespaced.then(|| self.namespace.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            };
            async move {
                let r = api
                    .create(&PostParams::default(), &review)
                    .await
                    .map_err(|e| api_error(e, "checking permissions (SelfSubjectAccessReview)"))?;
                Ok::<_, anyhow::Error>((*perm, r.status.is_some_and(|s| s.allowed)))
            }
        });
        let missing: Vec<String> = try_join_all(reviews)
            .await?
            .into_iter()
            .filter(|(_, allowed)| !allowed)
            .map(|(perm, _)| describe(&perm, &self.namespace))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(hint(
            format!("you are not allowed to: {}; nothing was changed", missing.join(", ")),
            format!(
                "kreg needs these rights in context {:?}: ask a cluster admin, or check with `kubectl auth can-i`",
                self.context
            ),
        ))
    }
}

fn describe(p: &Permission, ns: &str) -> String {
    let res = if p.group.is_empty() {
        p.resource.to_string()
    } else {
        format!("{}.{}", p.resource, p.group)
    };
    if p.namespaced {
        format!("{} {res} in namespace {ns}", p.verb)
    } else {
        format!("{} {res}", p.verb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_permissions_read_like_kubectl_auth_can_i() {
        assert_eq!(describe(&UP[0], "x"), "list nodes");
        assert_eq!(
            describe(&p("patch", "apps", "deployments", true), "kreg-system"),
            "patch deployments.apps in namespace kreg-system"
        );
    }
}

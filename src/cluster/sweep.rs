//! Objects by label, for the prune of `up` and the deletions of `down`: every object labelled
//! `app.kubernetes.io/managed-by=kreg` in kreg's namespace, of the kinds
//! [`crate::render::SWEPT_KINDS`] names. Which of them go is the caller's decision
//! ([`crate::render::unwanted`]), made against the rendered list; this module only lists and
//! deletes, each deletion pinned to the UID that was listed.

use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Preconditions, PropagationPolicy,
};
use kube::ResourceExt;

use super::{api_error, gateway, jobs, Cluster};
use crate::plan::names;

/// One labelled object as listed.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub kind: &'static str,
    pub name: String,
    uid: String,
    resource: ApiResource,
}

impl Cluster {
    /// kreg's labelled objects of `kinds` in its namespace. A kind this server does not serve
    /// (a CRD not installed) has none.
    pub async fn labelled(&self, kinds: &[&'static str]) -> Result<Vec<Labelled>> {
        let (k, v) = names::MANAGED_BY;
        let lp = ListParams::default().labels(&format!("{k}={v}"));
        // One discovery request per CRD group/version, not one per kind.
        let mut served: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for kind in kinds {
            if let Some((gv, _)) = gateway::custom_kind(kind) {
                if !served.contains_key(gv) {
                    served.insert(gv, self.served_resources(gv).await);
                }
            }
        }
        let mut out = vec![];
        for kind in kinds {
            let Some(resource) = self.resource_of(kind, &served).await? else {
                continue;
            };
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
            let list = api
                .list_metadata(&lp)
                .await
                .map_err(|e| api_error(e, &format!("listing kreg's {kind}s")))?;
            for o in list.items {
                if o.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                out.push(Labelled {
                    kind,
                    name: o.name_any(),
                    uid: o.metadata.uid.clone().unwrap_or_default(),
                    resource: resource.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Deletes what was listed, only if it is still the object listed (same UID). Its
    /// dependents (a Deployment's pods, a CronJob's Jobs) go in the background.
    pub async fn delete_labelled(&self, l: &Labelled) -> Result<bool> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &l.resource);
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(l.uid.clone()),
                resource_version: None,
            }),
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        match api.delete(&l.name, &dp).await {
            Ok(_) => Ok(true),
            // Gone already, or replaced by another object of that name (a 409 on the UID).
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(false),
            Err(e) => Err(api_error(e, &format!("deleting {} {}", l.kind, l.name))),
        }
    }

    /// The API resource of `kind`; `None` for a CRD kind the server does not serve (`served`:
    /// the resources of each CRD group/version).
    async fn resource_of(
        &self,
        kind: &str,
        served: &std::collections::BTreeMap<&str, Vec<String>>,
    ) -> Result<Option<ApiResource>> {
        Ok(Some(match kind {
            "Service" => ApiResource::erase::<Service>(&()),
            "Deployment" => ApiResource::erase::<Deployment>(&()),
            "DaemonSet" => ApiResource::erase::<DaemonSet>(&()),
            "ConfigMap" => ApiResource::erase::<ConfigMap>(&()),
            "Secret" => ApiResource::erase::<Secret>(&()),
            "ServiceAccount" => ApiResource::erase::<ServiceAccount>(&()),
            "Role" => ApiResource::erase::<Role>(&()),
            "RoleBinding" => ApiResource::erase::<RoleBinding>(&()),
            "Ingress" => ApiResource::erase::<Ingress>(&()),
            "NetworkPolicy" => ApiResource::erase::<NetworkPolicy>(&()),
            "CronJob" => jobs::cronjob_resource(self.cronjob_api_version().await?),
            other => match gateway::custom_kind(other) {
                Some((gv, r)) if served.get(gv).is_some_and(|s| s.contains(&r.plural)) => r,
                Some(_) => return Ok(None),
                None => anyhow::bail!("kreg has no sweep for kind {other}"),
            },
        }))
    }
}

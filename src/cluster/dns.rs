//! Reading and writing the cluster's CoreDNS Corefile (ConfigMap `kube-system/coredns`) for
//! kreg's DNS entry. The text work (and every decision about it) is `crate::corefile`'s; here
//! is only the ConfigMap: read it, and write it back guarded by the resourceVersion it was read
//! at, re-reading and re-deciding when someone else wrote in between.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, PostParams, Preconditions};

use super::{api_error, Cluster};
use crate::corefile::{CONFIGMAP, CUSTOM, KEY};
use crate::plan::names;

/// The Corefile as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corefile {
    /// The text of the `Corefile` key.
    Text(String),
    /// No ConfigMap `kube-system/coredns` (no CoreDNS, or one configured otherwise).
    Absent,
    /// The ConfigMap has no `Corefile` key.
    NoKey,
    /// Not allowed to read it (the message).
    Forbidden(String),
    /// The cluster's addon manager owns it (`addonmanager.kubernetes.io/mode: Reconcile`, as on
    /// AKS) and puts back what it holds: an edit would not last. Its text, to read.
    Reconciled(String),
}

/// The label of objects the Kubernetes addon manager reconciles, and its value for "reverts
/// every edit".
const ADDON_MODE: (&str, &str) = ("addonmanager.kubernetes.io/mode", "Reconcile");

/// What [`Cluster::edit_corefile`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edited<T> {
    /// Written; `change`'s verdict.
    Written(T),
    /// `change` wanted no write; its verdict.
    Unchanged(T),
    /// There was no Corefile to edit (see [`Corefile`]).
    Missing(Corefile),
}

impl Cluster {
    /// Reads the Corefile.
    pub async fn read_corefile(&self) -> Result<Corefile> {
        Ok(self.read_coredns().await?.1)
    }

    async fn read_coredns(&self) -> Result<(Option<ConfigMap>, Corefile)> {
        let (ns, name) = CONFIGMAP;
        match self.api_in::<ConfigMap>(ns).get_opt(name).await {
            Ok(None) => Ok((None, Corefile::Absent)),
            Ok(Some(cm))
                if cm
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(ADDON_MODE.0))
                    == Some(&ADDON_MODE.1.to_string()) =>
            {
                let text = cm.data.as_ref().and_then(|d| d.get(KEY)).cloned();
                Ok((None, Corefile::Reconciled(text.unwrap_or_default())))
            }
            Ok(Some(cm)) => {
                let text = cm.data.as_ref().and_then(|d| d.get(KEY)).cloned();
                Ok(match text {
                    Some(t) => (Some(cm), Corefile::Text(t)),
                    None => (None, Corefile::NoKey),
                })
            }
            Err(kube::Error::Api(s)) if s.code == 403 => Ok((None, Corefile::Forbidden(s.message))),
            Err(e) => Err(api_error(e, &format!("reading ConfigMap {ns}/{name}"))),
        }
    }

    /// Reads the Corefile, lets `change` decide (`(Some(new), verdict)` to write `new`),
    /// and writes it guarded by the resourceVersion it was read at; on a conflict reads and
    /// decides again (five times at most). Only the `Corefile` key changes.
    pub async fn edit_corefile<T>(
        &self,
        change: impl Fn(&str) -> (Option<String>, T),
    ) -> Result<Edited<T>> {
        let (ns, name) = CONFIGMAP;
        let api = self.api_in::<ConfigMap>(ns);
        let mut attempt = 0;
        loop {
            let (cm, corefile) = self.read_coredns().await?;
            let (Some(mut cm), Corefile::Text(text)) = (cm, corefile.clone()) else {
                return Ok(Edited::Missing(corefile));
            };
            let (new, verdict) = change(&text);
            let Some(new) = new else {
                return Ok(Edited::Unchanged(verdict));
            };
            // The object as read, resourceVersion included: a write in between fails with 409.
            cm.data
                .get_or_insert_with(Default::default)
                .insert(KEY.into(), new);
            let pp = PostParams {
                field_manager: Some(names::FIELD_MANAGER.into()),
                ..Default::default()
            };
            match api.replace(name, &pp, &cm).await {
                Ok(_) => return Ok(Edited::Written(verdict)),
                Err(kube::Error::Api(s)) if s.code == 409 && attempt < 5 => attempt += 1,
                Err(e) => return Err(api_error(e, &format!("updating ConfigMap {ns}/{name}"))),
            }
        }
    }
}

impl Cluster {
    /// The data of ConfigMap `kube-system/coredns-custom` (k3s, AKS); `None` when it is absent
    /// (or not readable).
    pub async fn read_coredns_custom(&self) -> Result<Option<BTreeMap<String, String>>> {
        let (ns, name) = CUSTOM;
        match self.api_in::<ConfigMap>(ns).get_opt(name).await {
            Ok(cm) => Ok(cm.map(|cm| cm.data.unwrap_or_default())),
            // Not allowed to read it: kreg cannot have written it either.
            Err(kube::Error::Api(s)) if s.code == 403 => Ok(None),
            Err(e) => Err(api_error(e, &format!("reading ConfigMap {ns}/{name}"))),
        }
    }

    /// Sets (`Some`) or removes (`None`) `key` of `kube-system/coredns-custom`, every other
    /// key kept: created (labelled kreg's) when absent, deleted when kreg created it and nothing
    /// is left, else replaced guarded by its resourceVersion (re-read on a conflict). `check`
    /// sees the data first and may refuse. Returns whether it wrote.
    pub async fn set_coredns_custom(
        &self,
        key: &str,
        value: Option<&str>,
        check: impl Fn(&BTreeMap<String, String>) -> Result<()>,
    ) -> Result<bool> {
        let (ns, name) = CUSTOM;
        let api = self.api_in::<ConfigMap>(ns);
        let pp = PostParams {
            field_manager: Some(names::FIELD_MANAGER.into()),
            ..Default::default()
        };
        let what = format!("ConfigMap {ns}/{name}");
        let mut attempt = 0;
        loop {
            let result = match self.get_in::<ConfigMap>(ns, name).await? {
                None => {
                    let Some(v) = value else { return Ok(false) };
                    let cm = ConfigMap {
                        metadata: ObjectMeta {
                            name: Some(name.into()),
                            namespace: Some(ns.into()),
                            labels: Some(BTreeMap::from([(
                                names::MANAGED_BY.0.to_string(),
                                names::MANAGED_BY.1.to_string(),
                            )])),
                            ..Default::default()
                        },
                        data: Some(BTreeMap::from([(key.to_string(), v.to_string())])),
                        ..Default::default()
                    };
                    api.create(&pp, &cm).await.map(|_| ())
                }
                Some(mut cm) => {
                    let data = cm.data.clone().unwrap_or_default();
                    check(&data)?;
                    let mut new = data.clone();
                    match value {
                        Some(v) => new.insert(key.to_string(), v.to_string()),
                        None => new.remove(key),
                    };
                    if new == data {
                        return Ok(false);
                    }
                    if new.is_empty() && crate::plan::is_kreg_managed(&cm.metadata) {
                        let dp = DeleteParams {
                            preconditions: Some(Preconditions {
                                uid: cm.metadata.uid.clone(),
                                resource_version: cm.metadata.resource_version.clone(),
                            }),
                            ..Default::default()
                        };
                        api.delete(name, &dp).await.map(|_| ())
                    } else {
                        cm.data = Some(new);
                        api.replace(name, &pp, &cm).await.map(|_| ())
                    }
                }
            };
            match result {
                Ok(()) => return Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 && attempt < 5 => attempt += 1,
                Err(e) => return Err(api_error(e, &format!("writing {what}"))),
            }
        }
    }
}

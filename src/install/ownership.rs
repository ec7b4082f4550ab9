//! Before `up` writes anything: each object it reuses by name (its namespace, the data PVC,
//! the CA and password Secrets) must be one kreg created, by the UID in kreg's record or, for
//! a record from an older kreg, by kreg's label. Someone else's object stops `up` with nothing
//! changed; kreg never takes over what it did not create.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Secret};

use crate::cluster::Cluster;
use crate::error::hint;
use crate::plan::{names, Plan};
use crate::state::{self, InstalledState};

/// The objects `up` reuses by name (its namespace, PVC, CA and password Secrets): each that
/// exists must be one kreg created, or nothing is changed. Returns the ownership record to
/// carry on (the last `up`'s, plus the UIDs a record from an older kreg did not have) and the
/// objects that did not exist yet (see [`adopt_appeared`]).
pub(super) async fn check(
    cluster: &Cluster,
    plan: &Plan,
    prev: Option<&InstalledState>,
) -> Result<(BTreeMap<String, String>, Vec<(&'static str, String)>)> {
    let mut created = prev.map(|p| p.created.clone()).unwrap_or_default();
    let mut absent = Vec::new();
    // No record at all (someone deleted it): kreg's label is the only evidence left.
    let unknown = InstalledState {
        migrated: true,
        ..prev.cloned().unwrap_or_else(|| empty_record(plan))
    };
    let owner = prev.unwrap_or(&unknown);
    if let Some(ns) = cluster.get::<Namespace>(&plan.namespace).await? {
        if !owner.owns(
            "Namespace",
            &plan.namespace,
            ns.metadata.uid.as_deref(),
            false,
        ) {
            // Someone else's namespace: used, never labelled, never deleted by kreg.
            created.remove(&format!("Namespace/{}", plan.namespace));
        }
    } else {
        absent.push(("Namespace", plan.namespace.clone()));
    }
    let mut found = Vec::new();
    for name in [names::CA_SECRET, names::AUTH_SECRET] {
        match cluster.get::<Secret>(name).await? {
            Some(s) => found.push(("Secret", name, s.metadata)),
            None => absent.push(("Secret", name.to_string())),
        }
    }
    match cluster
        .get::<PersistentVolumeClaim>(names::DATA_PVC)
        .await?
    {
        Some(p) => found.push(("PersistentVolumeClaim", names::DATA_PVC, p.metadata)),
        None => absent.push(("PersistentVolumeClaim", names::DATA_PVC.to_string())),
    }
    for (kind, name, meta) in found {
        let labelled = crate::plan::is_kreg_managed(&meta);
        if !owner.owns(kind, name, meta.uid.as_deref(), labelled) {
            return Err(hint(
                format!(
                    "{kind} {name} exists in namespace {} and was not created by kreg; nothing was changed",
                    plan.namespace
                ),
                format!(
                    "kreg never takes over an object it did not create: rename or delete {kind} {name} yourself, or install into another namespace with -n"
                ),
            ));
        }
        record(&mut created, kind, name, &meta);
    }
    Ok((created, absent))
}

/// Records the objects that did not exist when [`check`] looked and carry kreg's label
/// now, but were not created by this run: a concurrent `kreg up` won the race to create them
/// (this run adopted them, e.g. the winner's CA). Without this the record of whichever run
/// writes last would miss them.
pub(super) async fn adopt_appeared(
    cluster: &Cluster,
    absent: &[(&'static str, String)],
    created: &mut BTreeMap<String, String>,
) -> Result<()> {
    for (kind, name) in absent {
        if created.contains_key(&format!("{kind}/{name}")) {
            continue;
        }
        let meta = match *kind {
            "Namespace" => cluster.get::<Namespace>(name).await?.map(|o| o.metadata),
            "Secret" => cluster.get::<Secret>(name).await?.map(|o| o.metadata),
            _ => cluster
                .get::<PersistentVolumeClaim>(name)
                .await?
                .map(|o| o.metadata),
        };
        if let Some(meta) = meta.filter(crate::plan::is_kreg_managed) {
            record(created, kind, name, &meta);
        }
    }
    Ok(())
}

/// A record with nothing in it, for [`check`] when there is no record at all.
fn empty_record(plan: &Plan) -> InstalledState {
    InstalledState {
        version: state::VERSION,
        installed: false,
        flavor: plan.flavor,
        expose: plan.expose,
        public: false,
        lb_source_ranges: vec![],
        allow_anonymous_push: false,
        address: String::new(),
        host: String::new(),
        user_host: None,
        node_address: None,
        port: 0,
        node_port: None,
        registry: String::new(),
        image: String::new(),
        dns_suffix: String::new(),
        node_trust: false,
        dns_entry: false,
        allow_runtime_restart: false,
        ca_pem: String::new(),
        ca_secret: None,
        ca_secret_next: None,
        issuer: None,
        auth: false,
        pull_secret_namespaces: vec![],
        storage: None,
        replicas: 1,
        gc_schedule: None,
        mirrors: vec![],
        created: BTreeMap::new(),
        migrated: true,
    }
}

/// Records the UID of an object this run created (see `state`'s ownership rule).
pub(super) fn record(
    created: &mut BTreeMap<String, String>,
    kind: &str,
    name: &str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
    if let Some(uid) = &meta.uid {
        created.insert(format!("{kind}/{name}"), uid.clone());
    }
}

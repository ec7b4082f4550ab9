//! `kreg down`'s work: removes what `up` created. Node trust is undone first (every node's files
//! removed, verified) and only then is the DaemonSet deleted. The images (PVC) and the CA stay
//! unless `--purge`; the user's own CA (`up --ca-secret`), and the namespace holding it, always.

use anyhow::{bail, Result};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret};
use serde::Serialize;

use crate::cluster::{Cluster, NodeVerdict, Object};
use crate::context::Ctx;
use crate::plan::names;
use crate::state::InstalledState;

/// What `down` says it keeps or deletes, before it asks. kreg never deletes objects in an S3
/// bucket: `--purge` deletes the PVC, not a bucket's contents.
fn keep_note(purge: bool) -> &'static str {
    if purge {
        "including the stored images (the PVC; an S3 bucket's contents stay) and the CA"
    } else {
        "keeping the stored images (the PVC or the S3 bucket) and the CA"
    }
}

/// `kreg down -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct DownReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub namespace: String,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
    pub nodes_not_cleaned: Vec<NodeVerdict>,
}

/// What `kreg down` was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Also the images (the PVC), the CA, the password, the record and kreg's namespace.
    pub purge: bool,
    /// Say what would go, change nothing.
    pub dry_run: bool,
}

/// Removes kreg from the settings' namespace; the report says what went and what stayed
/// (`nodes_not_cleaned`: the nodes whose trust files are left, which the caller reports).
pub(crate) async fn down(ctx: &Ctx, a: &Options) -> Result<DownReport> {
    let started = std::time::Instant::now();
    let ns = ctx.settings.namespace.clone();
    let cluster = Cluster::connect(&ctx.settings.target, &ns).await?;
    let r = &ctx.reporter;
    let mut report = DownReport {
        schema_version: crate::plan::SCHEMA_VERSION,
        namespace: ns.clone(),
        removed: vec![],
        kept: vec![],
        nodes_not_cleaned: vec![],
    };
    let Some(namespace) = cluster.get::<Namespace>(&ns).await? else {
        r.done(&format!("namespace {ns} does not exist: nothing to remove"));
        return Ok(report);
    };
    let keep_note = keep_note(a.purge);
    if a.dry_run {
        r.done(&format!(
            "dry run: would remove kreg from namespace {ns}, {keep_note}"
        ));
        return Ok(report);
    }
    if !ctx.confirm(&format!(
        "Remove the registry from namespace {ns}, {keep_note}?"
    ))? {
        bail!("cancelled; nothing was changed");
    }
    cluster.check_access(crate::cluster::ACCESS_DOWN).await?;
    // Before the first write: kreg's DNS entry must be removable (its markers as kreg wrote them).
    crate::install::dns::check(&cluster, &ns).await?;
    let state = cluster.read_state().await?;

    // 1. Node trust: switch the DaemonSet to removal and wait for every node to confirm.
    if cluster.get::<DaemonSet>(names::NODE_TRUST).await?.is_some() {
        r.step("removing the CA from every node");
        cluster.switch_node_trust_to_removal().await?;
        let switched = tokio::time::Instant::now();
        // Only verdicts of the removal pass count, not the install verdicts before it.
        let nt = cluster
            .wait_node_trust(ctx.settings.timeout, Some(switched))
            .await?;
        report.nodes_not_cleaned = nt.untrusted.clone();
        report
            .nodes_not_cleaned
            .extend(nt.pending.iter().map(|n| NodeVerdict {
                node: n.clone(),
                reason: "no answer before the timeout".into(),
            }));
        if report.nodes_not_cleaned.is_empty() {
            r.done(&format!("removed the CA from {} nodes", nt.trusted));
        } else {
            for v in &report.nodes_not_cleaned {
                r.warn(&format!("node {} was not cleaned: {}", v.node, v.reason));
            }
        }
        del::<DaemonSet>(&cluster, names::NODE_TRUST, &mut report).await?;
    }
    report
        .removed
        .extend(cluster.remove_node_trust_identity().await?);

    // 2. What reaches outside kreg's namespace: pull secrets, tool discovery, the DNS entry.
    let pulled = state
        .as_ref()
        .map(|s| s.pull_secret_namespaces.clone())
        .unwrap_or_default();
    for pulled in pulled {
        if crate::install::auth::revoke(&cluster, &pulled).await? {
            report
                .removed
                .push(format!("Secret/{} -n {pulled}", names::PULL_SECRET));
        }
    }
    if crate::install::discovery::withdraw(&cluster).await? {
        report.removed.push(format!(
            "ConfigMap/{} -n {}",
            names::HOSTING.1,
            names::HOSTING.0
        ));
    }
    if crate::install::dns::withdraw(&cluster, &ns).await? {
        let (cns, cname) = crate::corefile::CONFIGMAP;
        r.done(&format!(
            "removed kreg's DNS entry from ConfigMap {cns}/{cname}"
        ));
        report
            .removed
            .push(format!("ConfigMap/{cname} -n {cns} (kreg's DNS entry)"));
    }

    // 3. Everything else kreg labelled in its namespace, of the kinds it sweeps: the registry,
    //    its exposure (Ingress, Gateway routes), the bootstrap, the caches, the gc schedule,
    //    the node agents' identity. The same rule as `up`'s prune, with nothing wanted; the
    //    caches first, so that their volumes (data) are reported as kept.
    remove_mirrors(&cluster, a.purge, &mut report).await?;
    let found = cluster.labelled(crate::render::SWEPT_KINDS).await?;
    for l in crate::render::unwanted(&[], &ns, &found, |l| (l.kind, l.name.as_str())) {
        if cluster.delete_labelled(l).await? {
            report.removed.push(format!("{}/{}", l.kind, l.name));
        }
    }
    // `up --issuer`: kreg's Certificate, by the UID kreg recorded (never the issuer, never a
    // Certificate of that name someone else made), before its Secret, which cert-manager
    // would otherwise write again.
    let cert = crate::manifests::CERTIFICATE;
    if let Some(uid) = state
        .as_ref()
        .and_then(|s| s.created_uid("Certificate", cert))
    {
        if cluster.delete_certificate_uid(cert, uid).await? {
            report.removed.push(format!("Certificate/{cert}"));
        }
        if let Some(i) = state.as_ref().and_then(|s| s.issuer.as_ref()) {
            report
                .kept
                .push(format!("{i} (cert-manager's issuer: not kreg's)"));
        }
    }
    del::<Secret>(&cluster, names::TLS_SECRET, &mut report).await?;
    del::<Secret>(&cluster, names::HTTP_SECRET, &mut report).await?;

    // 4. User data: only with --purge, and only what kreg created, by the UID it recorded
    //    (the API server checks it), so an object or namespace someone else made under the
    //    same name is never deleted. The user's own CA (`up --ca-secret`) is never touched.
    // (During a rotation to the user's CA, the Secret it switches to.)
    let users_ca = match state
        .as_ref()
        .and_then(|s| s.ca_secret.as_ref().or(s.ca_secret_next.as_ref()))
    {
        Some(s) if cluster.get::<Secret>(s).await?.is_some() => {
            report
                .kept
                .push(format!("Secret/{s} (your CA: kreg never deletes it)"));
            Some(s.clone())
        }
        _ => None,
    };
    if a.purge {
        let owner = state.as_ref();
        purge_owned::<PersistentVolumeClaim>(&cluster, owner, names::DATA_PVC, &mut report).await?;
        // The CA, and the halves of a `--rotate-ca` (the next CA with its key, the old
        // certificate) when kreg made them.
        for ca in [
            names::CA_SECRET,
            names::CA_NEXT_SECRET,
            names::CA_PREVIOUS_SECRET,
        ] {
            purge_owned::<Secret>(&cluster, owner, ca, &mut report).await?;
        }
        purge_owned::<Secret>(&cluster, owner, names::AUTH_SECRET, &mut report).await?;
        del::<ConfigMap>(&cluster, names::STATE, &mut report).await?;
        match owner.and_then(|s| s.created_uid("Namespace", &ns)) {
            // Deleting the namespace would delete the user's CA with it.
            Some(_) if users_ca.is_some() => report.kept.push(format!(
                "Namespace/{ns} (it holds your CA, Secret {})",
                users_ca.as_deref().unwrap_or_default()
            )),
            Some(uid) if namespace.metadata.uid.as_deref() == Some(uid) => {
                if cluster.delete_uid::<Namespace>(&ns, uid).await? {
                    // Removed means gone: the namespace controller deletes what is in it first
                    // (pods get their grace period, volumes wait for their pods), as
                    // `kubectl delete namespace` waits for.
                    r.step(&format!("waiting for namespace {ns} to be gone"));
                    let left = ctx.settings.timeout.saturating_sub(started.elapsed());
                    cluster.wait_namespace_not_terminating(left).await?;
                    report.removed.push(format!("Namespace/{ns}"));
                }
            }
            _ => report
                .kept
                .push(format!("Namespace/{ns} (not created by kreg)")),
        }
    } else {
        // The record stays, marked removed: the kept PVC, CA and namespace stay known as
        // kreg's (for a later `up` and `down --purge`), and so do the choices a later `up`
        // keeps (auth above all).
        if let Some(mut kept) = state.clone() {
            kept.installed = false;
            cluster.write_state(&kept).await?;
        }
        if cluster
            .get::<PersistentVolumeClaim>(names::DATA_PVC)
            .await?
            .is_some()
        {
            report.kept.push(format!(
                "PersistentVolumeClaim/{} (your images)",
                names::DATA_PVC
            ));
        }
        if cluster.get::<Secret>(names::CA_SECRET).await?.is_some() {
            report.kept.push(format!(
                "Secret/{} (the CA your clients trust)",
                names::CA_SECRET
            ));
        }
        if cluster.get::<Secret>(names::AUTH_SECRET).await?.is_some() {
            report.kept.push(format!(
                "Secret/{} (the password your clients log in with)",
                names::AUTH_SECRET
            ));
        }
        report.kept.push(format!("Namespace/{ns}"));
    }
    r.done(&format!(
        "removed {}",
        if report.removed.is_empty() {
            "nothing (already removed)".to_string()
        } else {
            report.removed.join(", ")
        }
    ));
    if !a.purge && report.kept.len() > 1 {
        r.info(&format!("kept {}: a later `kreg up` brings the same images back under the same CA; `kreg down --purge` deletes them", report.kept.join(", ")));
    }
    Ok(report)
}

/// The pull-through caches (`up --mirror`): their nodes' hosts.toml went with the node-trust
/// removal above; their cache PVCs stay unless `--purge`.
async fn remove_mirrors(cluster: &Cluster, purge: bool, report: &mut DownReport) -> Result<()> {
    let (removed, kept) = crate::install::mirrors::remove(cluster, purge).await?;
    report.removed.extend(removed);
    report.kept.extend(kept);
    Ok(())
}

/// `--purge`: deletes one object kreg created, by its recorded UID. An object of an older
/// kreg's record (no UIDs) counts as kreg's when it carries kreg's label; anything else of
/// that name is kept and reported.
async fn purge_owned<K: Object>(
    cluster: &Cluster,
    state: Option<&InstalledState>,
    name: &str,
    report: &mut DownReport,
) -> Result<()> {
    let kind = K::kind(&()).to_string();
    let Some(live) = cluster.get::<K>(name).await? else {
        return Ok(());
    };
    let uid = live.meta().uid.clone().unwrap_or_default();
    let labelled = crate::plan::is_kreg_managed(live.meta());
    let owned = match state {
        Some(s) => s.owns(&kind, name, Some(&uid), labelled),
        None => labelled,
    };
    if !owned {
        report
            .kept
            .push(format!("{kind}/{name} (not created by kreg)"));
        return Ok(());
    }
    if cluster.delete_uid::<K>(name, &uid).await? {
        report.removed.push(format!("{kind}/{name}"));
    }
    Ok(())
}

/// Deletes one object if present and records it as `Kind/name`.
async fn del<K: Object>(cluster: &Cluster, name: &str, report: &mut DownReport) -> Result<()> {
    if cluster.delete::<K>(name).await? {
        report.removed.push(format!("{}/{name}", K::kind(&())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_never_claim_an_s3_bucket_is_emptied() {
        assert!(keep_note(true).contains("S3 bucket's contents stay"));
        assert!(keep_note(false).contains("S3 bucket"));
    }
}

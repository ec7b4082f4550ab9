//! kreg's DNS entry for the registry's name in the cluster's CoreDNS (see `crate::corefile`):
//! Pods — in-cluster builders pushing to the registry — resolve the name where no public DNS
//! answers it. `up` checks the Corefile before its first write ([`check`]), adds or updates
//! the entry once the address is known ([`converge`]); `up --no-dns-entry` and `down` remove
//! it ([`withdraw`]); `status` reads it ([`read`]).
//!
//! Two routes: kreg's marked block in the Corefile itself, or — where the Corefile imports the
//! `*.server` files of ConfigMap `kube-system/coredns-custom` (k3s, AKS) — a key of kreg's own
//! there, leaving the Corefile (which k3s rewrites and AKS's addon manager reconciles)
//! untouched. A block written before stays on the Corefile route until removed.
//!
//! Like tool discovery, a missing CoreDNS (no ConfigMap `kube-system/coredns`: another DNS, or
//! none), an addon-manager-owned Corefile or no right to edit it is said and never fails `up`;
//! kreg markers (or a kreg key) not as kreg wrote them are refused before anything is written.

use std::net::IpAddr;

use anyhow::Result;
use serde::Serialize;

use crate::cluster::{Cluster, Corefile, Edited};
use crate::corefile::{self, Edit, Entry, CONFIGMAP};

/// `kube-system/coredns`, for messages.
fn where_() -> String {
    format!("ConfigMap {}/{}", CONFIGMAP.0, CONFIGMAP.1)
}

/// Why there is no Corefile to edit, in words.
fn missing(c: &Corefile) -> String {
    match c {
        Corefile::Absent => format!(
            "no CoreDNS to tell: {} does not exist (the cluster's DNS is something else)",
            where_()
        ),
        Corefile::NoKey => format!("{} has no {} key", where_(), corefile::KEY),
        Corefile::Forbidden(why) => format!("not allowed to read {}: {why}", where_()),
        Corefile::Reconciled(_) => format!(
            "{} belongs to the cluster's addon manager (label addonmanager.kubernetes.io/mode=Reconcile, as on AKS), which reverts every edit; on AKS a server block in ConfigMap kube-system/coredns-custom is the way",
            where_()
        ),
        Corefile::Text(_) => String::new(),
    }
}

/// Before `up`'s first write: a Corefile kreg could not edit safely is an error now, not
/// after the registry is installed. No Corefile is fine (said later).
pub async fn check(cluster: &Cluster, ns: &str) -> Result<()> {
    if let Corefile::Text(t) | Corefile::Reconciled(t) = cluster.read_corefile().await? {
        corefile::check(&t, ns)?;
        if corefile::imports_custom(&t)? {
            let data = cluster.read_coredns_custom().await?.unwrap_or_default();
            if let Some(old) = data.get(&corefile::custom_key(ns)) {
                corefile::read_custom(old, ns)?;
            }
        }
    }
    Ok(())
}

/// `kube-system/coredns-custom`'s key of kreg's, for messages.
fn custom_place(ns: &str) -> String {
    let (cns, cname) = corefile::CUSTOM;
    format!("ConfigMap {cns}/{cname} (key {})", corefile::custom_key(ns))
}

/// The Corefile's text when kreg's entry goes into `kube-system/coredns-custom` (k3s, AKS):
/// the Corefile imports that ConfigMap's server files and holds no block of kreg's for `ns`
/// (one written there before stays there until removed).
async fn custom_route(cluster: &Cluster, ns: &str) -> Result<Option<String>> {
    let (Corefile::Text(text) | Corefile::Reconciled(text)) = cluster.read_corefile().await? else {
        return Ok(None);
    };
    if corefile::find(&text, ns)?.is_some() || !corefile::imports_custom(&text)? {
        return Ok(None);
    }
    Ok(Some(text))
}

/// The custom route of [`converge`]: kreg's own key in `kube-system/coredns-custom`.
async fn converge_custom(
    cluster: &Cluster,
    ns: &str,
    corefile_text: &str,
    entry: &Entry,
) -> Result<Converged> {
    let key = corefile::custom_key(ns);
    let port = corefile::port(corefile_text)?;
    let data = cluster.read_coredns_custom().await?.unwrap_or_default();
    if let Some(old) = data.get(&key) {
        corefile::read_custom(old, ns)?;
    }
    let mut taken = corefile::serves(corefile_text, &entry.name, port)?;
    for (k, v) in data
        .iter()
        .filter(|(k, _)| **k != key && k.ends_with(".server"))
    {
        if taken.is_none() {
            taken = corefile::serves(v, &entry.name, port)
                .ok()
                .flatten()
                .map(|z| format!("{z} (key {k})"));
        }
    }
    if let Some(k) = taken {
        return Ok(Converged {
            text: format!(
                "not added: the server block `{k}` already answers {}; kreg leaves it alone",
                entry.name
            ),
            written: false,
            present: false,
            warn: true,
        });
    }
    let value = corefile::custom_server(ns, entry, port);
    let written = cluster
        .set_coredns_custom(&key, Some(&value), |d| match d.get(&key) {
            Some(old) => corefile::read_custom(old, ns).map(|_| ()),
            None => Ok(()),
        })
        .await;
    Ok(match written {
        Ok(written) => Converged {
            text: format!("{entry} in {}", custom_place(ns)),
            written,
            present: true,
            warn: false,
        },
        Err(e) => Converged {
            text: format!("not added: {e:#}"),
            written: false,
            present: false,
            warn: true,
        },
    })
}

/// The entry the registry needs: its name and the IP it is reached at.
pub fn wanted(host: &str, ips: &[IpAddr]) -> Option<Entry> {
    corefile::wanted(host, ips.first().copied())
}

/// What [`converge`] did, for `up`'s report (`dns_entry`) and its progress lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converged {
    /// One line: the entry and what happened, or why there is none.
    pub text: String,
    /// The Corefile was written.
    pub written: bool,
    /// The wanted entry is in the Corefile now.
    pub present: bool,
    /// Worth a warning (an entry was wanted and is not there).
    pub warn: bool,
}

/// Adds, updates or (with `want` empty) removes kreg's block for `ns`. Never fails for a
/// missing CoreDNS or a write it may not make; fails on markers kreg did not write.
pub async fn converge(cluster: &Cluster, ns: &str, want: Option<&Entry>) -> Result<Converged> {
    if let (Some(entry), Some(text)) = (want, custom_route(cluster, ns).await?) {
        return converge_custom(cluster, ns, &text, entry).await;
    }
    let Some(entry) = want else {
        let w = withdraw(cluster, ns).await?;
        return Ok(Converged {
            text: if w {
                format!("removed from {}", where_())
            } else {
                "none".into()
            },
            written: w,
            present: false,
            warn: false,
        });
    };
    enum Verdict {
        Done,
        Taken(String),
        Refused(anyhow::Error),
    }
    let edited = cluster
        .edit_corefile(|text| match corefile::upsert(text, ns, entry) {
            Ok(Edit::Changed(new)) => (Some(new), Verdict::Done),
            Ok(Edit::Unchanged) => (None, Verdict::Done),
            Ok(Edit::Taken(key)) => (None, Verdict::Taken(key)),
            Err(e) => (None, Verdict::Refused(e)),
        })
        .await;
    let edited = match edited {
        Ok(e) => e,
        // Not allowed to write, or the API failed: the registry works without the entry.
        Err(e) => {
            return Ok(Converged {
                text: format!("not added: {e:#}"),
                written: false,
                present: false,
                warn: true,
            })
        }
    };
    Ok(match edited {
        // Markers kreg did not write: the user's to fix (the error's hint says how).
        Edited::Unchanged(Verdict::Refused(e)) => return Err(e),
        Edited::Written(_) => Converged {
            text: format!("{entry} in {}", where_()),
            written: true,
            present: true,
            warn: false,
        },
        Edited::Unchanged(Verdict::Done) => Converged {
            text: format!("{entry} in {}", where_()),
            written: false,
            present: true,
            warn: false,
        },
        Edited::Unchanged(Verdict::Taken(key)) => Converged {
            text: format!(
                "not added: the Corefile's own server block `{key}` answers {}; kreg leaves it alone",
                entry.name
            ),
            written: false,
            present: false,
            warn: true,
        },
        Edited::Missing(c) => Converged {
            text: format!("not added: {}", missing(&c)),
            written: false,
            present: false,
            // No CoreDNS is a cluster without it, not a failure.
            warn: matches!(
                c,
                Corefile::Forbidden(_) | Corefile::NoKey | Corefile::Reconciled(_)
            ),
        },
    })
}

/// Removes kreg's block for `ns`; whether there was one. Markers kreg did not write: error.
pub async fn withdraw(cluster: &Cluster, ns: &str) -> Result<bool> {
    let edited = cluster
        .edit_corefile(|text| match corefile::remove(text, ns) {
            Ok(new) => (new, None),
            Err(e) => (None, Some(e)),
        })
        .await?;
    let from_corefile = match edited {
        Edited::Written(_) => true,
        Edited::Unchanged(Some(e)) => return Err(e),
        Edited::Unchanged(None) | Edited::Missing(_) => false,
    };
    let key = corefile::custom_key(ns);
    let from_custom = match cluster.read_coredns_custom().await? {
        Some(data) if data.contains_key(&key) => {
            cluster
                .set_coredns_custom(&key, None, |d| match d.get(&key) {
                    Some(old) => corefile::read_custom(old, ns).map(|_| ()),
                    None => Ok(()),
                })
                .await?
        }
        _ => false,
    };
    Ok(from_corefile || from_custom)
}

/// `kreg status`: kreg's entry as the Corefile holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DnsEntryStatus {
    /// kreg's block for this namespace is in the Corefile.
    pub present: bool,
    /// The name it answers (when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address it answers with (when present).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// In words: where, or why there is none.
    pub note: String,
}

/// Reads kreg's entry for `ns` (never an error: status reports what it finds).
pub async fn read(cluster: &Cluster, ns: &str) -> DnsEntryStatus {
    let absent = |note: String| DnsEntryStatus {
        present: false,
        name: None,
        ip: None,
        note,
    };
    match cluster.read_corefile().await {
        Ok(Corefile::Text(t) | Corefile::Reconciled(t)) => match corefile::find(&t, ns) {
            Ok(Some(e)) => DnsEntryStatus {
                present: true,
                name: Some(e.name.clone()),
                ip: Some(e.ip.to_string()),
                note: format!("{e} in {}", where_()),
            },
            Ok(None) => {
                let key = corefile::custom_key(ns);
                let custom = cluster.read_coredns_custom().await.ok().flatten();
                match custom.as_ref().and_then(|d| d.get(&key)) {
                    Some(v) => match corefile::read_custom(v, ns) {
                        Ok(e) => DnsEntryStatus {
                            present: true,
                            name: Some(e.name.clone()),
                            ip: Some(e.ip.to_string()),
                            note: format!("{e} in {}", custom_place(ns)),
                        },
                        Err(e) => absent(format!("{e:#}")),
                    },
                    None => absent(format!("no kreg entry in {}", where_())),
                }
            }
            Err(e) => absent(format!("{e:#}")),
        },
        Ok(other) => absent(missing(&other)),
        Err(e) => absent(format!("{e:#}")),
    }
}

/// A warning for `kreg status` when the entry `up` would keep is not what the Corefile holds
/// (someone removed it, the address moved); none without CoreDNS or with `--no-dns-entry`.
pub fn status_warning(
    state: &crate::state::InstalledState,
    seen: &DnsEntryStatus,
) -> Option<String> {
    let ip = state.address.parse::<IpAddr>().ok();
    let want = corefile::wanted(&state.host, ip).filter(|_| state.dns_entry)?;
    let same = seen.name.as_deref() == Some(want.name.as_str())
        && seen.ip.as_deref() == Some(want.ip.to_string().as_str());
    let has_coredns = seen.present || seen.note.starts_with("no kreg entry");
    (!same && has_coredns).then(|| {
        format!(
            "the cluster's CoreDNS does not answer {want} for Pods ({}); `kreg up` puts kreg's entry back",
            seen.note
        )
    })
}

//! The registry's TLS material in Secrets: the CA (created once, with name constraints; its
//! two-phase `--rotate-ca`; or the user's own, read from the `--ca-secret` Secret, which kreg
//! only reads) and the serving certificates of the registry and the caches (reused while they
//! cover the address and have time left). `up` and the caches call it; the certificates
//! themselves are made by the pure [`crate::pki`]. With `up --issuer`, cert-manager's issuer
//! signs the serving certificate instead (a Certificate kreg writes; [`ensure_issued`]).

use anyhow::{anyhow, Result};
use k8s_openapi::api::core::v1::Secret;

use crate::cluster::{Applied, Cluster};
use crate::error::hint;
use crate::manifests;
use crate::pki::{self, KeyPairPem};
use crate::plan::{names, Endpoint, IssuerRef, Plan};

/// A serving certificate with less than this left is re-issued by `up`.
pub const LEAF_RENEW_BEFORE: time::Duration = time::Duration::days(30);

/// The CA this `up` signs with, and what it hands nodes and clients to trust.
pub struct CaSet {
    pub signing: KeyPairPem,
    /// `--ca-secret`: the user's Secret `signing` came from (None: kreg's own CA).
    pub source: Option<String>,
    /// During a rotation to the user's CA: the Secret nodes are being given to trust.
    pub next_source: Option<String>,
    /// One PEM certificate, or during a `--rotate-ca` the old and the new one.
    pub trust_pem: String,
    /// A rotation waits for every node to trust both before the registry switches.
    pub distributing: bool,
    /// `Secret/...` entries for the plan's list of changes.
    pub changed: Vec<String>,
    /// The CA Secrets this `up` created, as stored (their UIDs go to the record, so that
    /// `down --purge` deletes them and nothing else of that name).
    pub created: Vec<Secret>,
}

/// The CA, created with name constraints for this installation when absent (a concurrent `up`
/// adopts the winner's), or the user's (`current`: the `--ca-secret` the registry serves under
/// now). `--rotate-ca` never deletes a CA before its successor is in place:
///
/// 1. the new CA is written to Secret `kreg-ca-next` (a new CA of kreg's own with its key; or,
///    when switching to the user's CA `plan.ca_secret`, only its certificate, annotated with
///    the Secret's name); nodes and clients get the old and the new certificate together while
///    the registry keeps serving under the old one;
/// 2. once every node trusts both (this `up` waited for it), `kreg-ca-next` is marked and `up`
///    runs again: the old certificate is kept (no key) in `kreg-ca-previous`, the new CA takes
///    over (kreg's own: `kreg-ca` is replaced in place, one update; the user's: it signs from
///    its Secret), `kreg-ca-next` is removed, and the serving certificate re-issued under the
///    new CA while both are still trusted;
/// 3. the next `up` drops the old certificate.
///
/// Each step can be repeated after a crash: a later `up` resumes from what the Secrets say.
pub async fn ensure_ca(
    cluster: &Cluster,
    plan: &Plan,
    endpoint: &Endpoint,
    rotate: bool,
    current: Option<&str>,
) -> Result<CaSet> {
    let scope = pki::ca_scope(
        plan.wildcard_suffix(),
        Some(&endpoint.host),
        &plan.namespace,
        &endpoint.ips,
    );
    let new_ca_secret = |name: &str| -> Result<(KeyPairPem, Secret)> {
        let ca = pki::generate_ca(time::OffsetDateTime::now_utc(), &scope)?;
        let secret = manifests::secret(
            &plan.namespace,
            name,
            "Opaque",
            &[
                ("ca.crt", ca.cert_pem.as_bytes()),
                ("ca.key", ca.key_pem.as_bytes()),
            ],
        );
        Ok((ca, secret))
    };
    let (mut changed, mut made) = (vec![], vec![]);
    let source = current.map(str::to_string);
    let current = match current {
        Some(name) => external_ca(cluster, plan, endpoint, name).await?,
        None => match cluster.get::<Secret>(names::CA_SECRET).await? {
            Some(s) => ca_from_secret(&s, names::CA_SECRET)?,
            None => {
                let (_, secret) = new_ca_secret(names::CA_SECRET)?;
                let (stored, created) = cluster.create_if_absent(&secret).await?;
                if created {
                    changed.push(format!("Secret/{}", names::CA_SECRET));
                }
                return Ok(CaSet {
                    trust_pem: ca_from_secret(&stored, names::CA_SECRET)?.cert_pem,
                    signing: ca_from_secret(&stored, names::CA_SECRET)?,
                    source: None,
                    next_source: None,
                    distributing: false,
                    changed,
                    created: if created { vec![stored] } else { vec![] },
                });
            }
        },
    };
    let next = cluster.get::<Secret>(names::CA_NEXT_SECRET).await?;
    let previous = cluster
        .get::<Secret>(names::CA_PREVIOUS_SECRET)
        .await?
        .and_then(|s| manifests::secret_text(&s, "ca.crt"));
    let bundle = |old: &str, new: &str| format!("{}\n{}", old.trim_end(), new);
    if let Some(next_secret) = next {
        let next_source = next_target(&next_secret);
        let next = match &next_source {
            Some(name) => next_external(cluster, plan, endpoint, &next_secret, name).await?,
            None => ca_from_secret(&next_secret, names::CA_NEXT_SECRET)?,
        };
        let distributed = next_secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CA_DISTRIBUTED))
            .is_some_and(|v| v == "true");
        if !distributed {
            return Ok(CaSet {
                trust_pem: bundle(&current.cert_pem, &next.cert_pem),
                signing: distributing_signer(current, next, endpoint),
                source,
                next_source,
                distributing: true,
                changed,
                created: made,
            });
        }
        // The switch. Already half done (kreg-ca holds the new CA): the old one is in
        // kreg-ca-previous, which must not be overwritten with the new one.
        let old_pem = if current.cert_pem == next.cert_pem {
            previous.clone().unwrap_or_default()
        } else {
            let how = cluster
                .apply(&manifests::secret(
                    &plan.namespace,
                    names::CA_PREVIOUS_SECRET,
                    "Opaque",
                    &[("ca.crt", current.cert_pem.as_bytes())],
                ))
                .await?;
            if how == Applied::Created {
                made.extend(cluster.get::<Secret>(names::CA_PREVIOUS_SECRET).await?);
            }
            if next_source.is_none() {
                let mut replaced = manifests::secret(
                    &plan.namespace,
                    names::CA_SECRET,
                    "Opaque",
                    &[
                        ("ca.crt", next.cert_pem.as_bytes()),
                        ("ca.key", next.key_pem.as_bytes()),
                    ],
                );
                replaced.metadata.resource_version = None;
                cluster.replace(&replaced).await?;
                changed.push(format!("Secret/{} (the new CA)", names::CA_SECRET));
            }
            current.cert_pem.clone()
        };
        cluster.delete::<Secret>(names::CA_NEXT_SECRET).await?;
        return Ok(CaSet {
            trust_pem: if old_pem.is_empty() {
                next.cert_pem.clone()
            } else {
                bundle(&old_pem, &next.cert_pem)
            },
            signing: next,
            source: next_source,
            next_source: None,
            distributing: false,
            changed,
            created: made,
        });
    }
    if rotate {
        // A finished earlier rotation's old certificate: every pod serves under the current CA.
        cluster.delete::<Secret>(names::CA_PREVIOUS_SECRET).await?;
        let target = plan
            .ca_secret
            .clone()
            .filter(|t| Some(t) != source.as_ref());
        let secret = match &target {
            // To the user's CA: its certificate only; the key stays in their Secret.
            Some(name) => {
                let theirs = read_ca_secret(cluster, &plan.namespace, name).await?;
                let mut s = manifests::secret(
                    &plan.namespace,
                    names::CA_NEXT_SECRET,
                    "Opaque",
                    &[("ca.crt", theirs.cert_pem.as_bytes())],
                );
                s.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(CA_NEXT_FROM.into(), name.clone());
                s
            }
            None => new_ca_secret(names::CA_NEXT_SECRET)?.1,
        };
        let (stored, created) = cluster.create_if_absent(&secret).await?;
        if created {
            made.push(stored.clone());
        }
        let next_source = next_target(&stored);
        let next = match &next_source {
            Some(name) => next_external(cluster, plan, endpoint, &stored, name).await?,
            None => ca_from_secret(&stored, names::CA_NEXT_SECRET)?,
        };
        changed.push(format!(
            "Secret/{} (new CA, trusted beside the old one)",
            names::CA_NEXT_SECRET
        ));
        return Ok(CaSet {
            trust_pem: bundle(&current.cert_pem, &next.cert_pem),
            signing: distributing_signer(current, next, endpoint),
            source,
            next_source,
            distributing: true,
            changed,
            created: made,
        });
    }
    if let Some(old) = previous {
        // Retired once the registry's certificate is the current CA's (a crash between the
        // switch and the new certificate keeps the old one trusted).
        let leaf = cluster
            .get::<Secret>(names::TLS_SECRET)
            .await?
            .and_then(|s| manifests::secret_text(&s, "tls.crt"));
        if leaf.is_some_and(|l| pki::verify_signed_by(&l, &current.cert_pem).is_ok()) {
            cluster.delete::<Secret>(names::CA_PREVIOUS_SECRET).await?;
            changed.push(format!(
                "Secret/{} (deleted: the old CA is no longer trusted)",
                names::CA_PREVIOUS_SECRET
            ));
        } else {
            return Ok(CaSet {
                trust_pem: bundle(&old, &current.cert_pem),
                signing: current,
                source,
                next_source: None,
                distributing: false,
                changed,
                created: made,
            });
        }
    }
    Ok(CaSet {
        trust_pem: current.cert_pem.clone(),
        signing: current,
        source,
        next_source: None,
        distributing: false,
        changed,
        created: made,
    })
}

/// On Secret `kreg-ca-next`: the user's Secret the rotation switches to (absent: a new CA of
/// kreg's own, with its key in `kreg-ca-next`).
const CA_NEXT_FROM: &str = "kreg.dev/ca-secret";

/// The rotation in flight, read from Secret `kreg-ca-next`: `None` when there is none,
/// `Some(None)` for a new CA of kreg's own, `Some(Some(name))` for the user's in Secret `name`.
pub async fn rotation_in_flight(cluster: &Cluster) -> Result<Option<Option<String>>> {
    Ok(cluster
        .get::<Secret>(names::CA_NEXT_SECRET)
        .await?
        .map(|s| next_target(&s)))
}

fn next_target(next: &Secret) -> Option<String> {
    next.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CA_NEXT_FROM))
        .cloned()
}

/// The user's CA a rotation switches to: read from its Secret, and still the certificate
/// nodes were given (a Secret changed in the middle of a rotation would switch the registry
/// to a CA no node trusts).
async fn next_external(
    cluster: &Cluster,
    plan: &Plan,
    endpoint: &Endpoint,
    next: &Secret,
    name: &str,
) -> Result<KeyPairPem> {
    let theirs = external_ca(cluster, plan, endpoint, name).await?;
    let given = manifests::secret_text(next, "ca.crt").unwrap_or_default();
    if !pki::same_public_key(&given, &theirs.cert_pem).unwrap_or(false) {
        return Err(hint(
            format!("Secret {name} holds another CA than the one this rotation gave the nodes (Secret {}); nothing was switched", names::CA_NEXT_SECRET),
            format!("put that CA back into Secret {name} and run `kreg up` to finish, or delete Secret {} and start again with --rotate-ca", names::CA_NEXT_SECRET),
        ));
    }
    Ok(theirs)
}

/// `--ca-secret`: the user's CA, checked, and allowed by its name constraints (if any) to sign
/// for the registry. Its key stays in the user's Secret (kreg holds it in memory to sign, and
/// writes only the serving certificate's own key).
async fn external_ca(
    cluster: &Cluster,
    plan: &Plan,
    endpoint: &Endpoint,
    name: &str,
) -> Result<KeyPairPem> {
    let ca = read_ca_secret(cluster, &plan.namespace, name).await?;
    // A CA with name constraints must allow the registry's name: checked here, so the message
    // is about the user's CA and not kreg's.
    pki::scope_permits(
        pki::ca_scope_of(&ca.cert_pem)?.as_ref(),
        &endpoint.host,
        &endpoint.ips,
    )
    .map_err(|e| {
        hint(
            format!("--ca-secret {name}: your CA's name constraints do not cover the registry: {e}"),
            format!(
                "use a CA whose constraints permit {} (or none), or choose a name it covers with --host",
                endpoint.host
            ),
        )
    })?;
    Ok(ca)
}

/// Reads and checks the user's CA (`--ca-secret`): the Secret exists in kreg's namespace, is a
/// `kubernetes.io/tls` Secret, and its `tls.crt`/`tls.key` pass [`pki::check_user_ca`]. `up`
/// calls it before anything is applied, and again when it signs. Returns the certificate
/// (re-encoded, nothing else) and the key.
pub async fn read_ca_secret(cluster: &Cluster, namespace: &str, name: &str) -> Result<KeyPairPem> {
    let create = format!(
        "put your CA there first: kubectl -n {namespace} create secret tls {name} --cert=ca.crt --key=ca.key \
(the CA certificate, CA:true and valid now, and its unencrypted key)"
    );
    let flag = format!("--ca-secret {name}");
    let Some(s) = cluster.get::<Secret>(name).await? else {
        return Err(hint(
            format!("{flag}: Secret {name} does not exist in namespace {namespace}; nothing was changed"),
            create,
        ));
    };
    let kind = s.type_.as_deref().unwrap_or("Opaque");
    if kind != "kubernetes.io/tls" {
        return Err(hint(
            format!("{flag}: Secret {name} is of type {kind}, not kubernetes.io/tls; nothing was changed"),
            create,
        ));
    }
    let get = |k: &str| -> Result<String> {
        manifests::secret_text(&s, k)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                hint(
                    format!("{flag}: Secret {name} has no {k}; nothing was changed"),
                    create.clone(),
                )
            })
    };
    let given = KeyPairPem {
        cert_pem: get("tls.crt")?,
        key_pem: get("tls.key")?,
    };
    let cert_pem = pki::check_user_ca(&given, time::OffsetDateTime::now_utc()).map_err(|e| {
        hint(
            format!("{flag}: {e:#}; nothing was changed"),
            format!("kreg signs the registry's certificate with the CA in Secret {name}: tls.crt must be exactly one CA certificate (basicConstraints CA:true, keyUsage keyCertSign if it has a keyUsage, valid now) and tls.key its unencrypted PKCS#8 key (ECDSA P-256/P-384, Ed25519 or RSA)"),
        )
    })?;
    Ok(KeyPairPem {
        cert_pem,
        key_pem: given.key_pem,
    })
}

/// `--ca-secret` kept from the last `up`: the Secret may have been given new content. A
/// renewed certificate of the same key pair is taken as it is (what the registry serves still
/// chains to it); a different key pair would leave every node trusting only a CA the registry
/// no longer serves under, so it is refused while the registry is installed.
pub fn check_same_ca(name: &str, recorded_pem: &str, now_pem: &str) -> Result<()> {
    if recorded_pem.is_empty() || pki::bundle_has_key_of(recorded_pem, now_pem)? {
        return Ok(());
    }
    Err(hint(
        format!("--ca-secret {name}: the Secret now holds another CA (a different key) than the one the registry serves under and every node trusts; nothing was changed"),
        format!("put the previous CA back into Secret {name}, or run `kreg down` (images are kept), then `kreg up`, then `kreg trust-local` on each workstation"),
    ))
}

/// Marks the rotation's new CA as trusted by every node: the next pass may switch to it.
pub async fn mark_distributed(cluster: &Cluster) -> Result<()> {
    let Some(mut s) = cluster.get::<Secret>(names::CA_NEXT_SECRET).await? else {
        return Ok(());
    };
    s.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(CA_DISTRIBUTED.into(), "true".into());
    cluster.replace(&s).await.map(|_| ())
}

/// Which CA signs the serving certificate while nodes are given the old and the new one: the
/// current CA, so that no node sees a certificate it cannot verify yet; but when the current
/// CA's name constraints do not permit the registry's name (a new `--host` with
/// `--rotate-ca`, an address the old CA was not made for) no certificate under it could be
/// served, and the new CA signs at once. Every node gets both either way, and the rotation's
/// second pass switches as usual.
fn distributing_signer(current: KeyPairPem, next: KeyPairPem, endpoint: &Endpoint) -> KeyPairPem {
    if permits(&current.cert_pem, endpoint) {
        current
    } else {
        next
    }
}

/// Whether a CA's name constraints (if any) permit a certificate for the endpoint.
fn permits(ca_pem: &str, endpoint: &Endpoint) -> bool {
    match pki::ca_scope_of(ca_pem) {
        Ok(scope) => pki::scope_permits(scope.as_ref(), &endpoint.host, &endpoint.ips).is_ok(),
        // Unreadable: signing with it fails with the reason.
        Err(_) => true,
    }
}

/// On Secret `kreg-ca-next`: every node trusted the old and the new CA.
const CA_DISTRIBUTED: &str = "kreg.dev/ca-distributed";

/// Before anything is written: the registry's new name (`--host`) must be one the CA that
/// signs it permits. Finding out later, at the certificate, left the Service and the record
/// switched to a name nobody could be given a certificate for. `--ca-secret` CAs are checked
/// the same way (`users_ca`, already read by the caller); a first `up` (no CA yet) makes a
/// CA for the name.
pub async fn check_new_name(
    cluster: &Cluster,
    plan: &Plan,
    users_ca: Option<&str>,
    rotate: bool,
) -> Result<()> {
    let Some(host) = plan.host.as_deref() else {
        return Ok(());
    };
    let ca_pem = match users_ca {
        Some(pem) => pem.to_string(),
        None if rotate => return Ok(()),
        None => match cluster.get::<Secret>(names::CA_SECRET).await? {
            Some(s) => match manifests::secret_text(&s, "ca.crt") {
                Some(pem) => pem,
                None => return Ok(()),
            },
            None => return Ok(()),
        },
    };
    let scope = pki::ca_scope_of(&ca_pem)?;
    pki::scope_permits(scope.as_ref(), host, &[]).map_err(|e| {
        let within = scope
            .as_ref()
            .map(|s| s.dns.join(", "))
            .unwrap_or_default();
        hint(
            format!("--host {host}: the registry's CA cannot sign for this name ({e}); nothing was changed"),
            new_name_hint(&within, users_ca.is_none()),
        )
    })
}

/// What to do about a `--host` the CA cannot sign for, each a command that works as said:
/// a name the CA permits; with kreg's own CA, the same command with `--rotate-ca` (its new CA
/// is made for the new name and signs at once, see [`distributing_signer`]); or the plain
/// `kreg up`, which keeps the recorded exposure and name (`--expose ingress` or `gateway`
/// alone would still need a `--host`).
fn new_name_hint(within: &str, own_ca: bool) -> String {
    let mut ways = vec![];
    if !within.is_empty() {
        ways.push(format!("choose a --host under {within}"));
    }
    if own_ca {
        ways.push("add --rotate-ca to this command to replace kreg's CA with one made for this name (then run `kreg trust-local` again on each workstation)".to_string());
    }
    ways.push("run `kreg up` without --host and --expose to keep the current name".to_string());
    ways.join("; or ")
}

fn ca_from_secret(s: &Secret, name: &str) -> Result<KeyPairPem> {
    let get = |k: &str| -> Result<String> {
        manifests::secret_text(s, k)
            .ok_or_else(|| anyhow!("Secret {name} has no PEM text under {k}"))
    };
    let ca = KeyPairPem {
        cert_pem: get("ca.crt")?,
        key_pem: get("ca.key")?,
    };
    pki::key_matches(&ca.cert_pem, &ca.key_pem).map_err(|e| {
        // `--rotate-ca` reads this Secret too: it cannot replace a CA it cannot read.
        hint(
            format!("the CA in Secret {name} is damaged: {e}"),
            if name == names::CA_NEXT_SECRET {
                format!("delete Secret {name} and run `kreg up --rotate-ca` to start the rotation again")
            } else {
                format!("restore it from a backup; or delete Secret {name} and run `kreg up`, which makes a new CA and gives it to every node (then run `kreg trust-local` again on each workstation)")
            },
        )
    })?;
    Ok(ca)
}

/// The serving certificate in Secret `secret_name` (the registry's, or a mirror's), reused
/// while it covers `endpoint`, is signed by `ca` and has time left; issued anew otherwise.
pub async fn ensure_leaf(
    cluster: &Cluster,
    plan: &Plan,
    ca: &KeyPairPem,
    endpoint: &Endpoint,
    secret_name: &str,
) -> Result<(KeyPairPem, bool)> {
    let now = time::OffsetDateTime::now_utc();
    if let Some(s) = cluster.get::<Secret>(secret_name).await? {
        let (cert, key) = (
            manifests::secret_text(&s, "tls.crt"),
            manifests::secret_text(&s, "tls.key"),
        );
        if let (Some(cert_pem), Some(key_pem)) = (cert, key) {
            let usable = pki::leaf_covers(
                &cert_pem,
                &endpoint.host,
                &endpoint.ips,
                now,
                LEAF_RENEW_BEFORE,
            ) && pki::verify_signed_by(&cert_pem, &ca.cert_pem).is_ok()
                && pki::key_matches(&cert_pem, &key_pem).is_ok();
            if usable {
                return Ok((KeyPairPem { cert_pem, key_pem }, false));
            }
        }
    }
    let leaf = pki::issue_leaf(ca, &endpoint.host, &endpoint.ips, now)?;
    let secret = manifests::secret(
        &plan.namespace,
        secret_name,
        "kubernetes.io/tls",
        &[
            ("tls.crt", leaf.cert_pem.as_bytes()),
            ("tls.key", leaf.key_pem.as_bytes()),
            ("ca.crt", ca.cert_pem.as_bytes()),
        ],
    );
    cluster.apply(&secret).await?;
    Ok((leaf, true))
}

/// `--issuer`, before anything is written: cert-manager's CRDs are served, the issuer exists,
/// is not an ACME issuer (a public CA: kreg has no CA certificate to give the nodes), and has
/// not said it is broken; a Certificate of kreg's name that exists is kreg's own (by the UID
/// kreg recorded, or kreg's label when the record has none: an `up` stopped before its record).
pub async fn check_issuer(
    cluster: &Cluster,
    plan: &Plan,
    issuer: &IssuerRef,
    prev: Option<&crate::state::InstalledState>,
) -> Result<()> {
    let served = cluster.cert_manager_resources().await;
    let plural = match issuer.kind {
        crate::plan::IssuerKind::Issuer => "issuers",
        crate::plan::IssuerKind::ClusterIssuer => "clusterissuers",
    };
    if !served.iter().any(|r| r == "certificates") || !served.iter().any(|r| r == plural) {
        return Err(hint(
            format!("--issuer {issuer}: this cluster does not serve cert-manager's API (cert-manager.io/v1 certificates and {plural}); nothing was changed"),
            "install cert-manager first (its CRDs and controller), or leave out --issuer to have kreg's own CA sign the registry's certificate",
        ));
    }
    let Some(found) = cluster.cert_manager_issuer(issuer).await? else {
        let where_ = match issuer.kind {
            crate::plan::IssuerKind::Issuer => format!(" in namespace {}", plan.namespace),
            crate::plan::IssuerKind::ClusterIssuer => String::new(),
        };
        return Err(hint(
            format!("--issuer {issuer}: there is no {}{where_}; nothing was changed", issuer),
            "name an existing issuer: kubectl get clusterissuers (for ClusterIssuer/NAME) or kubectl -n NAMESPACE get issuers (for Issuer/NAME: it must be in kreg's namespace)",
        ));
    };
    if let Some((problem, fix)) = issuer_problem(&found) {
        return Err(hint(
            format!("--issuer {issuer}: {problem}; nothing was changed"),
            fix,
        ));
    }
    if let Some(cert) = cluster.certificate(manifests::CERTIFICATE).await? {
        let meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta =
            serde_json::from_value(cert["metadata"].clone()).unwrap_or_default();
        let recorded = prev.and_then(|p| p.created_uid("Certificate", manifests::CERTIFICATE));
        let ours = match recorded {
            Some(uid) => meta.uid.as_deref() == Some(uid),
            None => crate::plan::is_kreg_managed(&meta),
        };
        if !ours {
            return Err(hint(
                format!(
                    "Certificate {} exists in namespace {} and was not created by kreg; nothing was changed",
                    manifests::CERTIFICATE,
                    plan.namespace
                ),
                format!("kreg never takes over an object it did not create: rename or delete Certificate {} yourself, or install into another namespace with -n", manifests::CERTIFICATE),
            ));
        }
    }
    Ok(())
}

/// What is wrong with an issuer for kreg, read from the object: an ACME issuer (a public CA,
/// whose Secrets carry no `ca.crt`: nodes would need no extra trust, and kreg could prove
/// none), or one whose Ready condition is False (its message). An issuer without a status yet
/// is given its chance: the wait for the Certificate says what happens. Pure.
pub fn issuer_problem(issuer: &serde_json::Value) -> Option<(String, String)> {
    if issuer["spec"].get("acme").is_some() {
        return Some((
            "it is an ACME issuer: its certificates come from a public CA, and kreg's node trust (hosts.toml and ca.crt on every node, trust-local) needs the issuing CA's certificate, which ACME issuers do not give".into(),
            "use a CA, Vault or self-signed issuer whose Secrets carry ca.crt; a registry with a publicly trusted certificate needs no kreg node trust (--no-node-trust) and no --issuer".into(),
        ));
    }
    let ready = issuer["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))?;
    (ready["status"] == "False").then(|| {
        (
            format!(
                "the issuer is not ready: {} ({})",
                ready["message"].as_str().unwrap_or("no message"),
                ready["reason"].as_str().unwrap_or("no reason")
            ),
            "fix the issuer first (kubectl describe shows its conditions; a CA issuer needs its Secret with tls.crt and tls.key), then run `kreg up` again".into(),
        )
    })
}

/// Where a Certificate is, read from its status. Pure.
#[derive(Debug, PartialEq, Eq)]
pub enum Issuance {
    /// Ready for the spec kreg applied (its generation).
    Ready,
    /// Still being issued: the Ready condition's message, if any.
    Waiting(String),
    /// cert-manager gave up on this request: its message (it retries later with a backoff).
    Failed(String),
}

pub fn issuance(cert: &serde_json::Value) -> Issuance {
    let generation = cert["metadata"]["generation"].as_i64();
    let conditions = cert["status"]["conditions"].as_array();
    let cond = |t: &str| conditions.and_then(|cs| cs.iter().find(|c| c["type"] == t));
    let text = |c: &serde_json::Value| {
        format!(
            "{} ({})",
            c["message"].as_str().unwrap_or("no message"),
            c["reason"].as_str().unwrap_or("no reason")
        )
    };
    let current = |c: &serde_json::Value| {
        generation.is_none() || c["observedGeneration"].as_i64() == generation
    };
    if let Some(issuing) = cond("Issuing") {
        if issuing["status"] == "False" && issuing["reason"] == "Failed" && current(issuing) {
            return Issuance::Failed(text(issuing));
        }
    }
    match cond("Ready") {
        Some(r)
            if r["status"] == "True"
                && current(r)
                && cond("Issuing").is_none_or(|i| i["status"] != "True") =>
        {
            Issuance::Ready
        }
        Some(r) => Issuance::Waiting(text(r)),
        None => Issuance::Waiting("cert-manager has not looked at it yet".into()),
    }
}

/// `--issuer`: applies kreg's Certificate for the endpoint and waits (up to `limit`) until
/// cert-manager has issued it into Secret `kreg-tls`, then reads the issuer's CA from its
/// `ca.crt`. kreg's own CA (Secret `kreg-ca`, if any) is left as it is: it signs nothing now.
/// Returns the CA set (the issuer's CA, nothing to sign with), the serving certificate, and
/// the Certificate as stored when this `up` created it (its UID goes to the record).
pub async fn ensure_issued(
    cluster: &Cluster,
    plan: &Plan,
    endpoint: &Endpoint,
    issuer: &IssuerRef,
    limit: std::time::Duration,
) -> Result<(CaSet, String, bool, Option<serde_json::Value>)> {
    let desired = manifests::certificate(&plan.namespace, issuer, endpoint);
    let how = cluster.apply_certificate(&desired).await?;
    let deadline = tokio::time::Instant::now() + limit;
    let name = manifests::CERTIFICATE;
    let describe = format!(
        "kubectl -n {} describe certificate {name} (and the CertificateRequest it names), and cert-manager's controller log",
        plan.namespace
    );
    let (cert, leaf, ca) = loop {
        // Read each time: a certificate issued after the wait began starts after any earlier
        // instant (X.509 times have whole seconds), and would never cover a clock read once.
        let now = time::OffsetDateTime::now_utc();
        let cert = cluster
            .certificate(name)
            .await?
            .ok_or_else(|| anyhow!("Certificate {name} disappeared while kreg waited for it"))?;
        let state = issuance(&cert);
        if state == Issuance::Ready {
            let secret = cluster.get::<Secret>(names::TLS_SECRET).await?;
            let text = |k: &str| {
                secret
                    .as_ref()
                    .and_then(|s| manifests::secret_text(s, k))
                    .filter(|v| !v.trim().is_empty())
            };
            // Ready describes the Secret cert-manager wrote for this spec; the check that it
            // names this endpoint guards against a Ready left over from the last address.
            if let Some(leaf) = text("tls.crt").filter(|l| {
                pki::leaf_covers(l, &endpoint.host, &endpoint.ips, now, time::Duration::ZERO)
            }) {
                break (cert, leaf, text("ca.crt"));
            }
        }
        if let Issuance::Failed(why) = &state {
            return Err(hint(
                format!("--issuer {issuer}: cert-manager could not issue Certificate {name}: {why}"),
                format!("{describe}; fix the issuer, then run `kreg up` again (cert-manager retries the request after a backoff)"),
            ));
        }
        if tokio::time::Instant::now() >= deadline {
            let why = match state {
                Issuance::Waiting(w) | Issuance::Failed(w) => w,
                Issuance::Ready => {
                    "Ready, but Secret kreg-tls holds no certificate for the registry's name yet"
                        .into()
                }
            };
            return Err(hint(
                format!("--issuer {issuer}: Certificate {name} is not ready after {}s: {why}", limit.as_secs()),
                format!("{describe}; is cert-manager's controller running? `kreg up` again continues (or give it longer with --timeout)"),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let Some(ca) = ca else {
        return Err(hint(
            format!("--issuer {issuer}: Secret {} that cert-manager wrote has no ca.crt: kreg has no CA certificate to give the nodes and workstations", names::TLS_SECRET),
            "use an issuer that gives its CA (CA, Vault and self-signed issuers fill ca.crt); `kreg down` removes kreg's Certificate",
        ));
    };
    // The CA a client is given: the certificates of ca.crt (kreg's node agent and trust-local
    // write it as the registry's CA file).
    pki::inspect(&ca).map_err(|e| {
        anyhow!("--issuer {issuer}: the ca.crt cert-manager wrote is not a certificate: {e:#}")
    })?;
    let cas = CaSet {
        signing: KeyPairPem {
            cert_pem: ca.clone(),
            key_pem: String::new(),
        },
        source: None,
        next_source: None,
        trust_pem: ca,
        distributing: false,
        changed: vec![],
        created: vec![],
    };
    let created = (how == Applied::Created).then_some(cert);
    Ok((cas, leaf, how != Applied::Unchanged, created))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refused_host_is_answered_with_commands_that_work() {
        let own = super::new_name_hint("nip.io", true);
        assert!(
            own.starts_with("choose a --host under nip.io; or add --rotate-ca"),
            "{own}"
        );
        assert!(
            own.ends_with("run `kreg up` without --host and --expose to keep the current name"),
            "{own}"
        );
        // The user's CA is theirs to replace: no --rotate-ca to kreg's own.
        let theirs = super::new_name_hint("corp.example", false);
        assert!(!theirs.contains("--rotate-ca"), "{theirs}");
        assert!(!super::new_name_hint("", false).contains("under"));
    }

    use super::{issuance, issuer_problem, Issuance};
    use serde_json::json;

    #[test]
    fn a_certificate_is_ready_only_for_the_spec_kreg_applied() {
        let cert = |generation: i64, conditions: serde_json::Value| json!({"metadata": {"generation": generation}, "status": {"conditions": conditions}});
        let ready = |g: i64| json!({"type": "Ready", "status": "True", "observedGeneration": g, "reason": "Ready", "message": "up to date"});
        assert_eq!(issuance(&cert(2, json!([ready(2)]))), Issuance::Ready);
        // Ready for the previous spec (the old address): not yet.
        assert!(matches!(
            issuance(&cert(3, json!([ready(2)]))),
            Issuance::Waiting(_)
        ));
        // Being re-issued.
        let issuing = json!({"type": "Issuing", "status": "True", "observedGeneration": 2, "reason": "Reissuing"});
        assert!(matches!(
            issuance(&cert(2, json!([ready(2), issuing]))),
            Issuance::Waiting(_)
        ));
        let failed = json!({"type": "Issuing", "status": "False", "observedGeneration": 1, "reason": "Failed", "message": "the issuer said no"});
        let not_ready = json!({"type": "Ready", "status": "False", "observedGeneration": 1, "reason": "DoesNotExist", "message": "Issuing certificate as Secret does not exist"});
        assert_eq!(
            issuance(&cert(1, json!([not_ready.clone(), failed]))),
            Issuance::Failed("the issuer said no (Failed)".into())
        );
        assert_eq!(
            issuance(&cert(1, json!([not_ready]))),
            Issuance::Waiting("Issuing certificate as Secret does not exist (DoesNotExist)".into())
        );
        assert!(matches!(
            issuance(&json!({"metadata": {"generation": 1}})),
            Issuance::Waiting(_)
        ));
    }

    #[test]
    fn acme_and_broken_issuers_are_refused_before_anything_is_written() {
        let acme = json!({"spec": {"acme": {"server": "https://acme.example/directory"}}});
        assert!(issuer_problem(&acme).unwrap().0.contains("ACME"));
        let broken = json!({"spec": {"ca": {"secretName": "gone"}}, "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "ErrGetKeyPair", "message": "Error getting keypair for CA issuer: secret \"gone\" not found"}
        ]}});
        let (problem, _) = issuer_problem(&broken).unwrap();
        assert!(
            problem.contains("not ready") && problem.contains("secret \"gone\" not found"),
            "{problem}"
        );
        let fine = json!({"spec": {"ca": {"secretName": "root"}}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(issuer_problem(&fine).is_none());
        // No status yet (just created): given its chance.
        assert!(issuer_problem(&json!({"spec": {"ca": {"secretName": "root"}}})).is_none());
    }
}

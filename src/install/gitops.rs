//! A GitOps install: `kreg up --secrets-only` makes in the cluster what no Git repository
//! should hold (the CA, the serving certificates, the users, the pull Secrets) and what the
//! rest depends on (the namespace and the Services, whose addresses the certificates name);
//! `kreg render` then prints every other object of `up`'s list ([`crate::render`]) with the
//! real address and hashes, for Argo CD or Flux to apply. Render only reads the cluster.
//!
//! What render leaves out is exactly what `up` mints ([`How::Minted`], [`How::CreateOnce`],
//! [`How::PullSecret`]): those objects are named as references, never printed. What `up`
//! does outside objects is done by the rendered objects themselves where it can be (the probe
//! push becomes a Job) and explained in the comment block where it cannot.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{Secret, Service};
use tokio::time::Instant;

use super::{auth, material_of, prepare, Converge, Hashes, Located, Options, Prepared, Timings};
use crate::cluster::Cluster;
use crate::context::Ctx;
use crate::error::hint;
use crate::manifests;
use crate::pki;
use crate::plan::{names, Endpoint};
use crate::render::{self, Desired, How, Object};

/// `kreg render`'s result: the objects to apply, and the Secrets they reference.
pub struct Rendered {
    pub objects: Vec<Object>,
    /// `Kind/name` of each object `up --secrets-only` makes and the list only references.
    pub referenced: Vec<String>,
    /// The registry's reference (`host:port`), as in image names.
    pub registry: String,
    pub namespace: String,
}

const FIRST: &str = "run `kreg up --secrets-only` with the same settings first: it makes the \
    namespace, the Services, the CA, the certificates and the users the rendered objects refer to";

/// The objects `up` would apply, for the installation `up --secrets-only` prepared.
pub async fn render(ctx: &Ctx, opts: &Options) -> Result<Rendered> {
    let read_only = Options {
        dry_run: true,
        ..opts.clone()
    };
    let p = prepare(ctx, &read_only).await?;
    if p.cluster.get::<Service>(names::REGISTRY).await?.is_none() {
        return Err(hint(
            format!(
                "Service {} does not exist in namespace {}: there is no address to render for",
                names::REGISTRY,
                p.plan.namespace
            ),
            FIRST,
        ));
    }
    let mut run = Converge {
        ctx,
        cluster: &p.cluster,
        plan: &p.plan,
        deadline: Instant::now() + ctx.settings.timeout,
        changed: vec![],
        created: BTreeMap::new(),
        timings: Timings::default(),
    };
    let at = run.locate(p.prev.as_ref()).await?;
    let hashes = read_hashes(&p, &at).await?;
    let probe = crate::node::probe::build();
    let m = material_of(&p, &at, &hashes, &probe).await?;
    let desired = render::render(&p.plan, &m)?;
    Ok(split(&p.plan.namespace, at.endpoint.registry(), desired))
}

/// Splits `up`'s list: what `up` mints is referenced, everything else is printed. Pure.
pub fn split(namespace: &str, registry: String, desired: Vec<Desired>) -> Rendered {
    let mut out = Rendered {
        objects: vec![],
        referenced: vec![],
        registry,
        namespace: namespace.to_string(),
    };
    for d in desired {
        match d.how {
            How::Minted | How::CreateOnce | How::PullSecret => {
                out.referenced.push(d.object.key(namespace))
            }
            _ => out.objects.push(d.object),
        }
    }
    out
}

/// The comment block in front of the rendered objects: what `up` does outside them.
pub fn comment(r: &Rendered) -> String {
    let mut c = format!(
        "# kreg render: the objects `kreg up` applies for registry {registry}\n\
         # (namespace {ns}). Apply them with kubectl, Argo CD or Flux.\n\
         #\n\
         # Referenced, not included (made in the cluster by `kreg up --secrets-only`, never\n\
         # written here; run it again to renew the certificates or rotate the CA):\n",
        registry = r.registry,
        ns = r.namespace
    );
    for s in &r.referenced {
        c.push_str(&format!("#   {s}\n"));
    }
    c.push_str(
        "#\n\
         # What `kreg up` does outside objects, and how this list does it instead:\n\
         #   - CA and certificates: minted by `up --secrets-only`; they name the address above,\n\
         #     so render again if the address changes.\n\
         #   - node trust: the DaemonSet kreg-node-trust writes each node's hosts.toml and CA,\n\
         #     then proves trust by pulling the probe image through the node's runtime; the\n\
         #     Job kreg-probe-push puts that image into the registry (`up` pushes it itself).\n\
         #   - verification: `kreg status` is healthy once the registry answers over TLS and\n\
         #     every node's agent has pulled the probe image.\n\
         #   - ownership: objects applied from here are your tool's; `kreg down` removes only\n\
         #     what `up` created.\n",
    );
    c
}

/// What the workload needs of the keys, read from what `up --secrets-only` made; each
/// certificate must still fit the address, or the render would name one that fails.
async fn read_hashes(p: &Prepared, at: &Located) -> Result<Hashes> {
    let cluster = &p.cluster;
    // Exactly the CA certificates the last `up` handed to nodes and clients (kreg's own or
    // the user's `--ca-secret`, two of them during a rotation), as its record keeps them:
    // render never trusts more, or other, CAs than `up` would.
    let trust_pem = p
        .prev
        .as_ref()
        .map(|s| s.ca_pem.clone())
        .filter(|pem| !pem.trim().is_empty())
        .ok_or_else(|| {
            hint(
                format!("no CA is recorded in ConfigMap {}", names::STATE),
                FIRST,
            )
        })?;
    let tls_sha256 = if p.plan.serves_tls() {
        leaf_sha256(cluster, names::TLS_SECRET, &at.endpoint).await?
    } else {
        "plain-http".to_string()
    };
    let mut mirror_tls_sha256 = vec![];
    for (m, endpoint) in &at.mirrors {
        mirror_tls_sha256.push(leaf_sha256(cluster, &m.mirror.tls_secret(), endpoint).await?);
    }
    let users = if p.plan.auth {
        Some(auth::read(cluster).await?.ok_or_else(|| {
            hint(
                format!(
                    "Secret {} (the registry's users) is missing or incomplete",
                    names::AUTH_SECRET
                ),
                FIRST,
            )
        })?)
    } else {
        None
    };
    Ok(Hashes {
        trust_pem,
        tls_sha256,
        users,
        mirror_tls_sha256,
    })
}

/// The SHA-256 of serving certificate `name`, if it covers `endpoint` now.
async fn leaf_sha256(cluster: &Cluster, name: &str, endpoint: &Endpoint) -> Result<String> {
    let now = time::OffsetDateTime::now_utc();
    let cert = cluster
        .get::<Secret>(name)
        .await?
        .and_then(|s| manifests::secret_text(&s, "tls.crt"));
    let covers = cert.as_deref().is_some_and(|pem| {
        pki::leaf_covers(
            pem,
            &endpoint.host,
            &endpoint.ips,
            now,
            time::Duration::ZERO,
        )
    });
    match cert {
        Some(pem) if covers => pki::cert_sha256(&pem),
        _ => Err(hint(
            format!(
                "Secret {name} holds no certificate for {} that is valid now",
                endpoint.registry()
            ),
            FIRST,
        )),
    }
}

//! `kreg up`'s work, without the command line: prepare (connect, check rights, plan), then
//! converge the rendered objects ([`crate::render`]) in stages, wait, verify and report.
//! `commands/up.rs` turns flags into [`Options`] and prints the [`Outcome`].
//!
//! The install steps that are more than applying an object live beside this file: the CA and
//! the serving certificates (`tls`), the registry's users and pull secrets (`auth`), tool
//! discovery (`discovery`), the pull-through caches (`mirrors`), and the check that every
//! object `up` reuses by name is kreg's own (`ownership`).

pub mod auth;
pub mod bootstrap;
pub mod discovery;
pub mod dns;
mod gitops;
pub mod mirrors;
mod ownership;
mod report;
pub mod tls;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret};
use tokio::time::Instant;

use crate::cluster::{Applied, Cluster, NodeTrustReport};
use crate::context::Ctx;
use crate::detect::{self, NodeFacts};
use crate::error::{hint, EXIT_ERROR, EXIT_OK};
use crate::manifests;
use crate::pki::{self, KeyPairPem};
use crate::plan::{self, names, Address, Endpoint, Expose, Plan, Request};
use crate::probe;
use crate::render::{self, Desired, How, Material, Object, Stage};
use crate::state::{Change, InstalledState, Rename, Sticky};

#[cfg(test)]
pub use gitops::split as render_split;
pub use gitops::{comment as render_comment, render, Rendered};
pub use mirrors::MirrorAccess;
pub use report::{DryRun, Timings, UpReport};

/// What `kreg up` was asked to do, flags already validated.
#[derive(Debug, Clone)]
pub struct Options {
    pub request: Request,
    /// The sticky choices as the flags gave them; `prepare` resolves them once against the
    /// last `up`'s record into `request` (`state::resolve`).
    pub sticky: Sticky,
    pub dry_run: bool,
    pub no_wait: bool,
    pub rotate_ca: bool,
    /// Stop after minting what `kreg render`'s objects reference (see `gitops`).
    pub secrets_only: bool,
    /// kreg's own image, when the plan serves it through the bootstrap (`request.agent_bootstrap`).
    pub agent: Option<std::sync::Arc<bootstrap::Payload>>,
}

/// What `up` ended with, for the command to print.
pub enum Outcome {
    DryRun(DryRun),
    Installed {
        report: Box<UpReport>,
        /// The node-trust verdicts (absent with `--no-node-trust` or `--no-wait`).
        trust: Option<NodeTrustReport>,
        exit: u8,
    },
}

/// What [`prepare`] learned: the plan and the facts it rests on.
struct Prepared {
    cluster: Cluster,
    plan: Plan,
    /// The CA the registry serves under until a switch completes (see `state::check_ca_switch`).
    ca_current: Option<String>,
    prev: Option<InstalledState>,
    changes: Vec<Change>,
    /// The registry's name changes (said in the plan, confirmed before the first write).
    rename: Option<Rename>,
    /// A flag asked for the new name (`--expose`, `--host`, `--dns-suffix`).
    rename_asked: bool,
    nodes: Vec<NodeFacts>,
    mirror_access: Option<MirrorAccess>,
}

/// Installs (or converges) the registry. `--rotate-ca` runs a second pass, once every node
/// trusts the old and the new CA, to switch the registry to the new one.
pub async fn up(ctx: &Ctx, opts: &Options) -> Result<Outcome> {
    let started = Instant::now();
    let deadline = started + ctx.settings.timeout;
    let p = prepare(ctx, opts).await?;
    if opts.dry_run {
        return dry_run(ctx, &p);
    }
    confirm(ctx, &p)?;
    // Before the first write: every object kreg would reuse by name must be kreg's own.
    let (created, absent) = ownership::check(&p.cluster, &p.plan, p.prev.as_ref()).await?;
    let mut run = Converge {
        ctx,
        cluster: &p.cluster,
        plan: &p.plan,
        deadline,
        changed: vec![],
        created,
        timings: Timings::default(),
    };
    run.foundation().await?;
    if let Some(agent) = opts.agent.as_deref().filter(|_| p.plan.agent_bootstrap) {
        run.bootstrap(agent).await?;
    }
    let located = run.locate(p.prev.as_ref()).await?;
    let keys = run
        .mint(&located, opts.rotate_ca, p.ca_current.as_deref())
        .await?;
    // The image every node agent pulls to prove trust: its reference goes into the DaemonSet,
    // its blobs are pushed once the registry answers.
    let probe = crate::node::probe::build();
    let material = material(&p, &located, &keys, &probe).await?;
    if opts.secrets_only {
        // The pull Secrets are secrets too; the rest is `kreg render`'s.
        run.workload(&material, true).await?;
        ownership::adopt_appeared(&p.cluster, &absent, &mut run.created).await?;
        run.record(&located, &keys, &material).await?;
        let discovery = "left to the rendered objects (--secrets-only)".to_string();
        let mut report = report::installed(&p, &run, &located, &keys, &material, discovery)?;
        ctx.reporter.done(&format!(
            "--secrets-only: the CA, certificates and users are in namespace {}; apply `kreg render`'s objects next",
            p.plan.namespace
        ));
        report.set_cost(started, run.timings);
        return Ok(Outcome::Installed {
            report: Box::new(report),
            trust: None,
            exit: EXIT_OK,
        });
    }
    let discovery = run.workload(&material, false).await?;
    run.prune(p.prev.as_ref(), &material).await?;
    let dns_entry = run.dns_entry(&located).await?;
    ownership::adopt_appeared(&p.cluster, &absent, &mut run.created).await?;
    let mut located = located;
    if !opts.no_wait {
        run.ingress_published(&mut located).await?;
    }
    run.record(&located, &keys, &material).await?;
    let mut report = report::installed(&p, &run, &located, &keys, &material, discovery)?;
    report.dns_entry = dns_entry;
    if opts.no_wait {
        ctx.reporter
            .warn("--no-wait: not waiting for the rollout, the health probe or node trust");
        if keys.cas.distributing {
            ctx.reporter.warn("CA rotation half done: nodes and clients now get the old and the new CA; the registry switches to the new one on the next `kreg up` without --no-wait, once every node trusts both");
        }
        report.set_cost(started, run.timings);
        return Ok(Outcome::Installed {
            report: Box::new(report),
            trust: None,
            exit: EXIT_OK,
        });
    }
    let trust = run
        .verify(&p, &located, &keys, &material, &probe, &mut report)
        .await?;
    let exit = match &trust {
        Some(nt) if !nt.complete() => EXIT_ERROR,
        _ => EXIT_OK,
    };
    if keys.cas.distributing && exit == EXIT_OK {
        // Every node trusts the old and the new CA: now the registry may switch to the new one.
        tls::mark_distributed(&p.cluster).await?;
        ctx.reporter.done(
            "every node trusts the old and the new CA: switching the registry to the new one",
        );
        let again = Options {
            rotate_ca: false,
            ..opts.clone()
        };
        return Box::pin(up(ctx, &again)).await;
    }
    ctx.reporter
        .info(&format!("took {:.1}s", started.elapsed().as_secs_f64()));
    report.set_cost(started, run.timings);
    Ok(Outcome::Installed {
        report: Box::new(report),
        trust,
        exit,
    })
}

/// Connect, check rights, read the record, detect, plan; say what will happen. Read-only, so
/// `--dry-run` stops after it.
async fn prepare(ctx: &Ctx, opts: &Options) -> Result<Prepared> {
    let r = &ctx.reporter;
    let mut req = opts.request.clone();
    r.step("connecting to the cluster");
    let cluster = Cluster::connect(&ctx.settings.target, &req.namespace).await?;
    r.done(&format!(
        "connected to {} ({})",
        cluster.context, cluster.server
    ));
    if !opts.dry_run {
        cluster.check_access(crate::cluster::ACCESS_UP).await?;
    }
    // What the last `up` chose stays unless a flag changes it (see `state`).
    let prev = cluster.read_state().await?;
    let changes = crate::state::resolve(&mut req, &opts.sticky, prev.as_ref())?;
    crate::state::check_issuer_switch(prev.as_ref(), &req)?;
    if let (true, Some(i)) = (opts.rotate_ca, &req.issuer) {
        return Err(hint(
            format!("--rotate-ca replaces kreg's own CA, and this registry's certificate is signed by cert-manager {i}; nothing was changed"),
            "the issuer's CA is cert-manager's to rotate; `kreg up` gives nodes and clients the CA the Secret carries",
        ));
    }
    let in_flight = tls::rotation_in_flight(&cluster).await?;
    let ca_current =
        crate::state::check_ca_switch(prev.as_ref(), &req, opts.rotate_ca, in_flight.as_ref())?;
    let (facts, abilities) = cluster.facts().await?;
    if let Some(agent) = opts.agent.as_deref().filter(|_| req.agent_bootstrap) {
        // Before anything is applied: every node must be able to pull and run kreg's image.
        if req.node_trust {
            bootstrap::check_nodes(&facts.nodes, &agent.architectures()?)?;
        }
    }
    let detection = detect::detect(&facts);
    let mut plan = plan::make(&req, detection.flavor, &abilities)?;
    // Checked with the plan, since the exposure (a Gateway's listener, Traefik's CRDs)
    // decides which CRD objects kreg writes.
    let exposure_rights = match (&plan.gateway, &plan.ingress) {
        (Some(g), _) => match g.mode {
            plan::GatewayMode::TlsPassthrough => crate::cluster::ACCESS_UP_GATEWAY_TLS,
            plan::GatewayMode::Https => crate::cluster::ACCESS_UP_GATEWAY_HTTPS,
        },
        (None, Some(i)) if i.servers_transport => crate::cluster::ACCESS_UP_TRAEFIK_TRANSPORT,
        _ => &[],
    };
    if !exposure_rights.is_empty() && !opts.dry_run {
        cluster.check_access(exposure_rights).await?;
    }
    // The registry keeps its NodePort across a switch away and back (`Plan::node_port`).
    if let Some(p) = &prev {
        plan.node_port_kept = p.node_port.or(p.expose.is_node_port().then_some(p.port));
        if plan.expose.is_node_port() {
            plan.node_port = p.node_port;
        }
    }
    if opts.sticky.expose.is_none() && prev.is_some() {
        plan.expose_reason = "kept from the last `up` (--expose changes it)".into();
    }
    let from_flag = if req.flavor.is_some() {
        " (from --flavor)"
    } else {
        ""
    };
    r.done(&format!("flavour {}{from_flag}", plan.flavor));
    for e in &detection.evidence {
        r.info(e);
    }
    let rename = prev.as_ref().and_then(|p| crate::state::rename(p, &plan));
    let rename_asked = opts.sticky.expose.is_some()
        || opts.sticky.host.is_some()
        || opts.sticky.dns_suffix.is_some();
    report::describe_plan(ctx, &plan, &changes, rename.as_ref());
    mirrors::describe(ctx, &plan);
    mirrors::check_credentials(&cluster, &plan).await?;
    check_s3_secret(&cluster, &plan).await?;
    let mut users_ca = None;
    if let Some(name) = &plan.ca_secret {
        let ca = tls::read_ca_secret(&cluster, &plan.namespace, name).await?;
        // The CA the registry serves under, kept from the last `up`: its Secret may have
        // been given another CA since.
        if let Some(p) = prev
            .as_ref()
            .filter(|p| p.installed && p.ca_secret == plan.ca_secret)
        {
            tls::check_same_ca(name, &p.ca_pem, &ca.cert_pem)?;
        }
        r.done(&format!(
            "CA: yours, from Secret {name} (sha256 {})",
            pki::cert_sha256(&ca.cert_pem)?
        ));
        let until = pki::inspect(&ca.cert_pem)?.not_after;
        if until - time::OffsetDateTime::now_utc() < tls::LEAF_RENEW_BEFORE {
            r.warn(&format!("your CA expires on {}: the registry's certificate cannot outlive it, so every `up` re-issues it until you renew the CA (same key: only `kreg up`)", until.date()));
        }
        users_ca = Some(ca.cert_pem);
    }
    if let Some(issuer) = &plan.issuer {
        if !opts.dry_run {
            cluster
                .check_access(match issuer.kind {
                    plan::IssuerKind::Issuer => crate::cluster::ACCESS_UP_ISSUER,
                    plan::IssuerKind::ClusterIssuer => crate::cluster::ACCESS_UP_CLUSTER_ISSUER,
                })
                .await?;
        }
        tls::check_issuer(&cluster, &plan, issuer, prev.as_ref()).await?;
        r.done(&format!(
            "certificate: signed by cert-manager {issuer} (kreg's own CA signs nothing)"
        ));
    } else {
        tls::check_new_name(&cluster, &plan, users_ca.as_deref(), opts.rotate_ca).await?;
    }
    check_pod_security(&cluster, &plan).await?;
    // kreg's DNS entry will be added, moved or removed: its markers must be as kreg wrote them.
    dns::check(&cluster, &plan.namespace).await?;
    let mirror_access = mirrors::access(ctx, &cluster, &plan).await?;
    Ok(Prepared {
        cluster,
        plan,
        ca_current,
        prev,
        changes,
        rename,
        rename_asked,
        nodes: facts.nodes,
        mirror_access,
    })
}

/// A namespace kreg did not create whose Pod Security level rejects the privileged node agent
/// would take every other object and then never trust a node: refused before the first write.
/// (A namespace without an `enforce` label falls under the cluster's default, which kreg cannot
/// read; the DaemonSet's events say so then.)
async fn check_pod_security(cluster: &Cluster, plan: &Plan) -> Result<()> {
    if !plan.node_trust {
        return Ok(());
    }
    let Some(live) = cluster.get::<Namespace>(&plan.namespace).await? else {
        return Ok(());
    };
    if manifests::created_by_this_kreg(&live.metadata) {
        return Ok(());
    }
    match manifests::pod_security_blocks_agent(&live.metadata) {
        Some(why) => Err(crate::error::hint(
            format!("{why}; nothing was changed"),
            format!(
                "install into a namespace of kreg's own (`-n kreg-system`, which kreg creates with the `privileged` level), or label this one: kubectl label namespace {} pod-security.kubernetes.io/enforce=privileged --overwrite",
                plan.namespace
            ),
        )),
        None => Ok(()),
    }
}

/// `--storage s3`: the credentials Secret exists and has `accesskey` and `secretkey`, checked
/// before anything is applied, so a typo never leaves the registry crash-looping.
async fn check_s3_secret(cluster: &Cluster, plan: &Plan) -> Result<()> {
    let plan::Storage::S3 { secret, .. } = &plan.storage else {
        return Ok(());
    };
    let flag = format!("--s3-secret {secret}");
    let keys = [("accesskey", "KEY_ID"), ("secretkey", "SECRET")];
    require_secret(cluster, &plan.namespace, &flag, secret, &keys).await
}

/// A Secret a flag names (`flag`, as the message shows it) exists in kreg's namespace with
/// every key of `keys` non-empty; else an error whose hint is the `kubectl create secret` line
/// that makes it (`keys` pairs each key with a placeholder value). Called before anything is
/// applied.
async fn require_secret(
    cluster: &Cluster,
    namespace: &str,
    flag: &str,
    name: &str,
    keys: &[(&str, &str)],
) -> Result<()> {
    let literals: Vec<String> = keys
        .iter()
        .map(|(k, v)| format!("--from-literal={k}={v}"))
        .collect();
    let create = format!(
        "create it first (after `kubectl create namespace {namespace}` if the namespace is new): kubectl -n {namespace} create secret generic {name} {}",
        literals.join(" ")
    );
    let Some(s) = cluster.get::<Secret>(name).await? else {
        return Err(hint(
            format!("{flag}: Secret {name} does not exist in namespace {namespace}; nothing was changed"),
            create,
        ));
    };
    for (key, _) in keys {
        if manifests::secret_text(&s, key).is_none_or(|v| v.is_empty()) {
            return Err(hint(
                format!("{flag}: Secret {name} has no {key}; nothing was changed"),
                create,
            ));
        }
    }
    Ok(())
}

/// `--dry-run`: the rendered list with placeholders for what `up` would learn or mint.
fn dry_run(ctx: &Ctx, p: &Prepared) -> Result<Outcome> {
    let mut desired = render::render(
        &p.plan,
        &Material::pending(mirrors::sources_of(p.mirror_access.as_ref())),
    )?;
    // `up` pushes the probe itself; the Job is `kreg render`'s.
    desired.retain(|d| d.how != How::ProbePush);
    if p.plan.dns_entry {
        let (ns, name) = crate::corefile::CONFIGMAP;
        ctx.reporter.info(&format!("the registry's name would get kreg's DNS entry for Pods in ConfigMap {ns}/{name} once its address is known (--no-dns-entry: none)"));
    }
    for note in report::dry_run_notes(&desired) {
        ctx.reporter.info(&note);
    }
    let mut doc = DryRun::new(&p.plan, &desired)?;
    if let Some(issuer) = &p.plan.issuer {
        // The Certificate `up` applies once the address is known (then waited for: the
        // serving certificate kreg would mint otherwise).
        let pending = Material::pending(vec![]).endpoint;
        doc.objects
            .push(manifests::certificate(&p.plan.namespace, issuer, &pending));
        ctx.reporter.info(&format!(
            "Certificate/{} names the address once it is known; cert-manager {issuer} signs it into Secret {}",
            manifests::CERTIFICATE,
            names::TLS_SECRET
        ));
    }
    Ok(Outcome::DryRun(doc))
}

/// A security downgrade needs its own yes; then the install itself is confirmed, with the
/// new name when the registry is renamed.
fn confirm(ctx: &Ctx, p: &Prepared) -> Result<()> {
    confirm_downgrades(ctx, &p.changes)?;
    let question = match &p.rename {
        Some(rn) => {
            check_rename(ctx, rn, p.rename_asked)?;
            format!(
                "{rn}: image references and logins that name {} stop working. Rename the registry and install it into namespace {}?",
                rn.from, p.plan.namespace
            )
        }
        None => format!("Install the registry into namespace {}?", p.plan.namespace),
    };
    if !ctx.confirm(&question)? {
        bail!("cancelled; nothing was changed");
    }
    Ok(())
}

/// A new name for the registry is what `kubectl apply` and `helm upgrade` users expect from a
/// changed flag: without a terminal (CI) the flag that asks for it, said in the plan, is
/// enough; on a terminal `up` asks (or `--yes` answered). A rename no flag asked for (a record
/// an older kreg wrote) is refused without a terminal unless `--yes`.
fn check_rename(ctx: &Ctx, rn: &Rename, asked: bool) -> Result<()> {
    if asked || ctx.settings.interactive || ctx.settings.yes {
        return Ok(());
    }
    Err(hint(
        format!("refusing to rename the registry without a flag asking for it ({rn}); nothing was changed"),
        "pass the --expose, --host or --dns-suffix the registry should be named by, or add --yes if the new name is meant",
    ))
}

/// A security downgrade (dropping `--auth`) is applied only when the user says so: asked on a
/// terminal, `--yes` otherwise, refused without either.
fn confirm_downgrades(ctx: &Ctx, changes: &[Change]) -> Result<()> {
    let downgrades: Vec<String> = changes
        .iter()
        .filter(|c| c.downgrade)
        .map(|c| c.to_string())
        .collect();
    if downgrades.is_empty() || ctx.settings.yes {
        return Ok(());
    }
    let what = downgrades.join(", ");
    if !ctx.settings.interactive {
        return Err(hint(
            format!(
                "refusing a security downgrade without confirmation ({what}); nothing was changed"
            ),
            "run it on a terminal to be asked, or add --yes if dropping the protection is meant",
        ));
    }
    if ctx.confirm(&format!(
        "{what}: anyone who reaches the registry could then push, overwrite and delete images. Continue?"
    ))? {
        Ok(())
    } else {
        bail!("cancelled; nothing was changed")
    }
}

/// Where the registry and its caches are reached, once their Services exist.
struct Located {
    address: Address,
    endpoint: Endpoint,
    /// The node the NodePort registry is named after (kept while it exists).
    node: Option<String>,
    /// The registry Service's ClusterIP, where nodes reach a `--expose localhost` registry.
    cluster_ip: Option<std::net::IpAddr>,
    mirrors: Vec<(manifests::NodeMirror, Endpoint)>,
}

/// What [`Converge::mint`] made or reused.
struct Keys {
    cas: tls::CaSet,
    /// SHA-256 of the serving certificate, or `plain-http`.
    tls_sha256: String,
    users: Option<auth::Users>,
    mirror_tls_sha256: Vec<String>,
}

/// The workload's inputs, from what `up` learned and minted.
async fn material(
    p: &Prepared,
    at: &Located,
    keys: &Keys,
    probe: &crate::node::probe::ProbeImage,
) -> Result<Material> {
    let hashes = Hashes {
        trust_pem: keys.cas.trust_pem.clone(),
        tls_sha256: keys.tls_sha256.clone(),
        users: keys.users.clone(),
        mirror_tls_sha256: keys.mirror_tls_sha256.clone(),
    };
    material_of(p, at, &hashes, probe).await
}

/// What the workload needs of the keys, without the keys: `up` takes it from what it minted,
/// `kreg render` reads it from the Secrets.
struct Hashes {
    trust_pem: String,
    tls_sha256: String,
    users: Option<auth::Users>,
    mirror_tls_sha256: Vec<String>,
}

async fn material_of(
    p: &Prepared,
    at: &Located,
    keys: &Hashes,
    probe: &crate::node::probe::ProbeImage,
) -> Result<Material> {
    let registry = at.endpoint.registry();
    Ok(Material {
        endpoint: at.endpoint.clone(),
        dial: plan::dial(&p.plan, &at.address, &at.endpoint, at.cluster_ip),
        tls_sha256: keys.tls_sha256.clone(),
        users_sha256: keys
            .users
            .as_ref()
            .map(|u| u.sha256.clone())
            .unwrap_or_default(),
        pull: keys.users.as_ref().map(|u| u.pull.clone()),
        trust_pem: keys.trust_pem.clone(),
        mirrors: at.mirrors.iter().map(|(m, _)| m.clone()).collect(),
        mirror_tls_sha256: keys.mirror_tls_sha256.clone(),
        mirror_sources: mirrors::sources_of(p.mirror_access.as_ref()),
        probe_image: Some(probe.reference(&registry)),
        restart_skip: manifests::restart_skip(&p.nodes, p.plan.restart_control_plane),
        cronjob_api: match &p.plan.gc_schedule {
            Some(_) => p.cluster.cronjob_api_version().await?,
            None => "batch/v1",
        },
    })
}

/// One run's converging: what it changed and created, and where the time went.
struct Converge<'a> {
    ctx: &'a Ctx,
    cluster: &'a Cluster,
    plan: &'a Plan,
    deadline: Instant,
    /// `Kind/name` of each object this run created or changed, for the report.
    changed: Vec<String>,
    /// The ownership record: `Kind/name` -> UID of each object kreg created.
    created: BTreeMap<String, String>,
    timings: Timings,
}

impl Converge<'_> {
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn track(&mut self, what: String, how: Applied) {
        if let Applied::Restored(field) = &how {
            self.ctx.reporter.warn(&format!(
                "{what} had been changed ({field}); restored what kreg applies"
            ));
        }
        if how != Applied::Unchanged {
            self.changed.push(what);
        }
    }

    /// The objects that depend on the plan alone: the namespace, the shared HTTP secret, the
    /// volumes and the Services, whose addresses the rest needs.
    async fn foundation(&mut self) -> Result<()> {
        let r = &self.ctx.reporter;
        if self
            .cluster
            .wait_namespace_not_terminating(self.left())
            .await?
        {
            r.done(&format!(
                "namespace {} finished terminating",
                self.plan.namespace
            ));
        }
        let desired = render::render(self.plan, &Material::pending(vec![]))?;
        for d in desired.into_iter().filter(|d| d.stage == Stage::Foundation) {
            match (d.how, d.object) {
                (How::Namespace, Object::Namespace(ns)) => self.namespace(ns).await?,
                (How::CreateOnce, Object::Secret(s)) => self.shared_secret(s).await?,
                (How::Apply, Object::PersistentVolumeClaim(pvc)) => self.volume(pvc).await?,
                (How::Apply, o) => {
                    let how = self.cluster.apply_object(&o).await?;
                    self.track(o.key(&self.plan.namespace), how);
                }
                (how, o) => bail!("{} cannot be converged as {how:?}", o.key("")),
            }
        }
        if self.plan.storage == plan::Storage::EmptyDir {
            r.warn(
                "--storage emptydir: images are LOST whenever the registry pod restarts or moves",
            );
        }
        Ok(())
    }

    /// The bootstrap stage (see `bootstrap`): the store, kreg's image pushed into it through a
    /// port-forward, then the relays ready on every node, before anything runs that image.
    async fn bootstrap(&mut self, agent: &bootstrap::Payload) -> Result<()> {
        let r = &self.ctx.reporter;
        let t = Instant::now();
        let desired = render::render(self.plan, &Material::pending(vec![]))?;
        let stage: Vec<Desired> = desired
            .into_iter()
            .filter(|d| d.stage == Stage::Bootstrap)
            .collect();
        for d in stage.iter().filter(|d| d.object.kind() != "DaemonSet") {
            let how = self.cluster.apply_object(&d.object).await?;
            self.track(d.object.key(&self.plan.namespace), how);
        }
        r.step(
            "waiting for the bootstrap store (kreg's own image, for nodes that trust nothing yet)",
        );
        self.cluster
            .wait_rollout(names::BOOTSTRAP, self.left())
            .await?;
        let forward = self
            .cluster
            .forward_pod(names::BOOTSTRAP, names::BOOTSTRAP_STORE_PORT)
            .await?;
        let client = bootstrap::store_client(forward.local)?;
        agent.push(&client).await?;
        drop(forward);
        r.done(&format!(
            "kreg's image {}@{} is in the bootstrap store",
            crate::agent_image::REPO,
            agent.digest()
        ));
        for d in stage.iter().filter(|d| d.object.kind() == "DaemonSet") {
            let how = self.cluster.apply_object(&d.object).await?;
            self.track(d.object.key(&self.plan.namespace), how);
        }
        r.step(&format!(
            "waiting for the bootstrap relay on every node (127.0.0.1:{})",
            names::BOOTSTRAP_PORT
        ));
        self.cluster
            .wait_daemonset(names::BOOTSTRAP_RELAY, self.left())
            .await?;
        r.done(&format!(
            "nodes pull kreg's image as {} (plain HTTP on their loopback, pinned by digest)",
            agent.reference()
        ));
        self.timings.bootstrap_ms += t.elapsed().as_millis();
        Ok(())
    }

    /// A namespace that exists is left as it is (kreg never labels or takes over one it did
    /// not create); one kreg creates is recorded by UID, and only such a namespace is ever
    /// deleted by `down --purge`.
    async fn namespace(&mut self, ns: Namespace) -> Result<()> {
        let name = self.plan.namespace.clone();
        match self.cluster.get::<Namespace>(&name).await? {
            None => {
                if let Some(made) = self.cluster.create_new(&ns).await? {
                    ownership::record(&mut self.created, "Namespace", &name, &made.metadata);
                    self.track(format!("Namespace/{name}"), Applied::Created);
                }
            }
            // A namespace this kreg created carries both its managed-by and its Pod Security
            // labels (no other kreg labelled namespaces that way): an `up` interrupted between
            // creating it and writing the record leaves it unrecorded; adopt it again.
            Some(live) if manifests::created_by_this_kreg(&live.metadata) => {
                if !self.created.contains_key(&format!("Namespace/{name}")) {
                    ownership::record(&mut self.created, "Namespace", &name, &live.metadata);
                }
            }
            // Not kreg's to relabel (its Pod Security level was checked in `prepare`).
            Some(_) => {}
        }
        Ok(())
    }

    /// The replicas' shared HTTP secret: random, created only if absent, never rewritten (an
    /// upload begun on one replica must finish on another).
    async fn shared_secret(&mut self, placeholder: Secret) -> Result<()> {
        let name = placeholder.metadata.name.clone().unwrap_or_default();
        let secret = manifests::secret(
            &self.plan.namespace,
            &name,
            "Opaque",
            &[("secret", random_secret().as_bytes())],
        );
        let (_, created) = self.cluster.create_if_absent(&secret).await?;
        if created {
            self.track(format!("Secret/{name}"), Applied::Created);
        }
        Ok(())
    }

    /// A volume still being deleted (`down --purge` just before) cannot be used: a pod on it
    /// stays Pending. Wait until it is gone, then apply; a new one is recorded by UID.
    async fn volume(&mut self, pvc: PersistentVolumeClaim) -> Result<()> {
        let name = pvc.metadata.name.clone().unwrap_or_default();
        self.cluster
            .wait_deleted::<PersistentVolumeClaim>(&name, self.left())
            .await?;
        let how = self.cluster.apply(&pvc).await?;
        if how == Applied::Created && name == names::DATA_PVC {
            if let Some(live) = self.cluster.get::<PersistentVolumeClaim>(&name).await? {
                ownership::record(
                    &mut self.created,
                    "PersistentVolumeClaim",
                    &name,
                    &live.metadata,
                );
            }
        }
        self.track(format!("PersistentVolumeClaim/{name}"), how);
        Ok(())
    }

    /// The registry's address (a load balancer may take a while) and the caches' ClusterIPs.
    async fn locate(&mut self, prev: Option<&InstalledState>) -> Result<Located> {
        let r = &self.ctx.reporter;
        r.step(match self.plan.expose {
            Expose::LoadBalancer => "waiting for the load balancer's address",
            _ => "reading the node address",
        });
        // A NodePort registry keeps the node it was named after while that node exists: its
        // name is in every image reference the users wrote.
        let kept_node = prev
            .and_then(|p| p.node_address.as_ref())
            .map(|n| n.node.clone());
        let t = Instant::now();
        let (address, node_port, node) = match self.plan.expose {
            Expose::Ingress => (self.ingress_address().await?, None, None),
            Expose::Gateway => (self.gateway_address(), None, None),
            e => {
                self.cluster
                    .wait_address(
                        names::REGISTRY,
                        e == Expose::LoadBalancer,
                        kept_node.as_deref(),
                        self.left(),
                    )
                    .await?
            }
        };
        self.timings.wait_address_ms += t.elapsed().as_millis();
        let mut endpoint = plan::endpoint(self.plan, &address, node_port);
        r.done(&format!(
            "address {address}: registry {}",
            endpoint.registry()
        ));
        let cluster_ip = if self.plan.expose.is_localhost() {
            self.cluster.cluster_ip(names::REGISTRY).await?
        } else {
            None
        };
        if let (Expose::LocalhostTls, Some(ip)) = (self.plan.expose, cluster_ip) {
            // Nodes connect to the ClusterIP over TLS: the certificate must name it.
            endpoint.ips.push(ip);
        }
        let mirrors = mirrors::locate(self.cluster, self.plan).await?;
        Ok(Located {
            address,
            endpoint,
            node,
            cluster_ip,
            mirrors,
        })
    }

    /// `--expose ingress` whose Ingress had no published address when the address was read
    /// (the first `up` applies the Ingress only after that): now that it is applied, wait
    /// briefly for its controller's IP. The probe, the record (so `kreg status`) and the next
    /// `up`, whose certificate then names the IP too, connect there, as they do to a
    /// Gateway's address: no DNS on this machine is needed for the user's host.
    async fn ingress_published(&mut self, at: &mut Located) -> Result<()> {
        if self.plan.expose != Expose::Ingress || matches!(at.address, Address::Ip(_)) {
            return Ok(());
        }
        let t = Instant::now();
        let published = self
            .cluster
            .ingress_address(names::REGISTRY, self.left().min(Duration::from_secs(30)))
            .await?;
        self.timings.wait_address_ms += t.elapsed().as_millis();
        if let Some(Address::Ip(ip)) = published {
            self.ctx
                .reporter
                .done(&format!("the ingress controller published {ip}"));
            at.address = Address::Ip(ip);
        }
        Ok(())
    }

    async fn ingress_address(&self) -> Result<Address> {
        // The host is the user's; the certificate gets the controller's IP as well when it has one.
        let host = self
            .plan
            .host
            .clone()
            .expect("plan requires --host with ingress");
        Ok(self
            .cluster
            .ingress_address(names::REGISTRY, self.left().min(Duration::from_secs(30)))
            .await?
            .unwrap_or(Address::Hostname(host)))
    }

    /// The Gateway's address (its controller's `status.addresses`) when it has one, else the
    /// user's host: the certificate names both.
    fn gateway_address(&self) -> Address {
        let host = self.plan.host.clone().unwrap_or_default();
        match self
            .plan
            .gateway
            .as_ref()
            .and_then(|g| g.address.as_deref())
        {
            Some(a) => a
                .parse()
                .map(Address::Ip)
                .unwrap_or_else(|_| Address::Hostname(a.to_string())),
            None => Address::Hostname(host),
        }
    }

    /// The CA (created only if absent, so a concurrent `up` adopts the winner's; made once the
    /// address is known, since its name constraints cover it), the serving certificates
    /// (reused while they cover the address and have time left) and the users (`--auth`).
    async fn mint(&mut self, at: &Located, rotate: bool, current: Option<&str>) -> Result<Keys> {
        if let Some(issuer) = &self.plan.issuer {
            return self.issued(at, issuer).await;
        }
        let cas = tls::ensure_ca(self.cluster, self.plan, &at.endpoint, rotate, current).await?;
        for stored in &cas.created {
            let name = stored.metadata.name.clone().unwrap_or_default();
            ownership::record(&mut self.created, "Secret", &name, &stored.metadata);
        }
        for s in &cas.changed {
            self.track(s.clone(), Applied::Updated);
        }
        // `--expose localhost` is plain HTTP: no serving certificate.
        let tls_sha256 = if self.plan.serves_tls() {
            self.leaf(&cas.signing, &at.endpoint, names::TLS_SECRET)
                .await?
        } else {
            "plain-http".to_string()
        };
        let mut mirror_tls_sha256 = vec![];
        for (m, endpoint) in &at.mirrors {
            mirror_tls_sha256.push(
                self.leaf(&cas.signing, endpoint, &m.mirror.tls_secret())
                    .await?,
            );
        }
        let users = self.users().await?;
        Ok(Keys {
            cas,
            tls_sha256,
            users,
            mirror_tls_sha256,
        })
    }

    /// `--issuer`: cert-manager's issuer signs the serving certificate (kreg's Certificate,
    /// waited for until Ready); the users as without it. No caches (refused by the plan).
    async fn issued(&mut self, at: &Located, issuer: &plan::IssuerRef) -> Result<Keys> {
        let r = &self.ctx.reporter;
        r.step(&format!(
            "waiting for cert-manager {issuer} to issue Certificate {}",
            manifests::CERTIFICATE
        ));
        let (cas, leaf, changed, created) =
            tls::ensure_issued(self.cluster, self.plan, &at.endpoint, issuer, self.left()).await?;
        let key = format!("Certificate/{}", manifests::CERTIFICATE);
        if let Some(made) = created {
            let meta = serde_json::from_value(made["metadata"].clone()).unwrap_or_default();
            ownership::record(
                &mut self.created,
                "Certificate",
                manifests::CERTIFICATE,
                &meta,
            );
            self.track(key, Applied::Created);
        } else if changed {
            self.track(key, Applied::Updated);
        }
        r.done(&format!(
            "certificate issued by {issuer}; nodes and clients trust its CA (sha256 {})",
            pki::cert_sha256(&cas.trust_pem)?
        ));
        let users = self.users().await?;
        Ok(Keys {
            cas,
            tls_sha256: pki::cert_sha256(&leaf)?,
            users,
            mirror_tls_sha256: vec![],
        })
    }

    /// `--auth`: the users (made once), recorded when this run created their Secret.
    async fn users(&mut self) -> Result<Option<auth::Users>> {
        if !self.plan.auth {
            return Ok(None);
        }
        let (users, stored) = auth::ensure(self.cluster, &self.plan.namespace).await?;
        if let Some(stored) = stored {
            ownership::record(
                &mut self.created,
                "Secret",
                names::AUTH_SECRET,
                &stored.metadata,
            );
            self.track(format!("Secret/{}", names::AUTH_SECRET), Applied::Created);
        }
        Ok(Some(users))
    }

    /// One serving certificate; its SHA-256.
    async fn leaf(&mut self, ca: &KeyPairPem, endpoint: &Endpoint, secret: &str) -> Result<String> {
        let (leaf, changed) =
            tls::ensure_leaf(self.cluster, self.plan, ca, endpoint, secret).await?;
        if changed {
            self.track(format!("Secret/{secret}"), Applied::Updated);
        }
        pki::cert_sha256(&leaf.cert_pem)
    }

    /// The rendered workload, in order. Returns what discovery did, for the report.
    /// With `secrets_only`, only the pull Secrets (`up --secrets-only`).
    async fn workload(&mut self, material: &Material, secrets_only: bool) -> Result<String> {
        let mut discovery = String::new();
        let home = self.plan.namespace.clone();
        for d in render::render(self.plan, material)? {
            let Desired { stage, how, object } = d;
            if stage != Stage::Workload || (secrets_only && how != How::PullSecret) {
                continue;
            }
            let key = object.key(&home);
            match (how, object) {
                // Minted above, from keys; the list holds a placeholder. `up` pushes the
                // probe itself (in `verify`).
                (How::Minted | How::ProbePush, _) => {}
                (How::Apply, o) => {
                    let applied = self.cluster.apply_object(&o).await?;
                    self.track(key, applied);
                }
                (How::PullSecret, Object::Secret(s)) => {
                    if auth::grant(self.cluster, &s).await? {
                        self.track(key, Applied::Updated);
                    }
                }
                (How::Discovery, Object::ConfigMap(cm)) => {
                    discovery = self.publish(&cm).await;
                }
                (how, o) => bail!("{} cannot be converged as {how:?}", o.key(&home)),
            }
        }
        Ok(discovery)
    }

    /// KEP-1755 discovery: never fails `up` (the registry works without it).
    async fn publish(&mut self, cm: &ConfigMap) -> String {
        let r = &self.ctx.reporter;
        let (ns, name) = names::HOSTING;
        match discovery::publish(self.cluster, cm).await {
            discovery::Published::Applied(how) => {
                self.track(format!("ConfigMap/{name} -n {ns}"), how);
                "published".to_string()
            }
            discovery::Published::Foreign => {
                r.warn(&format!(
                    "{ns}/{name} exists and was not created by kreg: left alone, so Tilt/Skaffold/ctlptl keep finding the registry it names"
                ));
                "left alone: another tool owns it".to_string()
            }
            discovery::Published::Failed(why) => {
                r.warn(&format!(
                    "could not publish {ns}/{name} for Tilt/Skaffold/ctlptl ({why}); the registry works without it"
                ));
                format!("not published: {why}")
            }
        }
    }

    /// kreg's DNS entry for the registry's name (see `dns`): added or moved when wanted,
    /// removed with `--no-dns-entry` or when the name needs none. Returns the report's line.
    async fn dns_entry(&mut self, at: &Located) -> Result<String> {
        let r = &self.ctx.reporter;
        let want = dns::wanted(&at.endpoint.host, &at.endpoint.ips);
        let why_none = if !self.plan.dns_entry {
            "off (--no-dns-entry)"
        } else if want.is_none() {
            "none: Pods need no DNS for this registry's name (or it has no IP to answer with)"
        } else {
            ""
        };
        let want = want.filter(|_| self.plan.dns_entry);
        let done = dns::converge(self.cluster, &self.plan.namespace, want.as_ref()).await?;
        let (ns, name) = crate::corefile::CONFIGMAP;
        if done.written {
            self.changed
                .push(format!("ConfigMap/{name} -n {ns} (kreg's DNS entry)"));
        }
        let text = match (want.is_some(), done.written) {
            (false, true) => format!("{why_none}; kreg's entry removed from ConfigMap {ns}/{name}"),
            (false, false) => why_none.to_string(),
            (true, _) => done.text,
        };
        if done.warn {
            r.warn(&format!(
                "DNS entry {text}; Pods resolve the registry's name only through DNS that knows it"
            ));
        } else if done.present || done.written {
            r.done(&format!("DNS entry for Pods: {text}"));
        } else {
            r.info(&format!("DNS entry: {text}"));
        }
        Ok(text)
    }

    /// What the last `up` made and this one no longer wants: pull secrets of namespaces
    /// dropped from the list, caches no longer asked for (their volumes are data), the agents'
    /// restart identity without `--allow-runtime-restart`, and every labelled object of a
    /// swept kind the rendered list no longer holds ([`render::unwanted`]).
    async fn prune(&mut self, prev: Option<&InstalledState>, material: &Material) -> Result<()> {
        let cluster = self.cluster;
        let before = prev
            .map(|p| p.pull_secret_namespaces.clone())
            .unwrap_or_default();
        for ns in before
            .iter()
            .filter(|ns| !self.plan.pull_secret_namespaces.contains(ns))
        {
            if auth::revoke(cluster, ns).await? {
                self.track(
                    format!("ServiceAccount/default -n {ns} (pull secret removed)"),
                    Applied::Updated,
                );
            }
        }
        let mut pruned = vec![];
        mirrors::prune(cluster, self.plan, &mut |what, how| {
            pruned.push((what, how))
        })
        .await?;
        for (what, how) in pruned {
            self.track(what, how);
        }
        if !(self.plan.node_trust && self.plan.allow_runtime_restart) {
            for removed in cluster.remove_node_trust_identity().await? {
                self.track(
                    format!("{removed} (deleted: no --allow-runtime-restart)"),
                    Applied::Updated,
                );
            }
        }
        // Whatever else kreg labelled in its namespace that this list no longer holds: the
        // objects of an exposure switched away from (Ingress, Gateway routes), the bootstrap
        // once kreg's image comes from elsewhere, a dropped gc schedule. One rule, from the
        // rendered list, so no mode or option can be forgotten here.
        let list = render::render(self.plan, material)?;
        let found = cluster.labelled(render::SWEPT_KINDS).await?;
        for gone in render::unwanted(&list, &self.plan.namespace, &found, |l| {
            (l.kind, l.name.as_str())
        }) {
            if cluster.delete_labelled(gone).await? {
                self.track(
                    format!("{}/{} (deleted: no longer planned)", gone.kind, gone.name),
                    Applied::Updated,
                );
            }
        }
        // Nothing reads kreg 0.1's agent ConfigMap any more. Read first, so a re-run stays
        // read-only (no DELETE answered 404 on every `up`).
        if self.plan.node_trust
            && cluster.get::<ConfigMap>(names::NODE_TRUST).await?.is_some()
            && cluster.delete::<ConfigMap>(names::NODE_TRUST).await?
        {
            self.track(
                format!("ConfigMap/{} (deleted)", names::NODE_TRUST),
                Applied::Updated,
            );
        }
        Ok(())
    }

    /// The record of what this `up` chose and created (`kreg-state`), written after the
    /// objects, so it never names something that is not there.
    async fn record(&mut self, at: &Located, keys: &Keys, m: &Material) -> Result<()> {
        let record = report::record(self.plan, at, keys, m, self.created.clone());
        let how = self.cluster.write_state(&record).await?;
        self.track(format!("ConfigMap/{}", names::STATE), how);
        if self.changed.is_empty() {
            self.ctx
                .reporter
                .done("everything already as planned; nothing changed");
        } else {
            self.ctx
                .reporter
                .done(&format!("applied {}", self.changed.join(", ")));
        }
        Ok(())
    }

    /// Waits for the rollouts, proves TLS works from here, pushes the probe image and waits
    /// for every node to pull it through its runtime: "healthy" and "trusted" are results.
    async fn verify(
        &mut self,
        p: &Prepared,
        at: &Located,
        keys: &Keys,
        m: &Material,
        probe: &crate::node::probe::ProbeImage,
        report: &mut UpReport,
    ) -> Result<Option<NodeTrustReport>> {
        self.wait_rollouts(m).await?;
        let connect_ip = probe_ip(&at.address, &at.endpoint);
        self.probe(&at.endpoint, connect_ip, &keys.cas.trust_pem)
            .await?;
        report.healthy = true;
        if !self.plan.node_trust {
            return Ok(None);
        }
        // The image every node agent pulls through its runtime: "trusted" means that pull
        // worked. Pushed only now, once the registry answers; the agents retry until then.
        report::push_probe(
            self.ctx,
            self.cluster,
            self.plan,
            &at.endpoint,
            connect_ip,
            &keys.cas.trust_pem,
            keys.users.as_ref().map(|u| u.push.clone()),
            probe,
        )
        .await?;
        let pushed = Instant::now();
        let r = &self.ctx.reporter;
        r.step("waiting for every node to pull the probe image through its runtime");
        let nt = self
            .cluster
            .wait_node_trust(self.left(), Some(pushed))
            .await?;
        self.timings.wait_node_trust_ms += pushed.elapsed().as_millis();
        report.nodes_trusted = Some(nt.trusted);
        report.nodes_total = Some(nt.total);
        report.untrusted_nodes = nt.untrusted.clone();
        if nt.complete() {
            r.done(&format!(
                "{} of {} nodes trust the CA (each pulled the probe image through its runtime)",
                nt.trusted, nt.total
            ));
        } else {
            report.healthy = false;
        }
        let skipped = manifests::nodes_without_agent(&p.nodes);
        if !skipped.is_empty() {
            r.info(&format!(
                "not counted (no node agent runs there): {}",
                skipped.join(", ")
            ));
        }
        Ok(Some(nt))
    }

    async fn wait_rollouts(&mut self, m: &Material) -> Result<()> {
        let r = &self.ctx.reporter;
        let t = Instant::now();
        r.step("waiting for the registry to be ready");
        self.cluster
            .wait_rollout(names::REGISTRY, self.left())
            .await?;
        r.done("registry ready");
        if !m.mirrors.is_empty() {
            r.step("waiting for the pull-through caches to be ready");
            mirrors::wait(self.cluster, &m.mirrors, self.deadline).await?;
            r.done(&format!(
                "pull-through caches ready: {}",
                m.mirrors
                    .iter()
                    .map(|m| format!("{} via {}", m.mirror.upstream, m.address))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.timings.wait_rollout_ms += t.elapsed().as_millis();
        Ok(())
    }

    async fn probe(
        &mut self,
        endpoint: &Endpoint,
        connect_ip: Option<std::net::IpAddr>,
        trust_pem: &str,
    ) -> Result<()> {
        let r = &self.ctx.reporter;
        r.step(&format!(
            "probing https://{}/v2/ with kreg's CA",
            endpoint.registry()
        ));
        let t = Instant::now();
        let limit = self.left().min(Duration::from_secs(60));
        let ca = self.plan.serves_tls().then_some(trust_pem);
        let code = probe::probe_until(endpoint, connect_ip, ca, limit)
            .await
            .map_err(|e| {
                hint(
                    format!("the registry is running but this machine cannot reach it over TLS: {e:#}"),
                    "check that this machine can reach the address (firewall, VPN); `kreg status` re-runs the probe",
                )
            })?;
        self.timings.probe_ms += t.elapsed().as_millis();
        r.done(&format!("registry answered {code} over TLS"));
        Ok(())
    }
}

/// The IP to pin the probe's connection to: the address when it is one (nip.io names carry it).
fn probe_ip(address: &Address, endpoint: &Endpoint) -> Option<std::net::IpAddr> {
    match address {
        Address::Ip(ip) => Some(*ip),
        Address::Hostname(_) => endpoint.ips.first().copied(),
    }
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! `kreg up`: connect, check rights, detect, plan, apply, wait, mint, prove, tell.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::Api;
use serde::Serialize;
use tokio::time::Instant;

use super::hosting::{self, Published};
use super::registry_auth::{self, AuthReport};
use super::Ctx;
use crate::cli::{ExposeArg, StorageArg, UpArgs};
use crate::cluster::{Applied, Cluster, NodeTrustReport};
use crate::detect::{self, Flavor};
use crate::error::{hint, EXIT_ERROR, EXIT_OK};
use crate::manifests;
use crate::pki;
use crate::plan::{self, names, Address, Endpoint, Expose, Plan, Request, Storage};
use crate::probe;
use crate::state::{self, Change, Explicit, InstalledState, NodeAddress};
use crate::validate;

use super::tls::{ensure_ca, ensure_leaf, mark_distributed};
use crate::plan::SCHEMA_VERSION;

/// `kreg up -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UpReport {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    pub flavor: Flavor,
    pub expose: Expose,
    pub namespace: String,
    pub address: String,
    pub host: String,
    pub registry: String,
    pub ca_sha256: String,
    pub ca_pem: String,
    pub healthy: bool,
    /// Objects created or updated by this run (empty on an idempotent re-run).
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_trusted: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes_total: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untrusted_nodes: Vec<crate::cluster::NodeVerdict>,
    /// `--auth`: who logs in and how (never the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthReport>,
    /// Namespaces whose default ServiceAccount pulls with kreg's credentials.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pull_secret_namespaces: Vec<String>,
    /// No password is needed: whoever reaches the registry can push, overwrite and delete.
    pub anonymous_access: bool,
    /// KEP-1755 discovery: `published`, or why `kube-public/local-registry-hosting` was not.
    pub discovery: String,
    /// Pull-through caches (`--mirror`) and the address nodes pull through.
    pub mirrors: Vec<super::mirrors::MirrorRecord>,
    /// Who can reach the caches (absent without caches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror_access: Option<super::mirrors::MirrorAccess>,
    /// API requests this run sent (a watch counts once).
    pub api_requests: usize,
    /// Where the time went: kreg's own work versus waiting on the cluster.
    pub timings_ms: Timings,
}

/// Milliseconds per phase of `up`. `work_ms` is the total minus the waits.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Timings {
    pub total_ms: u128,
    pub work_ms: u128,
    pub wait_address_ms: u128,
    pub wait_rollout_ms: u128,
    pub probe_ms: u128,
    pub wait_node_trust_ms: u128,
}

impl UpReport {
    fn set_cost(&mut self, started: Instant, mut t: Timings) {
        t.total_ms = started.elapsed().as_millis();
        let waits = t.wait_address_ms + t.wait_rollout_ms + t.probe_ms + t.wait_node_trust_ms;
        t.work_ms = t.total_ms.saturating_sub(waits);
        self.timings_ms = t;
        self.api_requests = crate::cluster::requests_made();
    }
}

/// Runs a wait and adds its duration to `slot`.
async fn timed<T>(slot: &mut u128, fut: impl std::future::Future<Output = T>) -> T {
    let t = Instant::now();
    let out = fut.await;
    *slot += t.elapsed().as_millis();
    out
}

/// `kreg up --dry-run -o json`: the objects `up` would apply.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct DryRun {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    flavor: Flavor,
    expose: Expose,
    namespace: String,
    objects: Vec<serde_json::Value>,
}

/// Turns flags into a validated request, with defaults where a flag is absent, and which
/// sticky choices the flags made (the rest come from the last `up`: [`state::keep`]);
/// everything hostile is refused here, before any request reaches the cluster.
fn request(ctx: &Ctx, a: &UpArgs) -> Result<(Request, Explicit)> {
    let flavor = a.flavor.as_deref().map(str::parse::<Flavor>).transpose()?;
    let host = a
        .host
        .as_deref()
        .map(validate::canonical_host)
        .transpose()?;
    for cidr in &a.lb_source_ranges {
        validate::cidr(cidr)?;
    }
    for u in &a.no_mirrors {
        validate::mirror(u).context("invalid --no-mirror")?;
    }
    validate::dns_suffix(&a.dns_suffix)?;
    validate::image(&a.image)?;
    let s3_flags = [&a.s3_bucket, &a.s3_region, &a.s3_endpoint, &a.s3_secret];
    let storage_arg = a.storage.unwrap_or(StorageArg::Pvc);
    if storage_arg != StorageArg::S3 && s3_flags.iter().any(|f| f.is_some()) {
        bail!("--s3-bucket, --s3-region, --s3-endpoint and --s3-secret go with --storage s3");
    }
    if storage_arg != StorageArg::Pvc && (a.size.is_some() || a.storage_class.is_some()) {
        bail!("--size and --storage-class go with --storage pvc");
    }
    let storage = match storage_arg {
        StorageArg::Pvc => {
            let size = a.size.clone().unwrap_or_else(|| DEFAULT_SIZE.to_string());
            validate::size(&size)?;
            if let Some(c) = &a.storage_class {
                validate::secret_name(c).context("invalid --storage-class")?;
            }
            Storage::Pvc {
                size,
                class: a.storage_class.clone(),
            }
        }
        StorageArg::Emptydir => Storage::EmptyDir,
        StorageArg::S3 => {
            let need = |v: &Option<String>, flag: &str| {
                v.clone().ok_or_else(|| hint(format!("--storage s3 needs {flag}"), "pass --s3-bucket, --s3-region and --s3-secret (a Secret with accesskey and secretkey)"))
            };
            let bucket = need(&a.s3_bucket, "--s3-bucket")?;
            let region = need(&a.s3_region, "--s3-region")?;
            let secret = need(&a.s3_secret, "--s3-secret")?;
            validate::s3_bucket(&bucket)?;
            validate::s3_region(&region)?;
            validate::secret_name(&secret).context("invalid --s3-secret")?;
            if let Some(e) = &a.s3_endpoint {
                validate::s3_endpoint(e)?;
            }
            Storage::S3 {
                bucket,
                region,
                endpoint: a.s3_endpoint.clone(),
                secret,
            }
        }
    };
    if let Some(c) = &a.ingress_class {
        validate::secret_name(c).context("invalid --ingress-class")?;
    }
    for ns in &a.pull_secret_namespaces {
        validate::namespace(ns).context("invalid --pull-secret-namespaces")?;
    }
    let mirrors = super::mirrors::requested(a)?;
    // Last: every other flag's error is more useful than a missing agent image.
    let agent_image = agent_image(a)?;
    let explicit = Explicit {
        expose: a.expose.is_some(),
        public: a.public || a.no_public,
        lb_source_ranges: !a.lb_source_ranges.is_empty(),
        host: a.host.is_some(),
        storage: a.storage.is_some()
            || a.size.is_some()
            || a.storage_class.is_some()
            || s3_flags.iter().any(|f| f.is_some()),
        replicas: a.replicas.is_some(),
        auth: a.auth || a.no_auth,
        pull_secret_namespaces: !a.pull_secret_namespaces.is_empty() || a.no_pull_secret_namespaces,
        gc_schedule: a.gc_schedule.is_some() || a.no_gc_schedule,
        no_mirrors: a.no_mirrors.clone(),
    };
    let req = Request {
        namespace: ctx.settings.namespace.clone(),
        flavor,
        expose: a.expose.map(|e| match e {
            ExposeArg::Loadbalancer => Expose::LoadBalancer,
            ExposeArg::Ingress => Expose::Ingress,
            ExposeArg::Nodeport => Expose::NodePort,
            ExposeArg::Localhost => Expose::Localhost,
        }),
        public: a.public,
        lb_source_ranges: a.lb_source_ranges.clone(),
        allow_anonymous_push: a.allow_anonymous_push,
        host,
        dns_suffix: a.dns_suffix.clone(),
        image: a.image.clone(),
        storage,
        replicas: a.replicas.unwrap_or(1),
        ingress_class: a.ingress_class.clone(),
        node_trust: !a.no_node_trust,
        allow_runtime_restart: a.allow_runtime_restart,
        restart_control_plane: a.restart_control_plane,
        agent_image,
        auth: a.auth,
        pull_secret_namespaces: a.pull_secret_namespaces.clone(),
        gc_schedule: match (&a.gc_schedule, &a.gc_image) {
            (Some(cron), Some(image)) => {
                validate::cron(cron)?;
                validate::image(image).context("invalid --gc-image")?;
                Some(plan::GcSchedule {
                    cron: cron.clone(),
                    image: image.clone(),
                })
            }
            _ => None,
        },
        mirrors,
    };
    Ok((req, explicit))
}

/// `--size` when none is given (and no earlier `up` chose one).
const DEFAULT_SIZE: &str = "10Gi";

/// The node agent's image: `--agent-image` (or KREG_AGENT_IMAGE), else the one a release
/// build was made with. Checked to be pinned by digest; not needed with `--no-node-trust`.
fn agent_image(a: &UpArgs) -> Result<String> {
    let image = a
        .agent_image
        .clone()
        .or_else(|| option_env!("KREG_DEFAULT_AGENT_IMAGE").map(str::to_string));
    match image {
        Some(i) => {
            validate::agent_image(&i)?;
            Ok(i)
        }
        None if a.no_node_trust => Ok(String::new()),
        None => Err(hint(
            "node trust needs kreg's node-agent image, and this build of kreg names none",
            "pass --agent-image IMAGE@sha256:DIGEST (or set KREG_AGENT_IMAGE), kreg's node-agent image in a registry the nodes can pull from (the README says how to build one); or use --no-node-trust and configure the nodes yourself",
        )),
    }
}

pub async fn run(ctx: &Ctx, a: &UpArgs) -> Result<u8> {
    run_pass(ctx, a, a.rotate_ca).await
}

/// One pass of `up`; `--rotate-ca` runs a second one (with `rotate` false) to switch to the
/// new CA once every node trusts it.
async fn run_pass(ctx: &Ctx, a: &UpArgs, rotate: bool) -> Result<u8> {
    let (mut req, explicit) = request(ctx, a)?;
    let started = Instant::now();
    let deadline = started + ctx.settings.timeout;
    let r = &ctx.reporter;

    r.step("connecting to the cluster");
    let cluster = Cluster::connect(&ctx.settings.target, &req.namespace).await?;
    r.done(&format!(
        "connected to {} ({})",
        cluster.context, cluster.server
    ));
    if !a.dry_run {
        cluster.check_access(crate::cluster::ACCESS_UP).await?;
    }

    // What the last `up` chose stays unless a flag changes it (see `state`).
    let prev = super::read_state(&cluster).await?;
    let changes = state::keep(&mut req, &explicit, prev.as_ref())?;

    let (facts, abilities) = cluster.facts().await?;
    let detection = detect::detect(&facts);
    let mut plan = plan::make(&req, detection.flavor, &abilities)?;
    if !explicit.expose && prev.is_some() {
        plan.expose_reason = "kept from the last `up` (--expose changes it)".into();
    }
    r.done(&format!(
        "flavour {}{}",
        plan.flavor,
        if req.flavor.is_some() {
            " (from --flavor)"
        } else {
            ""
        }
    ));
    for e in &detection.evidence {
        r.info(e);
    }
    describe_plan(ctx, &plan, &changes);
    super::mirrors::describe(ctx, &plan);
    super::mirrors::check_credentials(&cluster, &plan).await?;
    let mirror_access = super::mirrors::access(ctx, &cluster, &plan).await?;

    if a.dry_run {
        return dry_run(ctx, &plan, mirror_access.as_ref());
    }
    confirm_downgrades(ctx, &changes)?;
    if !ctx.confirm(&format!(
        "Install the registry into namespace {}?",
        plan.namespace
    ))? {
        bail!("cancelled; nothing was changed");
    }
    // Before the first write: every object kreg would reuse by name must be kreg's own.
    let (mut created, absent) = ownership(&cluster, &plan, prev.as_ref()).await?;

    let mut changed = Vec::new();
    let mut track = |what: String, how: Applied| {
        if let Applied::Restored(field) = &how {
            r.warn(&format!(
                "{what} had been changed ({field}); restored what kreg applies"
            ));
        }
        if how != Applied::Unchanged {
            changed.push(what);
        }
    };

    if cluster
        .wait_namespace_not_terminating(left(deadline))
        .await?
    {
        r.done(&format!(
            "namespace {} finished terminating",
            plan.namespace
        ));
    }
    // 1. Namespace, CA, shared HTTP secret. A namespace that exists is left as it is (kreg
    //    never labels or takes over one it did not create); one kreg creates is recorded by
    //    UID, and only such a namespace is ever deleted by `down --purge`. The CA is created
    //    only if absent, so a concurrent `up` adopts the winner's.
    let namespaces = Api::<Namespace>::all(cluster.client());
    match cluster.get(&namespaces, &plan.namespace).await? {
        None => {
            if let Some(ns) = cluster
                .create_new(&namespaces, &manifests::namespace(&plan))
                .await?
            {
                record(&mut created, "Namespace", &plan.namespace, &ns.metadata);
                track(format!("Namespace/{}", plan.namespace), Applied::Created);
            }
        }
        // A namespace this kreg created carries both its managed-by and its Pod Security
        // labels (no other kreg labelled namespaces that way): an `up` interrupted between
        // creating it and writing the record leaves it unrecorded; adopt it again.
        Some(ns) if manifests::created_by_this_kreg(&ns.metadata) => {
            let key = format!("Namespace/{}", plan.namespace);
            if !created.contains_key(&key) {
                record(&mut created, "Namespace", &plan.namespace, &ns.metadata);
            }
        }
        // Not kreg's to relabel: say so when its Pod Security level rejects the agent.
        Some(ns) if plan.node_trust => {
            if let Some(why) = manifests::pod_security_blocks_agent(&ns.metadata) {
                r.warn(&format!(
                    "{why}: label it pod-security.kubernetes.io/enforce=privileged, or let kreg create a namespace of its own (-n)"
                ));
            }
        }
        Some(_) => {}
    }
    let secrets: Api<Secret> = cluster.ns_api();
    let http = random_secret();
    let (_, http_created) = cluster
        .create_if_absent(
            &secrets,
            &manifests::secret(
                &plan.namespace,
                names::HTTP_SECRET,
                "Opaque",
                &[("secret", http.as_bytes())],
            ),
        )
        .await?;
    if http_created {
        track(format!("Secret/{}", names::HTTP_SECRET), Applied::Created);
    }

    // 2. Storage and Service.
    if let Some(pvc) = manifests::pvc(&plan) {
        let pvcs = cluster.ns_api::<PersistentVolumeClaim>();
        // A volume still being deleted (`down --purge` just before) cannot be used: a pod on it
        // stays Pending. Wait until it is gone, then create a new one.
        cluster
            .wait_deleted(&pvcs, names::DATA_PVC, left(deadline))
            .await?;
        let how = cluster.apply(&pvcs, &pvc).await?;
        if how == Applied::Created {
            if let Some(live) = cluster.get(&pvcs, names::DATA_PVC).await? {
                record(
                    &mut created,
                    "PersistentVolumeClaim",
                    names::DATA_PVC,
                    &live.metadata,
                );
            }
        }
        track(format!("PersistentVolumeClaim/{}", names::DATA_PVC), how);
    }
    if plan.storage == Storage::EmptyDir {
        r.warn("--storage emptydir: images are LOST whenever the registry pod restarts or moves");
    }
    track(
        format!("Service/{}", names::REGISTRY),
        cluster
            .apply(&cluster.ns_api::<Service>(), &manifests::service(&plan))
            .await?,
    );

    // 3. The address.
    r.step(match plan.expose {
        Expose::LoadBalancer => "waiting for the load balancer's address",
        _ => "reading the node address",
    });
    let mut timings = Timings::default();
    // A NodePort registry keeps the node it was named after while that node exists: its
    // name is in every image reference the users wrote.
    let kept_node = prev
        .as_ref()
        .and_then(|p| p.node_address.as_ref())
        .map(|n| n.node.clone());
    let (address, node_port, node) = timed(&mut timings.wait_address_ms, async {
        match plan.expose {
            Expose::Ingress => Ok((
                ingress_address(&cluster, &plan, deadline).await?,
                None,
                None,
            )),
            e => {
                cluster
                    .wait_address(
                        names::REGISTRY,
                        e == Expose::LoadBalancer,
                        kept_node.as_deref(),
                        left(deadline),
                    )
                    .await
            }
        }
    })
    .await?;
    let endpoint = plan::endpoint(&plan, &address, node_port);
    r.done(&format!(
        "address {address}: registry {}",
        endpoint.registry()
    ));

    // 4. The CA (created only if absent, so a concurrent `up` adopts the winner's; made once the
    //    address is known, since its name constraints cover it), then the serving certificate:
    //    reused while it covers the address and has time left.
    let cas = ensure_ca(&cluster, &secrets, &plan, &endpoint, rotate).await?;
    for stored in &cas.created {
        let name = stored.metadata.name.clone().unwrap_or_default();
        record(&mut created, "Secret", &name, &stored.metadata);
    }
    for s in &cas.changed {
        track(s.clone(), Applied::Updated);
    }
    let (ca, trust_pem) = (cas.signing.clone(), cas.trust_pem.clone());
    //    (`--expose localhost` is plain HTTP: no serving certificate.)
    let tls_sha = if plan.expose == Expose::Localhost {
        "plain-http".to_string()
    } else {
        let (leaf, leaf_changed) =
            ensure_leaf(&cluster, &secrets, &plan, &ca, &endpoint, names::TLS_SECRET).await?;
        if leaf_changed {
            track(format!("Secret/{}", names::TLS_SECRET), Applied::Updated);
        }
        pki::cert_sha256(&leaf.cert_pem)?
    };

    // 5. The registry (with its credentials), the Ingress, the state record, node trust.
    let mut deployment = manifests::deployment(&plan, &tls_sha);
    let users = if plan.auth {
        let (users, stored) = registry_auth::ensure(&cluster, &plan.namespace).await?;
        if let Some(stored) = stored {
            record(&mut created, "Secret", names::AUTH_SECRET, &stored.metadata);
            track(format!("Secret/{}", names::AUTH_SECRET), Applied::Created);
        }
        manifests::with_auth(&mut deployment, &users.sha256, &plan.agent_image);
        Some(users)
    } else {
        None
    };
    track(
        format!("Deployment/{}", names::REGISTRY),
        cluster
            .apply(&cluster.ns_api::<Deployment>(), &deployment)
            .await?,
    );
    let pulled_before = prev
        .as_ref()
        .map(|p| p.pull_secret_namespaces.clone())
        .unwrap_or_default();
    for ns in pulled_before
        .iter()
        .filter(|ns| !plan.pull_secret_namespaces.contains(ns))
    {
        if registry_auth::revoke(&cluster, ns).await? {
            track(
                format!("ServiceAccount/default -n {ns} (pull secret removed)"),
                Applied::Updated,
            );
        }
    }
    if let Some(g) = &plan.gc_schedule {
        let objects = crate::gc::schedule(
            &deployment,
            &g.cron,
            &g.image,
            cluster.cronjob_api_version().await?,
        )?;
        let gc_name = names::GC_JOB;
        track(
            format!("ServiceAccount/{gc_name}"),
            cluster
                .apply(&cluster.ns_api(), &objects.service_account)
                .await?,
        );
        track(
            format!("Role/{gc_name}"),
            cluster.apply(&cluster.ns_api(), &objects.role).await?,
        );
        track(
            format!("RoleBinding/{gc_name}"),
            cluster.apply(&cluster.ns_api(), &objects.binding).await?,
        );
        track(
            format!("ConfigMap/{gc_name}"),
            cluster.apply(&cluster.ns_api(), &objects.config).await?,
        );
        track(
            format!("CronJob/{gc_name}"),
            cluster.apply_cronjob(&objects.cronjob).await?,
        );
    } else if prev.as_ref().is_some_and(|p| p.gc_schedule.is_some()) {
        for removed in super::gc::unschedule(&cluster).await? {
            track(
                format!("{removed} (deleted: --no-gc-schedule)"),
                Applied::Updated,
            );
        }
    }
    if let Some(users) = &users {
        // The pull user: a namespace's pods pull and can neither push nor delete.
        for ns in &plan.pull_secret_namespaces {
            if registry_auth::grant(&cluster, ns, &endpoint.registry(), &users.pull).await? {
                track(
                    format!("Secret/{} -n {ns}", names::PULL_SECRET),
                    Applied::Updated,
                );
            }
        }
    }
    if let Some(ing) = manifests::ingress(&plan, &endpoint.host) {
        track(
            format!("Ingress/{}", names::REGISTRY),
            cluster.apply(&cluster.ns_api::<Ingress>(), &ing).await?,
        );
    }
    // Pull-through caches (--mirror), and the removal of those no longer asked for.
    let mirrors =
        super::mirrors::apply(&cluster, &plan, &ca, mirror_access.as_ref(), &mut track).await?;
    super::mirrors::prune(&cluster, &plan, &mut track).await?;
    let ca_sha = pki::cert_sha256(&ca.cert_pem)?;
    let discovery = match hosting::publish(
        &cluster,
        &hosting::hosting(plan.expose, &endpoint, &plan.namespace),
    )
    .await
    {
        Published::Applied(how) => {
            track(
                format!("ConfigMap/{} -n {}", names::HOSTING.1, names::HOSTING.0),
                how,
            );
            "published".to_string()
        }
        Published::Foreign => {
            r.warn(&format!(
                "{}/{} exists and was not created by kreg: left alone, so Tilt/Skaffold/ctlptl keep finding the registry it names",
                names::HOSTING.0,
                names::HOSTING.1
            ));
            "left alone: another tool owns it".to_string()
        }
        Published::Failed(why) => {
            r.warn(&format!(
                "could not publish {}/{} for Tilt/Skaffold/ctlptl ({why}); the registry works without it",
                names::HOSTING.0,
                names::HOSTING.1
            ));
            format!("not published: {why}")
        }
    };
    adopt_appeared(&cluster, &absent, &mut created).await?;
    let record = InstalledState {
        version: state::VERSION,
        installed: true,
        flavor: plan.flavor,
        expose: plan.expose,
        public: plan.public,
        lb_source_ranges: plan.lb_source_ranges.clone(),
        allow_anonymous_push: plan.allow_anonymous_push,
        address: address.to_string(),
        host: endpoint.host.clone(),
        user_host: plan.host.clone(),
        node_address: match (node, &address) {
            (Some(node), Address::Ip(ip)) => Some(NodeAddress {
                node,
                ip: ip.to_string(),
            }),
            _ => None,
        },
        port: endpoint.port,
        registry: endpoint.registry(),
        image: plan.image.clone(),
        dns_suffix: plan.dns_suffix.clone(),
        node_trust: plan.node_trust,
        allow_runtime_restart: plan.allow_runtime_restart,
        ca_pem: trust_pem.clone(),
        auth: plan.auth,
        pull_secret_namespaces: plan.pull_secret_namespaces.clone(),
        storage: Some(plan.storage.clone()),
        replicas: plan.replicas,
        gc_schedule: plan.gc_schedule.clone(),
        mirrors: super::mirrors::records(&mirrors),
        created,
        migrated: false,
    };
    track(
        format!("ConfigMap/{}", names::STATE),
        cluster
            .apply(
                &cluster.ns_api::<ConfigMap>(),
                &manifests::configmap(&plan.namespace, names::STATE, record.to_data()?),
            )
            .await?,
    );
    let probe = crate::node::probe::build();
    if plan.node_trust && plan.allow_runtime_restart {
        let id = manifests::node_trust_identity(&plan);
        track(
            format!("ServiceAccount/{}", names::NODE_TRUST),
            cluster
                .apply(&cluster.ns_api(), &id.service_account)
                .await?,
        );
        track(
            format!("Role/{}", names::NODE_TRUST),
            cluster.apply(&cluster.ns_api(), &id.role).await?,
        );
        track(
            format!("RoleBinding/{}", names::NODE_TRUST),
            cluster.apply(&cluster.ns_api(), &id.binding).await?,
        );
    } else {
        for removed in cluster.remove_node_trust_identity().await? {
            track(
                format!("{removed} (deleted: no --allow-runtime-restart)"),
                Applied::Updated,
            );
        }
    }
    if plan.node_trust {
        let ds = manifests::node_trust(
            &plan,
            &manifests::NodeAgent {
                registry: &endpoint.registry(),
                dial: plan::dial(&plan, &address, &endpoint),
                ca_pem: &trust_pem,
                mode: "install",
                mirrors: &mirrors,
                probe_image: Some(probe.reference(&endpoint.registry())),
                restart_skip: manifests::restart_skip(&facts.nodes, plan.restart_control_plane),
                pull_secret: users.as_ref().map(|_| names::AUTH_SECRET),
            },
        );
        track(
            format!("DaemonSet/{}", names::NODE_TRUST),
            cluster.apply(&cluster.ns_api::<DaemonSet>(), &ds).await?,
        );
        // The ConfigMap the shell agent of kreg 0.1 read: nothing reads it any more. Read
        // first, so a re-run stays read-only (no DELETE answered 404 on every `up`).
        let configmaps = cluster.ns_api::<ConfigMap>();
        if cluster.get(&configmaps, names::NODE_TRUST).await?.is_some()
            && cluster.delete(&configmaps, names::NODE_TRUST).await?
        {
            track(
                format!("ConfigMap/{} (deleted)", names::NODE_TRUST),
                Applied::Updated,
            );
        }
    }
    if changed.is_empty() {
        r.done("everything already as planned; nothing changed");
    } else {
        r.done(&format!("applied {}", changed.join(", ")));
    }

    let mut report = UpReport {
        schema_version: SCHEMA_VERSION,
        flavor: plan.flavor,
        expose: plan.expose,
        namespace: plan.namespace.clone(),
        address: address.to_string(),
        host: endpoint.host.clone(),
        registry: endpoint.registry(),
        ca_sha256: ca_sha,
        ca_pem: trust_pem.clone(),
        healthy: false,
        changed,
        nodes_trusted: None,
        nodes_total: None,
        untrusted_nodes: vec![],
        auth: users
            .as_ref()
            .map(|u| AuthReport::new(&plan.namespace, &endpoint.registry(), u, false)),
        pull_secret_namespaces: plan.pull_secret_namespaces.clone(),
        anonymous_access: !plan.auth,
        discovery,
        mirrors: super::mirrors::records(&mirrors),
        mirror_access,
        api_requests: 0,
        timings_ms: Timings::default(),
    };
    if a.no_wait {
        r.warn("--no-wait: not waiting for the rollout, the health probe or node trust");
        if cas.distributing {
            r.warn("CA rotation half done: nodes and clients now get the old and the new CA; the registry switches to the new one on the next `kreg up` without --no-wait, once every node trusts both");
        }
        report.set_cost(started, timings);
        return finish(ctx, &report, None, EXIT_OK);
    }

    // 6. Wait for the rollout, prove TLS works, wait for every node to trust the CA.
    r.step("waiting for the registry to be ready");
    timed(
        &mut timings.wait_rollout_ms,
        cluster.wait_rollout(names::REGISTRY, left(deadline)),
    )
    .await?;
    r.done("registry ready");
    if !mirrors.is_empty() {
        r.step("waiting for the pull-through caches to be ready");
        timed(
            &mut timings.wait_rollout_ms,
            super::mirrors::wait(&cluster, &mirrors, deadline),
        )
        .await?;
        r.done(&format!(
            "pull-through caches ready: {}",
            mirrors
                .iter()
                .map(|m| format!("{} via {}", m.mirror.upstream, m.address))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    r.step(&format!(
        "probing https://{}/v2/ with kreg's CA",
        endpoint.registry()
    ));
    let connect_ip = probe_ip(&address, &endpoint);
    let probe_limit = left(deadline).min(Duration::from_secs(60));
    let code = timed(&mut timings.probe_ms, probe::probe_until(&endpoint, connect_ip, &trust_pem, probe_limit))
        .await
        .map_err(|e| {
            hint(
                format!("the registry is running but this machine cannot reach it over TLS: {e:#}"),
                "check that this machine can reach the address (firewall, VPN); `kreg status` re-runs the probe",
            )
        })?;
    r.done(&format!("registry answered {code} over TLS"));
    report.healthy = true;

    let mut exit = EXIT_OK;
    let mut trust_report = None;
    if plan.node_trust {
        // The image every node agent pulls through its runtime: "trusted" means that pull
        // worked. Pushed only now, once the registry answers; the agents retry until then.
        push_probe(
            ctx,
            &cluster,
            &plan,
            &endpoint,
            connect_ip,
            &trust_pem,
            users.as_ref().map(|u| u.push.clone()),
            &probe,
        )
        .await?;
        let pushed = Instant::now();
        r.step("waiting for every node to pull the probe image through its runtime");
        let nt = timed(
            &mut timings.wait_node_trust_ms,
            cluster.wait_node_trust(left(deadline), Some(pushed)),
        )
        .await?;
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
            exit = EXIT_ERROR;
        }
        trust_report = Some(nt);
        let skipped = manifests::nodes_without_agent(&facts.nodes);
        if !skipped.is_empty() {
            r.info(&format!(
                "not counted (no node agent runs there): {}",
                skipped.join(", ")
            ));
        }
    }
    if cas.distributing && exit == EXIT_OK {
        // Every node trusts the old and the new CA: now the registry may switch to the new one.
        mark_distributed(&cluster, &secrets).await?;
        r.done("every node trusts the old and the new CA: switching the registry to the new one");
        return Box::pin(run_pass(ctx, a, false)).await;
    }
    r.info(&format!("took {:.1}s", started.elapsed().as_secs_f64()));
    report.set_cost(started, timings);
    let code = finish(ctx, &report, trust_report.as_ref(), exit)?;
    if a.trust_local {
        let local = crate::cli::TrustLocalArgs {
            system: false,
            ca_sha256: None,
            remove: false,
            dry_run: false,
            user: false,
        };
        let (local_code, local_report) =
            super::trust_local::run_local(ctx, &local, &report.registry, &report.ca_pem)?;
        // With -o json the one document on stdout is up's; trust-local's lines are for text mode.
        if ctx.printer.is_text() {
            super::trust_local::print(ctx, &local_report, &local)?;
        }
        return Ok(code.max(local_code));
    }
    Ok(code)
}

fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// The IP to pin the probe's connection to: the address when it is one (nip.io names carry it).
/// Pushes the probe image (a few KiB) the node agents pull, directly or through a
/// port-forward when this machine cannot reach the registry's address.
#[allow(clippy::too_many_arguments)]
async fn push_probe(
    ctx: &Ctx,
    cluster: &Cluster,
    plan: &Plan,
    endpoint: &Endpoint,
    connect_ip: Option<IpAddr>,
    ca_pem: &str,
    creds: Option<crate::auth::Credentials>,
    probe: &crate::node::probe::ProbeImage,
) -> Result<()> {
    let target = crate::registry::Target {
        host: endpoint.host.clone(),
        port: endpoint.port,
        plain_http: plan.expose == Expose::Localhost,
        connect: connect_ip.map(|ip| std::net::SocketAddr::new(ip, endpoint.port)),
    };
    let (client, _forward) = super::push::reach(
        ctx,
        cluster,
        target,
        creds,
        ca_pem,
        &endpoint.registry(),
        false,
    )
    .await?;
    let repo = crate::node::probe::REPO;
    for (digest, bytes) in &probe.blobs {
        client.upload_bytes(repo, digest, bytes).await?;
    }
    let (child, index) = (&probe.manifests[0], &probe.manifests[1]);
    client.put_manifest(repo, &child.digest, child).await?;
    client
        .put_manifest(repo, crate::node::probe::TAG, index)
        .await?;
    ctx.reporter
        .done(&format!("probe image {repo}@{} pushed", probe.digest()));
    Ok(())
}

fn probe_ip(address: &Address, endpoint: &Endpoint) -> Option<IpAddr> {
    match address {
        Address::Ip(ip) => Some(*ip),
        Address::Hostname(_) => endpoint.ips.first().copied(),
    }
}

async fn ingress_address(cluster: &Cluster, plan: &Plan, deadline: Instant) -> Result<Address> {
    // The host is the user's; the certificate gets the controller's IP as well when it has one.
    let host = plan
        .host
        .clone()
        .expect("plan requires --host with ingress");
    Ok(cluster
        .ingress_address(names::REGISTRY, left(deadline).min(Duration::from_secs(30)))
        .await?
        .unwrap_or(Address::Hostname(host)))
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records the UID of an object this run created (see `state`'s ownership rule).
fn record(
    created: &mut BTreeMap<String, String>,
    kind: &str,
    name: &str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
    if let Some(uid) = &meta.uid {
        created.insert(format!("{kind}/{name}"), uid.clone());
    }
}

/// The objects `up` reuses by name (its namespace, PVC, CA and password Secrets): each that
/// exists must be one kreg created, or nothing is changed. Returns the ownership record to
/// carry on (the last `up`'s, plus the UIDs a record from an older kreg did not have) and the
/// objects that did not exist yet (see [`adopt_appeared`]).
async fn ownership(
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
    let namespaces = Api::<Namespace>::all(cluster.client());
    if let Some(ns) = cluster.get(&namespaces, &plan.namespace).await? {
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
    let secrets = cluster.ns_api::<Secret>();
    let pvcs = cluster.ns_api::<PersistentVolumeClaim>();
    let mut found = Vec::new();
    for name in [names::CA_SECRET, names::AUTH_SECRET] {
        match cluster.get(&secrets, name).await? {
            Some(s) => found.push(("Secret", name, s.metadata)),
            None => absent.push(("Secret", name.to_string())),
        }
    }
    match cluster.get(&pvcs, names::DATA_PVC).await? {
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

/// Records the objects that did not exist when [`ownership`] looked and carry kreg's label
/// now, but were not created by this run: a concurrent `kreg up` won the race to create them
/// (this run adopted them, e.g. the winner's CA). Without this the record of whichever run
/// writes last would miss them.
async fn adopt_appeared(
    cluster: &Cluster,
    absent: &[(&'static str, String)],
    created: &mut BTreeMap<String, String>,
) -> Result<()> {
    for (kind, name) in absent {
        if created.contains_key(&format!("{kind}/{name}")) {
            continue;
        }
        let meta = match *kind {
            "Namespace" => cluster
                .get(&Api::<Namespace>::all(cluster.client()), name)
                .await?
                .map(|o| o.metadata),
            "Secret" => cluster
                .get(&cluster.ns_api::<Secret>(), name)
                .await?
                .map(|o| o.metadata),
            _ => cluster
                .get(&cluster.ns_api::<PersistentVolumeClaim>(), name)
                .await?
                .map(|o| o.metadata),
        };
        if let Some(meta) = meta.filter(crate::plan::is_kreg_managed) {
            record(created, kind, name, &meta);
        }
    }
    Ok(())
}

/// A record with nothing in it, for [`ownership`] when there is no record at all.
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
        registry: String::new(),
        image: String::new(),
        dns_suffix: String::new(),
        node_trust: false,
        allow_runtime_restart: false,
        ca_pem: String::new(),
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

fn describe_plan(ctx: &Ctx, plan: &Plan, changes: &[Change]) {
    let r = &ctx.reporter;
    for c in changes {
        if c.downgrade {
            r.warn(&format!("change: {c} (a security downgrade)"));
        } else {
            r.info(&format!("change: {c}"));
        }
    }
    r.info(&format!(
        "exposure: {} ({})",
        plan.expose, plan.expose_reason
    ));
    r.info(&format!("namespace: {}", plan.namespace));
    r.info(&format!(
        "storage: {}",
        match &plan.storage {
            Storage::Pvc { size, class } => format!(
                "PVC {size} of StorageClass {}",
                class.as_deref().unwrap_or("(default)")
            ),
            Storage::S3 { bucket, region, .. } => format!("S3 bucket {bucket} in {region}"),
            Storage::EmptyDir => "emptyDir (images lost when the pod moves)".into(),
        }
    ));
    if plan.internal_lb() {
        r.info("load balancer: internal to the cloud network (--public for a public one)");
    }
    if !plan.lb_source_ranges.is_empty() {
        r.info(&format!(
            "load balancer: only from {}",
            plan.lb_source_ranges.join(", ")
        ));
    }
    if let Some(reach) = plan.anonymous_reach() {
        r.warn(&plan::anonymous_warning(&reach));
    }
    if plan.node_trust {
        r.info("node trust: a privileged DaemonSet writes <config_path>/<registry>/hosts.toml and ca.crt for containerd (or the CRI-O/Docker certs.d file) on every node");
        if plan.allow_runtime_restart {
            r.info("node trust: may set containerd's config_path and restart containerd where it is unset");
        }
    }
}

fn dry_run(
    ctx: &Ctx,
    plan: &Plan,
    mirror_access: Option<&super::mirrors::MirrorAccess>,
) -> Result<u8> {
    let (doc, notes) = dry_run_document(plan, mirror_access)?;
    for note in notes {
        ctx.reporter.info(&note);
    }
    if ctx.printer.is_text() {
        let text = manifests::to_yaml_stream(&doc.objects)?;
        for line in text.lines() {
            ctx.printer.out(line);
        }
    } else {
        ctx.printer.document(&doc)?;
    }
    ctx.reporter.done("dry run: nothing was changed");
    Ok(EXIT_OK)
}

/// The `--dry-run` document: every object `up` would apply, secrets as placeholders, and the
/// notes for what is not an object (ServiceAccount edits). Pure: no cluster, no output.
fn dry_run_document(
    plan: &Plan,
    mirror_access: Option<&super::mirrors::MirrorAccess>,
) -> Result<(DryRun, Vec<String>)> {
    let mut notes = vec![];
    let pending = "<issued during up>";
    let mut objects = vec![serde_json::to_value(manifests::namespace(plan))?];
    objects.push(serde_json::to_value(manifests::placeholder_secret(
        &plan.namespace,
        names::CA_SECRET,
        "Opaque",
        &["ca.crt", "ca.key"],
    ))?);
    objects.push(serde_json::to_value(manifests::placeholder_secret(
        &plan.namespace,
        names::HTTP_SECRET,
        "Opaque",
        &["secret"],
    ))?);
    if let Some(p) = manifests::pvc(plan) {
        objects.push(serde_json::to_value(p)?);
    }
    objects.push(serde_json::to_value(manifests::service(plan))?);
    objects.push(serde_json::to_value(manifests::placeholder_secret(
        &plan.namespace,
        names::TLS_SECRET,
        "kubernetes.io/tls",
        &["tls.crt", "tls.key", "ca.crt"],
    ))?);
    let mut deployment = manifests::deployment(plan, pending);
    if plan.auth {
        objects.push(serde_json::to_value(manifests::placeholder_secret(
            &plan.namespace,
            names::AUTH_SECRET,
            "Opaque",
            &[
                "username",
                "password",
                "htpasswd",
                "pull-username",
                "pull-password",
                "pull-htpasswd",
            ],
        ))?);
        manifests::with_auth(&mut deployment, pending, &plan.agent_image);
    }
    if let Some(g) = &plan.gc_schedule {
        // The CronJob's apiVersion is chosen against the server during `up`.
        let sched = crate::gc::schedule(&deployment, &g.cron, &g.image, "batch/v1")?;
        objects.push(serde_json::to_value(&sched.service_account)?);
        objects.push(serde_json::to_value(&sched.role)?);
        objects.push(serde_json::to_value(&sched.binding)?);
        objects.push(serde_json::to_value(&sched.config)?);
        objects.push(sched.cronjob);
    }
    objects.push(serde_json::to_value(deployment)?);
    for ns in &plan.pull_secret_namespaces {
        let placeholder = crate::auth::Credentials {
            username: names::PULL_USER.into(),
            password: String::new(),
        };
        objects.push(serde_json::to_value(manifests::redacted(
            manifests::pull_secret(ns, "<registry address>", &placeholder),
        ))?);
        notes.push(format!(
            "would add {} to the imagePullSecrets of ServiceAccount default in namespace {ns}",
            names::PULL_SECRET
        ));
    }
    if let Some(i) = manifests::ingress(plan, plan.host.as_deref().unwrap_or(pending)) {
        objects.push(serde_json::to_value(i)?);
    }
    let pending_address = Endpoint {
        host: "<registry address>".into(),
        port: 443,
        ips: vec![],
    };
    objects.push(serde_json::to_value(manifests::local_registry_hosting(
        &hosting::hosting(plan.expose, &pending_address, &plan.namespace),
    )?)?);
    objects.extend(super::mirrors::dry_run_objects(
        plan,
        pending,
        mirror_access,
    )?);
    if plan.node_trust {
        let ds = manifests::node_trust(
            plan,
            &manifests::NodeAgent {
                registry: "<registry address>",
                dial: None,
                ca_pem: pending,
                mode: "install",
                mirrors: &[],
                probe_image: None,
                restart_skip: vec![],
                pull_secret: None,
            },
        );
        objects.push(serde_json::to_value(ds)?);
    }
    let doc = DryRun {
        schema_version: SCHEMA_VERSION,
        flavor: plan.flavor,
        expose: plan.expose,
        namespace: plan.namespace.clone(),
        objects,
    };
    Ok((doc, notes))
}

fn finish(ctx: &Ctx, report: &UpReport, nt: Option<&NodeTrustReport>, exit: u8) -> Result<u8> {
    ctx.reporter.finish();
    if let Some(nt) = nt.filter(|n| !n.complete()) {
        ctx.printer.warn(&format!(
            "only {} of {} nodes trust the CA; pods on the others fail with x509 errors:",
            nt.trusted, nt.total
        ));
        for v in nt.untrusted.iter().take(20) {
            ctx.printer.say(&format!("  {}: {}", v.node, v.reason));
        }
        if report.flavor == Flavor::Gke {
            // COS nodes are not edited by hand on GKE; the cluster's own setting is the route.
            ctx.printer.say(&format!(
                "  on GKE, give nodes the CA through the cluster's private-CA registry access instead: store ca.crt in \
Secret Manager, then `gcloud container clusters update CLUSTER --containerd-config-from-file=FILE` \
with privateRegistryAccessConfig listing {} (see GKE's \"private registries with private CA\" guide)",
                report.registry
            ));
        }
        if nt.untrusted.len() > 20 {
            ctx.printer.say(&format!(
                "  ... and {} more (kreg status -o json lists them)",
                nt.untrusted.len() - 20
            ));
        }
        if !nt.pending.is_empty() {
            let pending = crate::cluster::NodeTrustReport {
                pending: nt.pending.clone(),
                ..Default::default()
            };
            ctx.printer.say(&format!(
                "  no answer before the timeout: {}",
                pending.untrusted_names(10)
            ));
        }
    }
    if !ctx.printer.is_text() {
        ctx.printer.document(report)?;
        return Ok(exit);
    }
    let reg = &report.registry;
    let p = &ctx.printer;
    p.say(&format!(
        "\nRegistry {reg} is {}.",
        if report.healthy { "ready" } else { "installed" }
    ));
    p.out(&format!("# Registry: {reg}"));
    if report.expose == Expose::Localhost {
        p.out("# Plain HTTP: every node pulls from its own localhost. Push from here through:");
        p.out("kreg port-forward &");
        p.out(&format!(
            "docker push {reg}/myapp:latest    # skopeo/podman: --dest-tls-verify=false"
        ));
        p.out("# Use it in a Pod spec:");
        p.out(&format!("#   image: {reg}/myapp:latest"));
        return Ok(exit);
    }
    p.out("# Trust it on this machine (docker, podman, skopeo):");
    p.out("kreg trust-local");
    p.out("# or by hand, for docker:");
    p.out(&format!("sudo mkdir -p /etc/docker/certs.d/{reg}"));
    p.out(&format!(
        "kubectl -n {} get configmap {} -o jsonpath='{{.data.ca\\.crt}}' | sudo tee /etc/docker/certs.d/{reg}/ca.crt >/dev/null",
        report.namespace,
        names::STATE
    ));
    if let Some(auth) = &report.auth {
        p.out(&format!(
            "# Log in as {} (the password is in Secret {}; `kreg status --show-password` prints it):",
            auth.username, auth.secret
        ));
        p.out(&auth.login);
    }
    p.out("# Push an image:");
    p.out(&format!("docker tag myapp:latest {reg}/myapp:latest"));
    p.out(&format!("docker push {reg}/myapp:latest"));
    p.out("# Use it in a Pod spec:");
    p.out(&format!("#   image: {reg}/myapp:latest"));
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{GcSchedule, Storage};

    /// The `-o json` contract of `up`: field names and shapes scripts read.
    #[test]
    fn up_json_contract() {
        let users = registry_auth::Users {
            push: crate::auth::Credentials {
                username: "kreg".into(),
                password: "not-printed".into(),
            },
            pull: crate::auth::Credentials {
                username: "kreg-pull".into(),
                password: "not-printed-either".into(),
            },
            sha256: String::new(),
        };
        let report = UpReport {
            schema_version: SCHEMA_VERSION,
            flavor: Flavor::Kind,
            expose: Expose::NodePort,
            namespace: "kreg-system".into(),
            address: "10.0.0.2".into(),
            host: "registry.10.0.0.2.nip.io".into(),
            registry: "registry.10.0.0.2.nip.io:31000".into(),
            ca_sha256: "ab".repeat(32),
            ca_pem: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".into(),
            healthy: true,
            changed: vec![
                "Namespace/kreg-system".into(),
                "Deployment/kreg-registry".into(),
            ],
            nodes_trusted: Some(1),
            nodes_total: Some(2),
            untrusted_nodes: vec![crate::cluster::NodeVerdict {
                node: "node-b".into(),
                reason: "config_path is not set".into(),
            }],
            auth: Some(AuthReport::new(
                "kreg-system",
                "registry.10.0.0.2.nip.io:31000",
                &users,
                false,
            )),
            pull_secret_namespaces: vec!["team-a".into()],
            anonymous_access: false,
            discovery: "published".into(),
            mirrors: vec![super::super::mirrors::MirrorRecord {
                upstream: "docker.io".into(),
                url: "https://registry-1.docker.io".into(),
                name: "kreg-mirror-docker-io".into(),
                address: "10.96.0.20".into(),
                credentials: None,
            }],
            mirror_access: None,
            api_requests: 42,
            timings_ms: Timings {
                total_ms: 9000,
                work_ms: 1000,
                wait_address_ms: 1000,
                wait_rollout_ms: 4000,
                probe_ms: 1000,
                wait_node_trust_ms: 2000,
            },
        };
        let json = serde_json::to_value(&report).unwrap();
        assert!(!json.to_string().contains("not-printed"), "no password");
        insta::assert_json_snapshot!("up_json", json);
    }

    /// The `--dry-run -o json` document: every object, secrets as placeholders, and the notes.
    #[test]
    fn dry_run_json_contract() {
        let mut plan = crate::plan::sample(
            Expose::NodePort,
            Storage::Pvc {
                size: "10Gi".into(),
                class: None,
            },
        );
        plan.auth = true;
        plan.pull_secret_namespaces = vec!["team-a".into()];
        plan.gc_schedule = Some(GcSchedule {
            cron: "0 3 * * 0".into(),
            image: "bitnami/kubectl@sha256:00".into(),
        });
        let (doc, notes) = dry_run_document(&plan, None).unwrap();
        let json = serde_json::to_value(&doc).unwrap();
        let text = json.to_string();
        assert!(
            !text.contains("PRIVATE KEY"),
            "no key material in a dry run"
        );
        insta::assert_json_snapshot!("dry_run_json", json);
        assert_eq!(
            notes,
            ["would add kreg-pull to the imagePullSecrets of ServiceAccount default in namespace team-a"]
        );
    }
}

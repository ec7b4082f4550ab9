//! `kreg up`: turns the flags into [`Options`] (validated: everything hostile is refused
//! before any request reaches the cluster), runs [`install::up`], prints the outcome, and with
//! `--trust-local` trusts the registry on this machine as well.

use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::agent_image::{self, Source};
use crate::cli::{ExposeArg, InstallArgs, StorageArg, UpArgs};
use crate::cluster::NodeTrustReport;
use crate::context::Ctx;
use crate::detect::Flavor;
use crate::error::{hint, EXIT_OK};
use crate::install::bootstrap::Payload;
use crate::install::{self, mirrors, DryRun, Options, Outcome, UpReport};
use crate::manifests;
use crate::plan::{self, names, Expose, Request, Storage};
use crate::state::Sticky;
use crate::validate;

pub async fn run(ctx: &Ctx, a: &UpArgs) -> Result<u8> {
    let (request, sticky, agent) = request(ctx, &a.install)?;
    let opts = Options {
        request,
        sticky,
        dry_run: a.dry_run,
        no_wait: a.no_wait,
        rotate_ca: a.rotate_ca,
        secrets_only: a.secrets_only,
        agent,
    };
    match install::up(ctx, &opts).await? {
        Outcome::DryRun(doc) => print_dry_run(ctx, &doc),
        Outcome::Installed {
            report,
            trust,
            exit,
        } => {
            let code = finish(ctx, &report, trust.as_ref(), exit)?;
            if a.trust_local && !a.no_wait {
                return trust_local(ctx, &report, code);
            }
            Ok(code)
        }
    }
}

/// `--trust-local`: trust the registry on this machine too, with the CA `up` just reported.
fn trust_local(ctx: &Ctx, report: &UpReport, code: u8) -> Result<u8> {
    let local = crate::ops::trust_local::Options::default();
    let (local_code, local_report) = crate::ops::trust_local::run_local(
        ctx,
        &local,
        &report.registry,
        &report.ca_pem,
        report.ca_secret.is_some() || report.issuer.is_some(),
    )?;
    // With -o json the one document on stdout is up's; trust-local's lines are for text mode.
    if ctx.printer.is_text() {
        super::trust_local::print(ctx, &local_report, false)?;
    }
    Ok(code.max(local_code))
}

fn print_dry_run(ctx: &Ctx, doc: &DryRun) -> Result<u8> {
    if ctx.printer.is_text() {
        let text = manifests::to_yaml_stream(&doc.objects)?;
        for line in text.lines() {
            ctx.printer.out(line);
        }
    } else {
        ctx.printer.document(doc)?;
    }
    ctx.reporter.done("dry run: nothing was changed");
    Ok(EXIT_OK)
}

/// Turns flags into a validated request with the first `up`'s defaults, the sticky choices as
/// the flags gave them ([`Sticky`]: `install::up` resolves them against the last `up`'s record,
/// `state::resolve`), and kreg's own image when the nodes get it through the bootstrap.
/// Everything hostile is refused here, before any request reaches the cluster.
pub(super) fn request(
    ctx: &Ctx,
    a: &InstallArgs,
) -> Result<(Request, Sticky, Option<Arc<Payload>>)> {
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
    if let Some(s) = &a.dns_suffix {
        validate::dns_suffix(s)?;
    }
    validate::image(&a.image)?;
    let storage_given = a.storage.is_some()
        || a.size.is_some()
        || a.storage_class.is_some()
        || [&a.s3_bucket, &a.s3_region, &a.s3_endpoint, &a.s3_secret]
            .iter()
            .any(|f| f.is_some());
    let storage = storage(a)?;
    if let Some(c) = &a.ingress_class {
        validate::secret_name(c).context("invalid --ingress-class")?;
    }
    for ns in &a.pull_secret_namespaces {
        validate::namespace(ns).context("invalid --pull-secret-namespaces")?;
    }
    let mirrors = mirrors::requested(&a.mirrors, &a.mirror_credentials)?;
    if let Some(s) = &a.ca_secret {
        validate::ca_secret(s)?;
    }
    let issuer = a
        .issuer
        .as_deref()
        .map(|v| crate::plan::IssuerRef::parse(v, a.issuer_kind.as_deref()))
        .transpose()?;
    // Last: every other flag's error is more useful than a missing agent image.
    let (agent_image, agent) = agent_image(ctx, a)?;
    let given = |set: bool, no: bool| (set || no).then_some(set);
    let sticky = Sticky {
        expose: a.expose.map(|e| match e {
            ExposeArg::Loadbalancer => Expose::LoadBalancer,
            ExposeArg::Ingress => Expose::Ingress,
            ExposeArg::Nodeport => Expose::NodePort,
            ExposeArg::Localhost => Expose::Localhost,
            ExposeArg::LocalhostTls => Expose::LocalhostTls,
            ExposeArg::Gateway => Expose::Gateway,
        }),
        public: given(a.public, a.no_public),
        lb_source_ranges: (!a.lb_source_ranges.is_empty()).then(|| a.lb_source_ranges.clone()),
        host,
        dns_suffix: a.dns_suffix.clone(),
        storage: storage_given.then(|| storage.clone()),
        replicas: a.replicas,
        auth: given(a.auth, a.no_auth),
        pull_secret_namespaces: (!a.pull_secret_namespaces.is_empty()
            || a.no_pull_secret_namespaces)
            .then(|| a.pull_secret_namespaces.clone()),
        gc_schedule: (a.gc_schedule.is_some() || a.no_gc_schedule)
            .then(|| gc_schedule(a))
            .transpose()?,
        ca_secret: (a.ca_secret.is_some() || a.no_ca_secret).then(|| a.ca_secret.clone()),
        issuer: (issuer.is_some() || a.no_issuer).then(|| issuer.clone()),
        no_mirrors: a.no_mirrors.clone(),
        dns_entry: given(a.dns_entry, a.no_dns_entry),
    };
    // The first `up`'s defaults; `state::resolve` puts what was asked, or kept, over them.
    let req = Request {
        namespace: ctx.settings.namespace.clone(),
        flavor,
        expose: None,
        public: false,
        lb_source_ranges: vec![],
        allow_anonymous_push: a.allow_anonymous_push,
        host: None,
        dns_suffix: DEFAULT_DNS_SUFFIX.into(),
        image: a.image.clone(),
        storage,
        replicas: 1,
        ingress_class: a.ingress_class.clone(),
        gateway: a.gateway.clone(),
        node_trust: !a.no_node_trust,
        dns_entry: true,
        allow_runtime_restart: a.allow_runtime_restart,
        restart_control_plane: a.restart_control_plane,
        agent_bootstrap: agent.is_some(),
        agent_image,
        auth: false,
        pull_secret_namespaces: vec![],
        gc_schedule: None,
        mirrors,
        ca_secret: None,
        issuer: None,
    };
    Ok((req, sticky, agent))
}

/// `--storage` and the flags that go with it, validated.
fn storage(a: &InstallArgs) -> Result<Storage> {
    let s3_flags = [&a.s3_bucket, &a.s3_region, &a.s3_endpoint, &a.s3_secret];
    let storage_arg = a.storage.unwrap_or(StorageArg::Pvc);
    if storage_arg != StorageArg::S3 && s3_flags.iter().any(|f| f.is_some()) {
        bail!("--s3-bucket, --s3-region, --s3-endpoint and --s3-secret go with --storage s3");
    }
    if storage_arg != StorageArg::Pvc && (a.size.is_some() || a.storage_class.is_some()) {
        bail!("--size and --storage-class go with --storage pvc");
    }
    Ok(match storage_arg {
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
    })
}

/// `--gc-schedule` with `--gc-image` (clap requires them together).
fn gc_schedule(a: &InstallArgs) -> Result<Option<plan::GcSchedule>> {
    match (&a.gc_schedule, &a.gc_image) {
        (Some(cron), Some(image)) => {
            validate::cron(cron)?;
            validate::image(image).context("invalid --gc-image")?;
            if let Some(age) = &a.prune_older_than {
                crate::lifecycle::parse_age(age).context("invalid --prune-older-than")?;
            }
            let prune = (a.prune_keep.is_some() || a.prune_older_than.is_some()).then(|| {
                plan::PrunePolicy {
                    keep: a.prune_keep,
                    older_than: a.prune_older_than.clone(),
                }
            });
            Ok(Some(plan::GcSchedule {
                cron: cron.clone(),
                image: image.clone(),
                prune,
            }))
        }
        _ => Ok(None),
    }
}

/// `--dns-suffix` when none is given (and no earlier `up` chose one).
const DEFAULT_DNS_SUFFIX: &str = "nip.io";

/// `--size` when none is given (and no earlier `up` chose one).
const DEFAULT_SIZE: &str = "10Gi";

/// kreg's image (the node agent; with `--auth` the registry gate; the scheduled prune):
/// `--agent-image` (or KREG_AGENT_IMAGE), `--agent-image-archive`, this executable, or the
/// reference a release build was made with, in that order ([`agent_image::choose`]). The two
/// middle ones are served to the nodes by the bootstrap: the reference is then
/// `127.0.0.1:5057/kreg/agent@sha256:…` and the payload what `up` pushes. Not needed with
/// `--no-node-trust` unless `--auth` or a scheduled prune runs kreg.
fn agent_image(ctx: &Ctx, a: &InstallArgs) -> Result<(String, Option<Arc<Payload>>)> {
    if a.agent_image.is_some() && a.agent_image_archive.is_some() {
        bail!("--agent-image and --agent-image-archive name two images: pass one");
    }
    let needed =
        !a.no_node_trust || a.auth || a.prune_keep.is_some() || a.prune_older_than.is_some();
    let inputs = agent_image::Inputs {
        flag: a.agent_image.clone(),
        archive: a.agent_image_archive.clone(),
        baked: option_env!("KREG_DEFAULT_AGENT_IMAGE").map(str::to_string),
        self_arch: agent_image::self_platform(),
    };
    match agent_image::choose(&inputs) {
        Some(Source::Reference(i)) => {
            validate::agent_image(&i)?;
            Ok((i, None))
        }
        // Nothing runs kreg's image: nothing to build or serve.
        _ if !needed => Ok((String::new(), None)),
        Some(Source::Archive(path)) => {
            let image = crate::image::open(&path).with_context(|| {
                format!("--agent-image-archive {}", path.display())
            })?;
            let payload = Payload::Archive(image);
            Ok((payload.reference(), Some(Arc::new(payload))))
        }
        Some(Source::SelfBuilt) => {
            let built = agent_image::build().map_err(|e| {
                hint(
                    format!("cannot make kreg's node-agent image from this executable: {e:#}"),
                    "pass --agent-image-archive FILE (a release's kreg-agent-image.tar) or --agent-image IMAGE@sha256:DIGEST",
                )
            })?;
            ctx.reporter.info(&format!(
                "kreg's image: this executable ({} MB, {}), served to the nodes by the bootstrap",
                built.blobs[0].1.len() >> 20,
                built.digest()
            ));
            let payload = Payload::Built(built);
            Ok((payload.reference(), Some(Arc::new(payload))))
        }
        None => Err(hint(
            "node trust needs kreg's node-agent image: this kreg is not a Linux binary the nodes could run, and names no published image",
            "pass --agent-image-archive FILE (a release's kreg-agent-image.tar) or --agent-image IMAGE@sha256:DIGEST; or use --no-node-trust and configure the nodes yourself",
        )),
    }
}

fn finish(ctx: &Ctx, report: &UpReport, nt: Option<&NodeTrustReport>, exit: u8) -> Result<u8> {
    ctx.reporter.finish();
    if let Some(nt) = nt.filter(|n| !n.complete()) {
        untrusted(ctx, report, nt);
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
        p.out("# Plain HTTP: nodes pull it as localhost:<port> through the Service's ClusterIP (any kube-proxy mode). Push from here through:");
        p.out("kreg port-forward &");
        p.out(&format!(
            "docker push {reg}/myapp:latest    # skopeo/podman: --dest-tls-verify=false"
        ));
        p.out("# Use it in a Pod spec:");
        p.out(&format!("#   image: {reg}/myapp:latest"));
        return Ok(exit);
    }
    if report.expose == Expose::LocalhostTls {
        p.out("# The same name here, on the nodes and in Pod specs; from here through:");
        p.out("kreg port-forward &");
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

/// The nodes that do not trust the CA, why, and (on GKE) the cluster's own route to it.
fn untrusted(ctx: &Ctx, report: &UpReport, nt: &NodeTrustReport) {
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

//! The command line, and nothing else: clap types that describe flags.
//!
//! Values are kept as the user typed them; `settings` resolves them against the environment
//! and `commands/*` turn them into options structs. Nothing outside `commands`, `settings` and
//! `config` (which turns `kreg.yaml` into flags before clap parses them) sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit status:
  0  success (for `status`: the registry is installed and healthy)
  1  `status` found the registry unhealthy or not installed
  2  error: bad input, no cluster, missing permission, timeout
  130  interrupted (Ctrl-C); `kreg up` or `kreg down` again finishes the job

Environment:
  KUBECONFIG      kubeconfig file(s), as for kubectl (--kubeconfig wins)
  KREG_NAMESPACE  namespace kreg installs into (-n wins; default kreg-system)
  NO_COLOR        disables colour";

#[derive(Debug, Parser)]
#[command(
    name = "kreg",
    version = crate::version::LINE,
    about = "Give any Kubernetes cluster its own private, trusted image registry in one command",
    long_about = None,
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: the current context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace for the registry and its objects (default: kreg-system)
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,

    /// Output format: text for people, json or yaml for scripts
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// How long to wait for the cluster (e.g. 90s, 5m, 1h)
    #[arg(long, global = true, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,

    /// Answer yes to every question (never asks without a terminal anyway)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,

    /// Settings from a file (kreg.yaml: global flags at the top, `kreg up`'s under `up:`);
    /// flags on the command line win (env: KREG_CONFIG)
    #[arg(short = 'f', long, global = true, value_name = "FILE")]
    pub filename: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install or update the registry, its TLS certificate and node trust (idempotent)
    Up(Box<UpArgs>),
    /// Print the objects `up` applies, for Argo CD or Flux (Secrets referenced, never included)
    Render(Box<RenderArgs>),
    /// Show the registry's health, address, certificate and node trust (read-only)
    Status(StatusArgs),
    /// Remove what `up` created; images and the CA stay unless --purge
    Down(DownArgs),
    /// Reclaim the space of deleted images: the registry's garbage collector, run while the
    /// registry is read-only (pulls keep working, pushes wait)
    Gc(GcArgs),
    /// Make this workstation's docker/podman/skopeo trust the registry's CA
    TrustLocal(TrustLocalArgs),
    /// Forward localhost:<port> here to the registry, for pushes with --expose localhost
    PortForward(PortForwardArgs),
    /// Push an image from a file (docker save or OCI) to the registry, without docker
    Push(PushArgs),
    /// List the registry's images: repositories, tags, digests, sizes, creation times
    Images(ImagesArgs),
    /// Delete an image (REPO:TAG or REPO@DIGEST); `kreg gc` then reclaims its space
    Rm(RmArgs),
    /// Delete images by policy (--keep N newest, --older-than AGE), then reclaim their space
    Prune(PruneArgs),
    /// Print the registry for dev tools (ko, Skaffold, Tilt, docker buildx) as shell exports
    Env(EnvArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print kreg's version, the git commit it was built from and the build date
    Version,
    /// Print the JSON Schema of a command's `-o json` document
    Schema(SchemaArgs),
    /// Write a man page per command into a directory, or the Markdown flag reference
    /// (packaging: `make man`, `make docs`, `make dist`)
    #[command(hide = true)]
    Man(ManArgs),
    /// Write kreg's own image (this executable) as an OCI archive; print its digest
    /// (packaging: `make dist`)
    #[command(hide = true)]
    AgentImage(AgentImageArgs),
    /// The node agent that runs in kreg's node-trust DaemonSet (not for people)
    #[command(hide = true)]
    NodeAgent(NodeAgentArgs),
    /// The TLS front of the registry pod with --auth: pull-only users only pull (not for people)
    #[command(hide = true)]
    RegistryGate,
}

#[derive(Debug, Args)]
pub struct NodeAgentArgs {
    /// One pass, then exit (0 when the node trusts the registry, or kreg's files are removed)
    #[arg(long)]
    pub once: bool,

    /// Exit 0 if the last pass's verdict was good (the DaemonSet's readiness probe)
    #[arg(long, conflicts_with = "once")]
    pub ready: bool,

    /// Push the probe image to $KREG_REGISTRY and exit (`kreg render`'s Job)
    #[arg(long, conflicts_with_all = ["once", "ready"])]
    pub push_probe: bool,
}

#[derive(Debug, Args)]
pub struct PortForwardArgs {}

#[derive(Debug, Args)]
#[command(after_help = "\
SOURCE is one of:
  a docker-save tarball      docker save IMAGE -o image.tar
  an OCI archive             skopeo copy docker://IMAGE oci-archive:image.tar
  an OCI layout directory    skopeo copy docker://IMAGE oci:DIR

The registry's address comes from the cluster; when this machine cannot reach it, the push
goes through a port-forward to the registry pod (TLS is still verified against kreg's CA).
stdout is the pushed reference, HOST/REPOSITORY:TAG@sha256:...")]
pub struct PushArgs {
    /// The image file or OCI layout directory
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// Repository and tag in the registry (default: the name stored in SOURCE)
    #[arg(long, value_name = "REPO[:TAG]")]
    pub name: Option<String>,

    /// Push through a port-forward to the registry pod even if its address is reachable
    #[arg(long)]
    pub port_forward: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
One row per tag; tags of the same digest are one image. A multi-arch image (an index) is one
row per tag with its platforms; SIZE counts each blob once (for an index: over all platforms).
-o json lists images (one entry per digest, with its tags).")]
pub struct ImagesArgs {
    /// Only these repositories (default: all)
    #[arg(value_name = "REPO")]
    pub repositories: Vec<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The registry deletes manifests by digest: every tag of that digest goes with it, which is why a
tag sharing its digest with other tags needs --all-tags. A multi-arch image goes with its
platforms. Blobs stay until `kreg gc` (or `kreg prune`) reclaims them.")]
pub struct RmArgs {
    /// The image: REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (without the registry's host)
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Delete the image even when other tags point at the same digest (they go too)
    #[arg(long)]
    pub all_tags: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Per repository, images (a digest with its tags; a multi-arch index with its platforms) are
ranked newest first by their config's creation time. --keep N keeps the N newest; --older-than
deletes only images created longer ago; both: only images beyond the N newest AND older. An
image another kept image contains (a platform of a kept index) is never deleted, nor one
without a creation time by --older-than.

Then the garbage collector runs as in `kreg gc` (the registry is read-only meanwhile) unless
--no-gc. Examples:
  kreg prune --keep 5 --dry-run
  kreg prune --keep 3 --older-than 30d team/app")]
pub struct PruneArgs {
    /// Only these repositories (default: all)
    #[arg(value_name = "REPO")]
    pub repositories: Vec<String>,

    /// Keep the N newest images of each repository
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = image_count)]
    pub keep: Option<usize>,

    /// Delete only images created longer ago than this (e.g. 30d, 12h, 2w, 1d12h)
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,

    /// Print what would be deleted; delete nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Delete the manifests only; reclaim the space later with `kreg gc`
    #[arg(long)]
    pub no_gc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExposeArg {
    /// A LoadBalancer Service (clouds, k3s ServiceLB, MetalLB)
    Loadbalancer,
    /// An Ingress of an existing IngressClass (needs --host)
    Ingress,
    /// A NodePort on a node address (kind, minikube, bare clusters)
    Nodeport,
    /// Zero-TLS: a NodePort every node pulls from as localhost:<port> over plain HTTP;
    /// push through `kreg port-forward`
    Localhost,
    /// localhost:<port> over TLS: the same name from this machine (`kreg port-forward`), the
    /// nodes and pods, with a certificate for it
    LocalhostTls,
    /// A route on an existing Gateway API Gateway (needs --host): a TLSRoute through a TLS
    /// Passthrough listener, else an HTTPRoute and a BackendTLSPolicy through an HTTPS listener
    Gateway,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageArg {
    /// A PersistentVolumeClaim (default)
    Pvc,
    /// An S3 bucket (credentials from --s3-secret)
    S3,
    /// An emptyDir: images are LOST when the pod moves or restarts
    Emptydir,
}

/// `kreg up`: the install settings, and what only an `up` does with them.
#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub install: InstallArgs,

    /// Replace the CA (every client must trust the new one afterwards)
    #[arg(long)]
    pub rotate_ca: bool,

    /// Return once everything is applied, without waiting for the rollout, probe and node trust
    #[arg(long)]
    pub no_wait: bool,

    /// Also run `kreg trust-local` at the end
    #[arg(long)]
    pub trust_local: bool,

    /// Print the plan and the objects that would be applied; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Make only what the rendered objects reference (namespace, Service, CA, serving
    /// certificate, users, state record) and stop: the first step of a GitOps install with
    /// `kreg render`
    #[arg(long, conflicts_with_all = ["dry_run", "trust_local"])]
    pub secrets_only: bool,
}

/// `kreg render`: the install settings `up` takes (the same `-f kreg.yaml`).
#[derive(Debug, Args)]
#[command(after_help = "\
A GitOps install, step by step:
  kreg up --secrets-only -f kreg.yaml     once: CA, certificate and users, in the cluster only
  kreg render -f kreg.yaml > kreg.rendered.yaml    commit it; Argo CD or Flux applies it
  kreg status -f kreg.yaml                healthy once every node pulled the probe image")]
pub struct RenderArgs {
    #[command(flatten)]
    pub install: InstallArgs,
}

/// The settings of an installation, shared by `up` and `render`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Cluster flavour: kind, k3s, minikube, eks, aks, gke, generic (default: detected)
    #[arg(long, value_name = "FLAVOR")]
    pub flavor: Option<String>,

    /// How the registry is exposed (default: the last `up`'s, else chosen from the flavour)
    #[arg(long, value_enum)]
    pub expose: Option<ExposeArg>,

    /// A public LoadBalancer (on EKS, AKS and GKE the default is internal to the cloud
    /// network); needs --auth or --allow-anonymous-push
    #[arg(long, conflicts_with = "no_public")]
    pub public: bool,

    /// Back to the provider's internal LoadBalancer after --public
    #[arg(long)]
    pub no_public: bool,

    /// With --public and without --auth: accept that anyone who reaches the registry can push,
    /// overwrite and delete images
    #[arg(long)]
    pub allow_anonymous_push: bool,

    /// Only these source CIDRs may reach the LoadBalancer (loadBalancerSourceRanges)
    #[arg(long, value_name = "CIDR,...", value_delimiter = ',')]
    pub lb_source_ranges: Vec<String>,

    /// Your own DNS name for the registry instead of registry.<ip>.<dns-suffix>
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// Wildcard DNS service that maps <ip>.<suffix> to <ip>; `none`: the registry is named by
    /// its IP address (no DNS needed anywhere). Default nip.io, or what the last `up` chose
    #[arg(long, value_name = "SUFFIX")]
    pub dns_suffix: Option<String>,

    /// Registry image (point it at your mirror on air-gapped clusters)
    #[arg(long, value_name = "IMAGE", default_value = "registry:2")]
    pub image: String,

    /// Where images are stored (default: the last `up`'s, else pvc)
    #[arg(long, value_enum)]
    pub storage: Option<StorageArg>,

    /// Size of the PersistentVolumeClaim (default: 10Gi)
    #[arg(long, value_name = "QUANTITY")]
    pub size: Option<String>,

    /// StorageClass of the PersistentVolumeClaim (default: the cluster's default class)
    #[arg(long, value_name = "NAME")]
    pub storage_class: Option<String>,

    /// S3 bucket (with --storage s3)
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// S3 region (with --storage s3)
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,

    /// S3-compatible endpoint URL, e.g. https://minio.example:9000 (with --storage s3)
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,

    /// Secret in the namespace holding accesskey and secretkey (with --storage s3)
    #[arg(long, value_name = "NAME")]
    pub s3_secret: Option<String>,

    /// Registry replicas (more than 1 needs --storage s3; default: the last `up`'s, else 1)
    #[arg(long, value_name = "N")]
    pub replicas: Option<u32>,

    /// IngressClass to use with --expose ingress (default: the cluster's default class)
    #[arg(long, value_name = "NAME")]
    pub ingress_class: Option<String>,

    /// Gateway to use with --expose gateway (default: the cluster's only Gateway)
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub gateway: Option<String>,

    /// Pull-through cache for an upstream registry; nodes pull through it first and fall back
    /// to the upstream (repeatable: docker.io, ghcr.io, quay.io, registry.k8s.io, host:port).
    /// URL defaults to https://UPSTREAM (https://registry-1.docker.io for docker.io)
    #[arg(long = "mirror", value_name = "UPSTREAM[=URL]")]
    pub mirrors: Vec<String>,

    /// Remove the pull-through cache of this upstream (repeatable); other caches stay
    #[arg(long = "no-mirror", value_name = "UPSTREAM")]
    pub no_mirrors: Vec<String>,

    /// Credentials for a --mirror upstream: a Secret in the namespace with keys username and
    /// password (repeatable)
    #[arg(long = "mirror-credentials", value_name = "UPSTREAM=SECRET")]
    pub mirror_credentials: Vec<String>,

    /// Sign with your own CA instead of kreg's: a kubernetes.io/tls Secret in the namespace
    /// holding the CA certificate (tls.crt) and its key (tls.key); nodes and trust-local get
    /// that certificate. Kept by later `up`s; kreg never changes or deletes the Secret. On an
    /// installed registry, with --rotate-ca (nodes trust both CAs before the switch)
    #[arg(long, value_name = "NAME", conflicts_with = "no_ca_secret")]
    pub ca_secret: Option<String>,

    /// Go back from --ca-secret to kreg's own CA (after `kreg down`: the CA of an installed
    /// registry is not switched)
    #[arg(long)]
    pub no_ca_secret: bool,

    /// Let a cert-manager issuer sign the registry's certificate instead of kreg's CA:
    /// ClusterIssuer/NAME, Issuer/NAME (in the namespace) or NAME (an Issuer, or the kind of
    /// --issuer-kind). kreg writes a Certificate for the registry's names, waits until it is
    /// Ready, and gives nodes and trust-local the issuer's CA (ca.crt). Kept by later `up`s;
    /// switched only after `kreg down`
    #[arg(long, value_name = "[KIND/]NAME", conflicts_with_all = ["no_issuer", "ca_secret"])]
    pub issuer: Option<String>,

    /// The kind of a bare --issuer NAME: Issuer (default) or ClusterIssuer
    #[arg(long, value_name = "KIND", requires = "issuer", value_parser = ["Issuer", "ClusterIssuer"])]
    pub issuer_kind: Option<String>,

    /// Go back from --issuer to kreg's own CA (after `kreg down`)
    #[arg(long)]
    pub no_issuer: bool,

    /// Let node trust set containerd's config_path and restart containerd where it is unset
    #[arg(long)]
    pub allow_runtime_restart: bool,

    /// With --allow-runtime-restart: restart control-plane nodes' runtimes too
    #[arg(long, requires = "allow_runtime_restart")]
    pub restart_control_plane: bool,

    /// kreg's image, pinned by digest: the node agent (privileged, on every node) and, with
    /// --auth, the registry gate
    #[arg(long, value_name = "IMAGE@sha256:DIGEST", env = "KREG_AGENT_IMAGE")]
    pub agent_image: Option<String>,

    /// kreg's image from an OCI archive (a release's kreg-agent-image.tar), served to the nodes
    /// by the bootstrap like the default (this executable) is; for air-gapped clusters and
    /// kreg binaries that are not Linux binaries of the nodes' architecture
    #[arg(long, value_name = "FILE", conflicts_with = "agent_image")]
    pub agent_image_archive: Option<std::path::PathBuf>,

    /// Skip node trust (no DaemonSet; you configure the nodes' runtimes yourself)
    #[arg(long)]
    pub no_node_trust: bool,

    /// Back to the default after --no-dns-entry: an entry for the registry's name in the
    /// cluster's CoreDNS (ConfigMap kube-system/coredns), so Pods (in-cluster builders)
    /// resolve it without public DNS
    #[arg(long, conflicts_with = "no_dns_entry")]
    pub dns_entry: bool,

    /// No entry for the registry's name in the cluster's CoreDNS (and remove kreg's own);
    /// a later `up` keeps it off
    #[arg(long)]
    pub no_dns_entry: bool,

    /// Require a user and password (htpasswd); generated once, kept in Secret kreg-auth.
    /// A later `up` keeps it on
    #[arg(long, conflicts_with = "no_auth")]
    pub auth: bool,

    /// Turn authentication off again (a security downgrade: asks on a terminal, needs --yes
    /// otherwise)
    #[arg(long)]
    pub no_auth: bool,

    /// With --auth: give these namespaces a pull Secret and add it to their default
    /// ServiceAccount, so Pods there pull without imagePullSecrets in their spec (replaces the
    /// last `up`'s list)
    #[arg(
        long,
        value_name = "NS,...",
        value_delimiter = ',',
        conflicts_with = "no_pull_secret_namespaces"
    )]
    pub pull_secret_namespaces: Vec<String>,

    /// Take the pull Secrets out of every namespace the last `up` gave one
    #[arg(long)]
    pub no_pull_secret_namespaces: bool,

    /// Run `kreg gc` on this cron schedule (e.g. "0 3 * * 0") from a CronJob; a later `up`
    /// keeps it
    #[arg(
        long,
        value_name = "CRON",
        requires = "gc_image",
        conflicts_with = "no_gc_schedule"
    )]
    pub gc_schedule: Option<String>,

    /// Remove the garbage-collection CronJob of an earlier --gc-schedule
    #[arg(long)]
    pub no_gc_schedule: bool,

    /// With --gc-schedule: an image with /bin/sh and kubectl for the CronJob (e.g. your mirror
    /// of bitnami/kubectl)
    #[arg(long, value_name = "IMAGE", requires = "gc_schedule")]
    pub gc_image: Option<String>,

    /// With --gc-schedule: each scheduled run first deletes all but the N newest images of
    /// each repository (`kreg prune --keep N`, run from --agent-image), then collects
    #[arg(
        long,
        value_name = "N",
        requires = "gc_schedule",
        allow_negative_numbers = true,
        value_parser = image_count
    )]
    pub prune_keep: Option<usize>,

    /// With --gc-schedule: each scheduled run first deletes images older than AGE (e.g. 30d;
    /// with --prune-keep: only those beyond the N newest)
    #[arg(long, value_name = "AGE", requires = "gc_schedule")]
    pub prune_older_than: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  eval \"$(kreg env)\"                  # bash, zsh
  kreg env --shell fish | source
  kreg env --shell powershell | Invoke-Expression
  kreg env -o json                    # for scripts")]
pub struct EnvArgs {
    /// The shell whose syntax the exports use
    #[arg(long, value_enum, default_value_t = ShellArg::Bash)]
    pub shell: ShellArg,
}

/// `kreg env --shell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// With --auth: also print the registry password (never printed otherwise)
    #[arg(long)]
    pub show_password: bool,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Report what the garbage collector would delete; delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also delete the stored images (the PVC) and the CA; clients must re-trust a new CA
    #[arg(long)]
    pub purge: bool,

    /// Print what would be deleted; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct TrustLocalArgs {
    /// Also add the CA to the operating system's trust store (asks on a terminal; else needs
    /// --ca-sha256)
    #[arg(long)]
    pub system: bool,

    /// The CA's expected SHA-256 fingerprint (hex, colons allowed; comma-separated during a CA
    /// rotation): refuses to install anything else
    #[arg(long, value_name = "HEX")]
    pub ca_sha256: Option<String>,

    /// Remove what trust-local wrote before
    #[arg(long)]
    pub remove: bool,

    /// Print the files that would be written or removed; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Only the per-user locations (no root needed): ~/.config/containers/certs.d
    #[arg(long)]
    pub user: bool,

    /// Also map the registry's name to its address in /etc/hosts (for a workstation whose
    /// resolver cannot answer nip.io names: air-gapped, or with rebinding protection)
    #[arg(long)]
    pub hosts: bool,
}

/// `--keep N`: a count of images; a negative one says so instead of looking like a flag.
fn image_count(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| "a count of images to keep per repository: 0 or more".to_string())
}

/// The name to show in usage and messages: `kubectl kreg` when this binary was started as the
/// kubectl plugin `kubectl-kreg` (kubectl runs plugins by that file name), else `kreg`.
pub fn program_name(argv0: &std::ffi::OsStr) -> &'static str {
    let file = std::path::Path::new(argv0)
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("");
    let file = file.strip_suffix(".exe").unwrap_or(file);
    if file == "kubectl-kreg" {
        "kubectl kreg"
    } else {
        "kreg"
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The schemas of this release are also in schemas/ of the source and of the release tarball.
A document's `schemaVersion` changes when a field is removed or changes meaning; new fields
may appear without a change.")]
pub struct SchemaArgs {
    /// The document: the `-o json` output of this command
    #[arg(value_enum)]
    pub document: SchemaDocument,
}

/// The `-o json|yaml` documents kreg prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaDocument {
    /// `kreg up`
    Up,
    /// `kreg up --dry-run`: the objects `up` would apply
    DryRun,
    /// `kreg render`: the objects for a GitOps tool, Secrets referenced
    Render,
    /// `kreg status`
    Status,
    /// `kreg down`
    Down,
    /// `kreg gc`
    Gc,
    /// `kreg push`
    Push,
    /// `kreg images`
    Images,
    /// `kreg rm`
    Rm,
    /// `kreg prune`
    Prune,
    /// `kreg trust-local`
    TrustLocal,
    /// `kreg env`
    Env,
    /// `kreg version`
    Version,
    /// `kreg.yaml`, the file of `-f` and KREG_CONFIG
    Config,
}

#[derive(Debug, Args)]
pub struct AgentImageArgs {
    /// The OCI archive to write (`--agent-image-archive` reads it)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory to write kreg.1, kreg-up.1, ... into (created if missing)
    #[arg(long, value_name = "DIR", required_unless_present = "markdown")]
    pub out_dir: Option<PathBuf>,
    /// Also (or only) write the flag reference as one Markdown file (docs/reference.md)
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn started_as_kubectl_kreg_it_says_kubectl_kreg() {
        for (argv0, want) in [
            ("kreg", "kreg"),
            ("/usr/local/bin/kreg", "kreg"),
            ("/home/me/bin/kubectl-kreg", "kubectl kreg"),
            ("kubectl-kreg.exe", "kubectl kreg"),
            ("kubectl-kregx", "kreg"),
        ] {
            assert_eq!(program_name(std::ffi::OsStr::new(argv0)), want, "{argv0}");
        }
        let help = Cli::command()
            .bin_name("kubectl kreg")
            .render_usage()
            .to_string();
        assert!(help.contains("Usage: kubectl kreg "), "{help}");
    }
}

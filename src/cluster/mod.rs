//! The cluster edge: the only module that holds a `kube::Client`.
//!
//! It connects with kubectl's rules, reads the facts detection and planning need, checks
//! permissions, applies objects by server-side apply under one field manager, and waits with
//! watches. Commands call it; it decides nothing about what to build.

mod access;
mod address;
mod cert_manager;
mod dns;
mod drift;
mod edit;
mod facts;
mod forward;
mod gateway;
mod gc_lease;
mod jobs;
pub mod lease;
mod node_trust;
mod state;
mod sweep;
mod wait;

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, Resource, ResourceExt};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use access::{
    DOWN as ACCESS_DOWN, UP as ACCESS_UP, UP_CLUSTER_ISSUER as ACCESS_UP_CLUSTER_ISSUER,
    UP_GATEWAY_HTTPS as ACCESS_UP_GATEWAY_HTTPS, UP_GATEWAY_TLS as ACCESS_UP_GATEWAY_TLS,
    UP_ISSUER as ACCESS_UP_ISSUER, UP_TRAEFIK_TRANSPORT as ACCESS_UP_TRAEFIK_TRANSPORT,
};
pub use address::lb_address;
pub use dns::{Corefile, Edited};
pub use drift::drifted;
pub use forward::Forward;
pub use jobs::JobRun;
#[cfg(test)]
pub use node_trust::last_verdict;
pub use node_trust::{NodeTrustReport, NodeVerdict};

use crate::error::{hint, one_line};
use crate::pki::sha256_hex;
use crate::plan::names;
use crate::settings::ClusterTarget;

/// Annotation holding the hash of what kreg last applied, so an unchanged object costs one
/// read and no write on the next `up` (unless its live fields drifted: see [`drifted`]).
pub const APPLIED_HASH: &str = "kreg.dev/applied-hash";

/// API requests made by this process (watches count once).
static REQUESTS: AtomicUsize = AtomicUsize::new(0);

/// How many API requests this process has sent so far.
pub fn requests_made() -> usize {
    REQUESTS.load(Ordering::Relaxed)
}

/// How long connecting and the first request may take before kreg says the server is dead.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Cluster {
    client: Client,
    /// The context (or "in-cluster") and server URL, for messages.
    pub context: String,
    pub server: String,
    pub namespace: String,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    /// kreg's last apply was still recorded, but someone changed a field it sets (the first
    /// one named here, e.g. `spec.replicas`); applying put it back.
    Restored(String),
    Unchanged,
}

impl Cluster {
    /// Connects with kubectl's rules and makes one request, so a wrong kubeconfig, context or
    /// a dead server is reported here, in seconds, with what to do.
    pub async fn connect(target: &ClusterTarget, namespace: &str) -> Result<Cluster> {
        let options = KubeConfigOptions {
            context: target.context.clone(),
            ..Default::default()
        };
        let (mut config, context) = if target.kubeconfig.is_empty() {
            match Kubeconfig::read() {
                Ok(kc) => load(kc, &options, "~/.kube/config").await?,
                Err(_) if target.context.is_none() => {
                    let c = Config::incluster().map_err(|_| {
                        hint(
                            "no kubeconfig found (KUBECONFIG is unset and ~/.kube/config does not exist)",
                            "pass --kubeconfig PATH, set KUBECONFIG, or run inside a cluster",
                        )
                    })?;
                    (c, "in-cluster".to_string())
                }
                Err(e) => return Err(anyhow!(e).context("cannot read ~/.kube/config")),
            }
        } else {
            let mut merged: Option<Kubeconfig> = None;
            for p in &target.kubeconfig {
                let kc = Kubeconfig::read_from(p).map_err(|e| {
                    anyhow!(hint(
                        format!("cannot read kubeconfig {}: {}", p.display(), one_line(&e)),
                        "check the path given with --kubeconfig or KUBECONFIG",
                    ))
                })?;
                merged = Some(match merged {
                    None => kc,
                    Some(m) => m
                        .merge(kc)
                        .map_err(|e| anyhow!("merging kubeconfigs: {e}"))?,
                });
            }
            let names = target
                .kubeconfig
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>();
            load(
                merged.expect("at least one path"),
                &options,
                &names.join(":"),
            )
            .await?
        };
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = Some(Duration::from_secs(30));
        let server = config.cluster_url.to_string();
        // Every request passes through a counter: `up -o json` reports how many it made.
        let count = tower::util::MapRequestLayer::new(|req: http::Request<kube::client::Body>| {
            REQUESTS.fetch_add(1, Ordering::Relaxed);
            req
        });
        let client = kube::client::ClientBuilder::try_from(config)
            .context("setting up the Kubernetes client")?
            .with_layer(&count)
            .build();
        let cluster = Cluster {
            client,
            context,
            server,
            namespace: namespace.to_string(),
        };
        match tokio::time::timeout(CONNECT_TIMEOUT * 2, cluster.client.apiserver_version()).await {
            Ok(Ok(_)) => Ok(cluster),
            Ok(Err(e)) => Err(unreachable(&cluster, &e)),
            Err(_) => Err(hint(
                format!(
                    "the API server at {} did not answer within {}s",
                    cluster.server,
                    (CONNECT_TIMEOUT * 2).as_secs()
                ),
                format!(
                    "check that the cluster of context {:?} is running: kubectl cluster-info",
                    cluster.context
                ),
            )),
        }
    }

    pub(in crate::cluster) fn client(&self) -> Client {
        self.client.clone()
    }

    pub(in crate::cluster) fn ns_api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The API of `K` in `namespace` (ignored for cluster-scoped kinds).
    fn api_in<K: Object>(&self, namespace: &str) -> Api<K> {
        K::api(self.client.clone(), namespace)
    }

    /// The API `obj` lives in: its own namespace when it names one, else kreg's.
    fn api_of<K: Object>(&self, obj: &K) -> Api<K> {
        let ns = obj.meta().namespace.as_deref().unwrap_or(&self.namespace);
        self.api_in(ns)
    }

    /// Server-side apply, skipped when the object carries the hash of exactly this content and
    /// still holds every field of it (someone may have scaled or edited it since).
    pub async fn apply<K: Object>(&self, obj: &K) -> Result<Applied> {
        let api = self.api_of(obj);
        let name = obj.name_any();
        let kind = K::kind(&());
        let hash = sha256_hex(&serde_json::to_vec(obj)?);
        let existing = api
            .get_opt(&name)
            .await
            .with_context(|| format!("reading {kind} {name}"))?;
        let mut restored = None;
        if let Some(e) = &existing {
            if e.annotations().get(APPLIED_HASH) == Some(&hash) {
                match drifted(&serde_json::to_value(obj)?, &serde_json::to_value(e)?) {
                    None => return Ok(Applied::Unchanged),
                    Some(field) => restored = Some(field),
                }
            }
        }
        let mut desired = obj.clone();
        desired.annotations_mut().insert(APPLIED_HASH.into(), hash);
        let pp = PatchParams::apply(names::FIELD_MANAGER).force();
        // An apply that creates can lose a race with another creator (a second `kreg up`):
        // the API server answers 409 AlreadyExists. Conflicts over fields are forced, so a 409
        // only means "exists now"; applying again updates it.
        let mut attempt = 0;
        loop {
            match api.patch(&name, &pp, &Patch::Apply(&desired)).await {
                Ok(_) => break,
                Err(kube::Error::Api(s)) if s.code == 409 && attempt < 3 => attempt += 1,
                Err(e) => return Err(api_error(e, &format!("applying {kind} {name}"))),
            }
        }
        Ok(match (restored, existing) {
            (Some(field), _) => Applied::Restored(field),
            (None, Some(_)) => Applied::Updated,
            (None, None) => Applied::Created,
        })
    }

    /// Applies one rendered object (see [`crate::render`]) as [`Cluster::apply`] does.
    pub async fn apply_object(&self, obj: &crate::render::Object) -> Result<Applied> {
        use crate::render::Object as O;
        match obj {
            O::Namespace(o) => self.apply(o).await,
            O::Secret(o) => self.apply(o).await,
            O::PersistentVolumeClaim(o) => self.apply(o).await,
            O::Service(o) => self.apply(o).await,
            O::Deployment(o) => self.apply(o).await,
            O::DaemonSet(o) => self.apply(o).await,
            O::ConfigMap(o) => self.apply(o).await,
            O::ServiceAccount(o) => self.apply(o).await,
            O::Role(o) => self.apply(o).await,
            O::RoleBinding(o) => self.apply(o).await,
            O::Ingress(o) => self.apply(o).await,
            O::NetworkPolicy(o) => self.apply(o).await,
            O::Job(o) => self.apply(o.as_ref()).await,
            O::CronJob(o) => self.apply_cronjob(o).await,
            O::Custom(o) => self.apply_custom_object(o).await,
        }
    }

    /// Creates the object only if it does not exist and returns what is stored: the caller's
    /// object, or the one another `kreg up` created first (it adopts the winner's).
    pub async fn create_if_absent<K: Object>(&self, obj: &K) -> Result<(K, bool)> {
        let api = self.api_of(obj);
        let name = obj.name_any();
        if let Some(found) = api.get_opt(&name).await? {
            return Ok((found, false));
        }
        match api
            .create(
                &PostParams {
                    field_manager: Some(names::FIELD_MANAGER.into()),
                    ..Default::default()
                },
                obj,
            )
            .await
        {
            Ok(created) => Ok((created, true)),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let winner = api
                    .get(&name)
                    .await
                    .with_context(|| format!("reading {name}"))?;
                Ok((winner, false))
            }
            Err(e) => Err(api_error(e, &format!("creating {} {name}", K::kind(&())))),
        }
    }

    /// Reads `name` of kind `K` in kreg's namespace (or the cluster scope); absent is `None`.
    pub async fn get<K: Object>(&self, name: &str) -> Result<Option<K>> {
        self.get_in(&self.namespace, name).await
    }

    /// [`Cluster::get`] in another namespace.
    pub async fn get_in<K: Object>(&self, namespace: &str, name: &str) -> Result<Option<K>> {
        self.api_in::<K>(namespace)
            .get_opt(name)
            .await
            .map_err(|e| api_error(e, &format!("reading {} {name}", K::kind(&()))))
    }

    /// The objects of kind `K` in kreg's namespace that match a label selector (`key=value`).
    pub async fn list<K: Object>(&self, selector: &str) -> Result<Vec<K>> {
        let lp = kube::api::ListParams::default().labels(selector);
        self.api_in::<K>(&self.namespace)
            .list(&lp)
            .await
            .map(|l| l.items)
            .map_err(|e| api_error(e, &format!("listing {}s ({selector})", K::kind(&()))))
    }

    /// Replaces an object in one write (`--rotate-ca`'s switch of the CA Secret); returns
    /// what is stored.
    pub async fn replace<K: Object>(&self, obj: &K) -> Result<K> {
        // One write (PUT), never delete-then-create: a crash in between must not lose the
        // object. Without a resourceVersion in `obj`, the current one is used (last writer
        // wins); with one, a concurrent change makes this fail instead.
        let api = self.api_of(obj);
        let name = obj.name_any();
        let mut obj = obj.clone();
        if obj.meta().resource_version.is_none() {
            let live = api
                .get(&name)
                .await
                .map_err(|e| api_error(e, &format!("reading {name}")))?;
            obj.meta_mut().resource_version = live.meta().resource_version.clone();
        }
        api.replace(&name, &PostParams::default(), &obj)
            .await
            .map_err(|e| api_error(e, &format!("replacing {name}")))
    }

    /// Creates an object that must not exist yet; returns what is stored (with its UID).
    /// `None` when another client created it first.
    pub async fn create_new<K: Object>(&self, obj: &K) -> Result<Option<K>> {
        let pp = PostParams {
            field_manager: Some(names::FIELD_MANAGER.into()),
            ..Default::default()
        };
        match self.api_of(obj).create(&pp, obj).await {
            Ok(created) => Ok(Some(created)),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
            Err(e) => Err(api_error(
                e,
                &format!("creating {} {}", K::kind(&()), obj.name_any()),
            )),
        }
    }

    /// Deletes the object only if it is still the one with this UID (a precondition the API
    /// server checks), so an object someone re-created under the same name is never deleted.
    /// Returns whether it was deleted; absent or replaced is `false`.
    pub async fn delete_uid<K: Object>(&self, name: &str, uid: &str) -> Result<bool> {
        let dp = DeleteParams {
            propagation_policy: Some(kube::api::PropagationPolicy::Background),
            preconditions: Some(kube::api::Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match self.api_in::<K>(&self.namespace).delete(name, &dp).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(false),
            Err(e) => Err(api_error(e, &format!("deleting {} {name}", K::kind(&())))),
        }
    }

    /// Waits while `name` exists with a deletion timestamp (being deleted), up to `limit`;
    /// an object that is absent or not being deleted returns at once.
    pub async fn wait_deleted<K: Object>(&self, name: &str, limit: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.get::<K>(name).await? {
                Some(o) if o.meta().deletion_timestamp.is_some() => {}
                _ => return Ok(()),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(hint(
                    format!("{} {name} is still being deleted", K::kind(&())),
                    "wait until it is gone (kubectl get shows it), then run the command again",
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Deletes `name` of kind `K` in kreg's namespace (or the cluster scope); absent is fine.
    /// Returns whether something was deleted.
    pub async fn delete<K: Object>(&self, name: &str) -> Result<bool> {
        self.delete_in::<K>(&self.namespace, name).await
    }

    /// [`Cluster::delete`] in another namespace.
    pub async fn delete_in<K: Object>(&self, namespace: &str, name: &str) -> Result<bool> {
        let dp = DeleteParams {
            propagation_policy: Some(kube::api::PropagationPolicy::Background),
            ..Default::default()
        };
        match self.api_in::<K>(namespace).delete(name, &dp).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(api_error(e, &format!("deleting {} {name}", K::kind(&())))),
        }
    }
}

/// A Kubernetes object kind the cluster edge reads and writes, namespaced or cluster-scoped.
/// Callers name the kind (`cluster.get::<Secret>(name)`), never an API handle.
pub trait Object:
    Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug
{
    #[doc(hidden)]
    fn api(client: Client, namespace: &str) -> Api<Self>;
}

impl<K> Object for K
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug,
    K::Scope: Scope,
{
    fn api(client: Client, namespace: &str) -> Api<K> {
        <K::Scope as Scope>::api::<K>(client, namespace)
    }
}

/// Namespaced or cluster-scoped: which `Api` constructor a kind takes.
pub trait Scope: Sized {
    #[doc(hidden)]
    fn api<K: Resource<Scope = Self, DynamicType = ()>>(client: Client, namespace: &str) -> Api<K>;
}

impl Scope for NamespaceResourceScope {
    fn api<K: Resource<Scope = Self, DynamicType = ()>>(client: Client, namespace: &str) -> Api<K> {
        Api::namespaced(client, namespace)
    }
}

impl Scope for k8s_openapi::ClusterResourceScope {
    fn api<K: Resource<Scope = Self, DynamicType = ()>>(client: Client, _: &str) -> Api<K> {
        Api::all(client)
    }
}

async fn load(kc: Kubeconfig, options: &KubeConfigOptions, from: &str) -> Result<(Config, String)> {
    let context = options
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .unwrap_or_default();
    if let Some(want) = &options.context {
        if !kc.contexts.iter().any(|c| &c.name == want) {
            let have: Vec<_> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
            return Err(hint(
                format!("context {want:?} is not in {from}"),
                if have.is_empty() {
                    "that kubeconfig has no contexts".to_string()
                } else {
                    format!(
                        "use one of: {} (kubectl config get-contexts)",
                        have.join(", ")
                    )
                },
            ));
        }
    }
    let config = Config::from_custom_kubeconfig(kc, options)
        .await
        .map_err(|e| anyhow!("kubeconfig {from}, context {context:?}: {}", one_line(&e)))?;
    Ok((config, context))
}

fn unreachable(c: &Cluster, e: &kube::Error) -> anyhow::Error {
    match e {
        kube::Error::Api(s) if s.code == 401 => hint(
            format!("the API server at {} rejected kreg's credentials (401 Unauthorized)", c.server),
            format!("the credentials of context {:?} are expired or revoked: log in again", c.context),
        ),
        kube::Error::Api(s) if s.code == 403 => {
            // /version is readable by everyone on a normal cluster; continue to the real check.
            hint(format!("the API server refused to answer: {}", s.message), "check your RBAC rights")
        }
        other => hint(
            format!("cannot reach the API server at {}: {}", c.server, one_line(other)),
            format!("check that the cluster of context {:?} is running and reachable: kubectl cluster-info", c.context),
        ),
    }
}

/// An API error with the server's message and the action it happened in.
pub fn api_error(e: kube::Error, action: &str) -> anyhow::Error {
    match e {
        kube::Error::Api(s) if s.code == 403 => hint(
            format!("{action}: forbidden: {}", s.message),
            "ask a cluster admin for this permission, or use a context that has it",
        ),
        kube::Error::Api(s) => anyhow!("{action}: {} ({})", s.message, s.code),
        other => anyhow!("{action}: {}", one_line(&other)),
    }
}

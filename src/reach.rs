//! How this machine reaches the registry: at its address when it can, else through a
//! port-forward to a registry pod (TLS still runs end to end). `push`, `images`, `rm`, `prune`
//! and `up`'s probe-image push all go this way.

use std::net::{IpAddr, SocketAddr};

use anyhow::{anyhow, Context, Result};

use crate::cluster::{Cluster, Forward};
use crate::context::Ctx;
use crate::error::hint;
use crate::plan::{names, Expose};
use crate::registry::{Credentials, Failure, Registry, Target};

/// A client for the installed registry and the port-forward it may need.
pub struct Reached {
    pub client: Registry,
    /// Keep it alive for as long as the client is used.
    pub forward: Option<Forward>,
    /// The registry's name, as in image references.
    pub registry: String,
}

/// A client for the registry kreg installed in the namespace: its address, CA and (with
/// `--auth`) credentials read from the cluster (ConfigMap `kreg-state`, Secret `kreg-auth`).
pub async fn registry(ctx: &Ctx, force_forward: bool) -> Result<Reached> {
    let cluster = Cluster::connect(&ctx.settings.target, &ctx.settings.namespace).await?;
    let state = cluster.installed_state().await?;
    let registry_name = state.registry.clone();
    crate::validate::host_port(&registry_name)
        .context("the registry address stored in the cluster is not valid")?;
    let port = state.port;
    let target = Target {
        host: state.host.clone(),
        port,
        plain_http: state.expose == Expose::Localhost,
        // Reach the address the cluster recorded, as `kreg status` does: nip.io names carry
        // it anyway, and this keeps kreg independent of this machine's DNS.
        connect: state
            .address
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, port)),
    };
    let creds = credentials(&cluster, state.auth).await?;
    let (client, forward) = reach(
        ctx,
        &cluster,
        target,
        creds,
        &state.ca_pem,
        &registry_name,
        force_forward,
    )
    .await?;
    Ok(Reached {
        client,
        forward,
        registry: registry_name,
    })
}

/// Basic-auth credentials when `up --auth` installed the registry: read from Secret
/// `kreg-auth` (never from flags, never logged).
async fn credentials(cluster: &Cluster, auth: bool) -> Result<Option<Credentials>> {
    if !auth {
        return Ok(None);
    }
    match crate::install::auth::read(cluster).await {
        Ok(Some(users)) => Ok(Some(users.push)),
        Ok(None) => Err(hint(
            format!(
                "the registry requires a password (--auth) but Secret {} is missing or damaged",
                names::AUTH_SECRET
            ),
            "run `kreg up --auth` to generate a new one",
        )),
        Err(e) => Err(hint(
            format!(
                "the registry requires a password (--auth), and reading Secret {} failed: {e:#}",
                names::AUTH_SECRET
            ),
            "ask for `get` on that Secret",
        )),
    }
}

/// A client for the registry: at its address when this machine reaches it, else (or when
/// forced, or for `--expose localhost`) through a port-forward to a registry pod, which the
/// caller keeps alive for as long as it uses the client.
pub async fn reach(
    ctx: &Ctx,
    cluster: &Cluster,
    mut target: Target,
    creds: Option<Credentials>,
    ca_pem: &str,
    registry: &str,
    force_forward: bool,
) -> Result<(Registry, Option<Forward>)> {
    let r = &ctx.reporter;
    if target.plain_http {
        r.info(&format!(
            "{registry} is the nodes' own loopback (--expose localhost): going through a port-forward"
        ));
    } else if !force_forward {
        r.step(&format!("connecting to {registry}"));
        let client = Registry::new(&target, ca_pem, creds.clone())?;
        match client.ping().await {
            Ok(()) => return Ok((client, None)),
            Err(Failure::Unreachable(why)) => r.warn(&format!(
                "{registry} is not reachable from this machine ({why}): going through a port-forward to the registry pod"
            )),
            // A registry that answers wrongly (TLS, auth) is not fixed by another route.
            Err(Failure::Other(e)) => return Err(e),
        }
    }
    r.step("port-forwarding to the registry pod");
    let forward = cluster.forward_registry().await?;
    r.done(&format!(
        "port-forward 127.0.0.1:{} → pod {}",
        forward.local.port(),
        forward.pod
    ));
    target.connect = Some(forward.local);
    let client = Registry::new(&target, ca_pem, creds)?;
    client.ping().await.map_err(|e| match e {
        Failure::Unreachable(why) => {
            anyhow!("the registry did not answer through the port-forward: {why}")
        }
        Failure::Other(e) => e,
    })?;
    Ok((client, Some(forward)))
}

//! How this machine reaches the registry: at its address when it can, else through a
//! port-forward to a registry pod (TLS still runs end to end). `push` and `up`'s probe-image
//! push both go this way.

use anyhow::{anyhow, Result};

use crate::cluster::{Cluster, Forward};
use crate::context::Ctx;
use crate::registry::{Credentials, Failure, Registry, Target};

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
            "{registry} is the nodes' own loopback (--expose localhost): pushing through a port-forward"
        ));
    } else if !force_forward {
        r.step(&format!("connecting to {registry}"));
        let client = Registry::new(&target, ca_pem, creds.clone())?;
        match client.ping().await {
            Ok(()) => return Ok((client, None)),
            Err(Failure::Unreachable(why)) => r.warn(&format!(
                "{registry} is not reachable from this machine ({why}): pushing through a port-forward to the registry pod"
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

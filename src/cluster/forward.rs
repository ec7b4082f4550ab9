//! A port-forward to a ready registry pod through the API server (the `pods/portforward`
//! subresource over a WebSocket), served on a local `127.0.0.1` listener. `kreg push` uses it
//! when the registry's address is not reachable from this machine; TLS still runs end to end
//! between the client and the registry, the tunnel only carries bytes. Also the API server's
//! service proxy, for a quick request to a Service this machine cannot reach.

use std::net::SocketAddr;

use anyhow::{anyhow, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::{api_error, Cluster};
use crate::error::hint;
use crate::plan::names;

/// A running forward; dropping it closes the listener and every tunnel.
pub struct Forward {
    pub local: SocketAddr,
    pub pod: String,
    task: JoinHandle<()>,
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Cluster {
    /// `GET path` on Service `service` (kreg's namespace) through the API server's service
    /// proxy, over `scheme` to the port named `port`; the body as text.
    pub async fn service_proxy_get(
        &self,
        service: &str,
        scheme: &str,
        port: &str,
        path: &str,
    ) -> Result<String> {
        let url = format!(
            "/api/v1/namespaces/{}/services/{scheme}:{service}:{port}/proxy{path}",
            self.namespace
        );
        let req = http::Request::get(url).body(Vec::new())?;
        self.client.request_text(req).await.map_err(|e| {
            api_error(
                e,
                &format!("GET {path} on Service {service} through the API server"),
            )
        })
    }

    /// Forwards a local port to the registry's container port on one ready registry pod. Each
    /// accepted connection gets its own tunnel (the HTTP client may open several).
    pub async fn forward_registry(&self) -> Result<Forward> {
        self.forward_pod(names::REGISTRY, names::CONTAINER_PORT as u16)
            .await
    }

    /// How many pods labelled `app.kubernetes.io/name=<app>` are ready and not terminating.
    /// A Deployment's `readyReplicas` counts a deleted pod until its controller catches up,
    /// while the registry stops answering at once; status reads the pods so that its reason
    /// matches what a client sees.
    pub async fn ready_pods(&self, app: &str) -> Result<i32> {
        Ok(self
            .pods_of(app)
            .await?
            .iter()
            .filter(|p| is_ready(p))
            .count() as i32)
    }

    /// The pods labelled `app.kubernetes.io/name=<app>` in kreg's namespace.
    async fn pods_of(&self, app: &str) -> Result<Vec<Pod>> {
        let pods: Api<Pod> = self.ns_api();
        let selector = format!("app.kubernetes.io/name={app}");
        Ok(pods
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| api_error(e, "listing the registry pods"))?
            .items)
    }

    /// Forwards a local port to `port` (which may listen on the pod's loopback only) of one
    /// ready pod labelled `app.kubernetes.io/name=<app>`.
    pub async fn forward_pod(&self, app: &str, port: u16) -> Result<Forward> {
        let pods: Api<Pod> = self.ns_api();
        let list = self.pods_of(app).await?;
        let pod = list
            .iter()
            .find(|p| is_ready(p))
            .map(|p| p.name_any())
            .ok_or_else(|| {
                hint(
                    format!("no {app} pod is ready in namespace {}", self.namespace),
                    "check with `kreg status`; `kreg up` repairs the install",
                )
            })?;
        // Fail here, with the reason, when the API server refuses port-forwards (RBAC: create
        // pods/portforward), rather than on the first upload.
        let probe = pods
            .portforward(&pod, &[port])
            .await
            .map_err(|e| api_error(e, &format!("port-forwarding to pod {pod}")))?;
        probe.abort();
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| anyhow!("listening on 127.0.0.1 for the port-forward: {e}"))?;
        let local = listener.local_addr()?;
        let name = pod.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let pods = pods.clone();
                let name = name.clone();
                tokio::spawn(async move {
                    let Ok(mut pf) = pods.portforward(&name, &[port]).await else {
                        return;
                    };
                    if let Some(mut upstream) = pf.take_stream(port) {
                        let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                    }
                    // Both directions reached EOF: nothing is in flight any more.
                    pf.abort();
                });
            }
        });
        Ok(Forward { local, pod, task })
    }
}

fn is_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

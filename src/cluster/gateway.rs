//! The edge of the objects kreg writes whose kinds CRDs define: the Gateway API's
//! (`--expose gateway`: whether the server serves `gateway.networking.k8s.io/v1`, its Gateways
//! as facts, kreg's routes) and Traefik's `ServersTransport` (`--expose ingress` behind
//! Traefik). Dynamic objects: the typed Kubernetes crate has none of these types.

use anyhow::Result;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::ResourceExt;

use super::jobs::api_resource;
use super::{Applied, Cluster};
use crate::detect::{GatewayFact, ListenerFact};
use crate::manifests::{GATEWAY_API, TRAEFIK_API};

/// The CRD kinds kreg writes: kind, `group/version`, plural.
const CUSTOM_KINDS: [(&str, &str, &str); 4] = [
    ("TLSRoute", GATEWAY_API, "tlsroutes"),
    ("HTTPRoute", GATEWAY_API, "httproutes"),
    ("BackendTLSPolicy", GATEWAY_API, "backendtlspolicies"),
    ("ServersTransport", TRAEFIK_API, "serverstransports"),
];

/// A CRD kind kreg writes: its `group/version` and resource (for [`super::sweep`] too).
pub(super) fn custom_kind(kind: &str) -> Option<(&'static str, ApiResource)> {
    CUSTOM_KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(k, gv, plural)| (*gv, api_resource(k, gv, plural)))
}

impl Cluster {
    /// The resources of `api_version` (`group/version`) this server serves (empty when none:
    /// a CRD not installed).
    pub(super) async fn served_resources(&self, api_version: &str) -> Vec<String> {
        match self.client.list_api_group_resources(api_version).await {
            Ok(list) => list.resources.into_iter().map(|r| r.name).collect(),
            Err(_) => vec![],
        }
    }

    /// The server serves `kind`, one of [`CUSTOM_KINDS`] (its CRD is installed).
    pub(super) async fn serves_custom(&self, kind: &str) -> bool {
        match custom_kind(kind) {
            Some((gv, r)) => self.served_resources(gv).await.contains(&r.plural),
            None => false,
        }
    }

    /// Whether the Gateway API is served, and its Gateways (empty when unreadable: that only
    /// narrows the plan).
    pub(super) async fn gateway_facts(&self) -> (bool, Vec<GatewayFact>) {
        let served = self.served_resources(GATEWAY_API).await;
        if !served.iter().any(|r| r == "gateways") {
            return (false, vec![]);
        }
        let api: Api<DynamicObject> = Api::all_with(
            self.client.clone(),
            &api_resource("Gateway", GATEWAY_API, "gateways"),
        );
        let items = api
            .list(&ListParams::default().limit(500))
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        (true, items.iter().map(gateway_fact).collect())
    }

    /// Server-side applies an object of a CRD kind given as JSON, skipped like
    /// [`Cluster::apply`] when unchanged.
    pub async fn apply_custom_object(&self, obj: &serde_json::Value) -> Result<Applied> {
        let kind = obj["kind"].as_str().unwrap_or_default();
        let (_, resource) =
            custom_kind(kind).ok_or_else(|| anyhow::anyhow!("kreg writes no {kind}"))?;
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        super::jobs::apply_json(&api, kind, obj).await
    }
}

fn gateway_fact(g: &DynamicObject) -> GatewayFact {
    let spec = &g.data["spec"];
    let str_of = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let listeners = spec["listeners"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| ListenerFact {
                    name: str_of(&l["name"]).unwrap_or_default(),
                    protocol: str_of(&l["protocol"]).unwrap_or_default(),
                    port: l["port"]
                        .as_u64()
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or(0),
                    hostname: str_of(&l["hostname"]),
                    tls_mode: str_of(&l["tls"]["mode"]),
                    routes_from: str_of(&l["allowedRoutes"]["namespaces"]["from"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let addresses = g.data["status"]["addresses"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| str_of(&x["value"])).collect())
        .unwrap_or_default();
    GatewayFact {
        namespace: g.namespace().unwrap_or_default(),
        name: g.name_any(),
        class: str_of(&spec["gatewayClassName"]).unwrap_or_default(),
        listeners,
        addresses,
    }
}

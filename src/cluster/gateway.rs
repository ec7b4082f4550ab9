//! The Gateway API edge of `--expose gateway`: whether the server serves
//! `gateway.networking.k8s.io/v1`, its Gateways as facts, and server-side apply and removal of
//! kreg's routes. Dynamic objects: the typed Kubernetes crate has no Gateway API types.

use anyhow::Result;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::ResourceExt;

use super::{Applied, Cluster};
use crate::detect::{GatewayFact, ListenerFact};

const GROUP: &str = "gateway.networking.k8s.io";
const VERSION: &str = "v1";

/// The kinds kreg writes, with their plurals.
const ROUTE_KINDS: [(&str, &str); 3] = [
    ("TLSRoute", "tlsroutes"),
    ("HTTPRoute", "httproutes"),
    ("BackendTLSPolicy", "backendtlspolicies"),
];

pub(super) fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// The plural of a Gateway API kind kreg applies (for [`super::sweep`] too).
pub(super) fn plural(kind: &str) -> Option<&'static str> {
    ROUTE_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, p)| *p)
}

impl Cluster {
    /// The resources of `gateway.networking.k8s.io/v1` this server serves (empty when none).
    pub(super) async fn gateway_resources(&self) -> Vec<String> {
        match self
            .client
            .list_api_group_resources(&format!("{GROUP}/{VERSION}"))
            .await
        {
            Ok(list) => list.resources.into_iter().map(|r| r.name).collect(),
            Err(_) => vec![],
        }
    }

    /// Whether the Gateway API is served, and its Gateways (empty when unreadable: that only
    /// narrows the plan).
    pub(super) async fn gateway_facts(&self) -> (bool, Vec<GatewayFact>) {
        let served = self.gateway_resources().await;
        if !served.iter().any(|r| r == "gateways") {
            return (false, vec![]);
        }
        let api: Api<DynamicObject> =
            Api::all_with(self.client.clone(), &resource("Gateway", "gateways"));
        let items = api
            .list(&ListParams::default().limit(500))
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        (true, items.iter().map(gateway_fact).collect())
    }

    /// Server-side applies a Gateway API object given as JSON, skipped like
    /// [`Cluster::apply`] when unchanged.
    pub async fn apply_gateway_object(&self, obj: &serde_json::Value) -> Result<Applied> {
        let kind = obj["kind"].as_str().unwrap_or_default();
        let plural = plural(kind).ok_or_else(|| anyhow::anyhow!("kreg writes no {kind}"))?;
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &resource(kind, plural),
        );
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

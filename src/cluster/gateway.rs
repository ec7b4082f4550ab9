//! The Gateway API edge of `--expose gateway`: whether the server serves
//! `gateway.networking.k8s.io/v1`, its Gateways as facts, and server-side apply and removal of
//! kreg's routes. Dynamic objects: the typed Kubernetes crate has no Gateway API types.

use anyhow::Result;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use kube::ResourceExt;

use super::{api_error, Applied, Cluster};
use crate::detect::{GatewayFact, ListenerFact};
use crate::plan::names;

const GROUP: &str = "gateway.networking.k8s.io";
const VERSION: &str = "v1";

/// The kinds kreg writes, with their plurals.
const ROUTE_KINDS: [(&str, &str); 3] = [
    ("TLSRoute", "tlsroutes"),
    ("HTTPRoute", "httproutes"),
    ("BackendTLSPolicy", "backendtlspolicies"),
];

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: format!("{GROUP}/{VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn plural(kind: &str) -> Option<&'static str> {
    ROUTE_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, p)| *p)
}

impl Cluster {
    /// The resources of `gateway.networking.k8s.io/v1` this server serves (empty when none).
    async fn gateway_resources(&self) -> Vec<String> {
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

    /// Deletes kreg's routes and policy (named like the registry, labelled managed-by kreg:
    /// a route someone else made under that name stays); returns `Kind/name` of each deleted.
    pub async fn remove_gateway_routes(&self) -> Result<Vec<String>> {
        let served = self.gateway_resources().await;
        let mut removed = vec![];
        for (kind, plural) in ROUTE_KINDS {
            if !served.iter().any(|r| r == plural) {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(
                self.client.clone(),
                &self.namespace,
                &resource(kind, plural),
            );
            let name = names::REGISTRY;
            let Some(found) = api
                .get_opt(name)
                .await
                .map_err(|e| api_error(e, &format!("reading {kind} {name}")))?
            else {
                continue;
            };
            let (k, v) = names::MANAGED_BY;
            if found.labels().get(k).map(String::as_str) != Some(v) {
                continue;
            }
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => removed.push(format!("{kind}/{name}")),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(api_error(e, &format!("deleting {kind} {name}"))),
            }
        }
        Ok(removed)
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

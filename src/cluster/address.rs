//! The registry's address: a load balancer's (waited for), a node's InternalIP for a
//! NodePort, an Ingress controller's.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{anyhow, Result};
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams};
use kube::runtime::wait::await_condition;
use kube::ResourceExt;
use tokio::time::timeout;

use super::{api_error, Cluster};
use crate::error::hint;
use crate::plan::Address;

impl Cluster {
    /// The ClusterIP of Service `name` (kreg's namespace); `None` for a headless Service.
    pub async fn cluster_ip(&self, name: &str) -> Result<Option<IpAddr>> {
        let svc = self.get::<Service>(name).await?;
        Ok(svc
            .and_then(|s| s.spec?.cluster_ip)
            .and_then(|ip| ip.parse().ok()))
    }

    /// Waits until the Service has an address clients can use: the load balancer's, or a
    /// node's for a NodePort (`prefer`: the node the last `up` named the registry after, kept
    /// while it exists). Returns the address, the node port and the node.
    pub async fn wait_address(
        &self,
        svc_name: &str,
        lb: bool,
        prefer: Option<&str>,
        limit: Duration,
    ) -> Result<(Address, Option<u16>, Option<String>)> {
        let api: Api<Service> = self.ns_api();
        if lb {
            let cond = |s: Option<&Service>| lb_address(s).is_some();
            match self.watch_until(&api, svc_name, cond, limit).await? {
                Some(Some(svc)) => return Ok((lb_address(Some(&svc)).expect("condition held"), None, None)),
                Some(None) => return Err(anyhow!("Service {svc_name} was deleted while kreg waited for its address")),
                None => {
                    return Err(hint(
                        format!(
                            "the LoadBalancer Service {}/{svc_name} got no address within {}s",
                            self.namespace,
                            limit.as_secs()
                        ),
                        "this cluster may have no load balancer: run `kreg up --expose nodeport`, install one (MetalLB), or raise --timeout",
                    ))
                }
            }
        }
        let svc = api
            .get(svc_name)
            .await
            .map_err(|e| api_error(e, "reading the registry Service"))?;
        let node_port = svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|p| p.first())
            .and_then(|p| p.node_port)
            .map(|p| p as u16);
        let (node, ip) = self.node_address(prefer).await?;
        Ok((Address::Ip(ip), node_port, Some(node)))
    }

    /// A node and its InternalIP (every node forwards a NodePort to the registry pod): the
    /// `prefer`red node while it exists and has one, else the first Ready node, else any.
    pub async fn node_address(&self, prefer: Option<&str>) -> Result<(String, IpAddr)> {
        let nodes: Api<Node> = Api::all(self.client());
        let internal_ip = |n: &Node| {
            n.status
                .as_ref()
                .and_then(|s| s.addresses.as_ref())
                .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
                .and_then(|a| a.address.parse::<IpAddr>().ok())
        };
        if let Some(name) = prefer {
            let kept = nodes
                .get_opt(name)
                .await
                .map_err(|e| api_error(e, "reading the registry's node"))?;
            if let Some(ip) = kept.as_ref().and_then(internal_ip) {
                return Ok((name.to_string(), ip));
            }
        }
        let page = nodes
            .list(&ListParams::default().limit(50))
            .await
            .map_err(|e| api_error(e, "listing nodes"))?;
        let mut fallback = None;
        for n in &page.items {
            let status = n.status.as_ref();
            let ready = status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            match (internal_ip(n), ready) {
                (Some(ip), true) => return Ok((n.name_any(), ip)),
                (Some(ip), false) if fallback.is_none() => fallback = Some((n.name_any(), ip)),
                _ => {}
            }
        }
        fallback.ok_or_else(|| {
            hint(
                "no node has an InternalIP address to expose a NodePort on",
                "use --expose loadbalancer or --expose ingress on this cluster",
            )
        })
    }

    /// The Ingress's published address, if the controller has set one within `limit`. None at
    /// once when there is no such Ingress (the first `up` reads the address before applying it).
    pub async fn ingress_address(&self, name: &str, limit: Duration) -> Result<Option<Address>> {
        let api: Api<Ingress> = self.ns_api();
        if api.get_opt(name).await?.is_none() {
            return Ok(None);
        }
        let get = |i: Option<&Ingress>| {
            i.and_then(|i| i.status.as_ref())
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .and_then(|v| v.first())
                .and_then(|x| {
                    x.ip.as_ref()
                        .and_then(|ip| ip.parse().ok().map(Address::Ip))
                        .or_else(|| x.hostname.clone().map(Address::Hostname))
                })
        };
        match timeout(
            limit,
            await_condition(api, name, |i: Option<&Ingress>| get(i).is_some()),
        )
        .await
        {
            Ok(Ok(i)) => Ok(get(i.as_ref())),
            _ => Ok(None),
        }
    }
}

/// The address a LoadBalancer Service was given: its first ingress IP, else its hostname.
pub fn lb_address(s: Option<&Service>) -> Option<Address> {
    let ing = s?
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?;
    if let Some(ip) = ing.ip.as_ref().and_then(|ip| ip.parse().ok()) {
        return Some(Address::Ip(ip));
    }
    ing.hostname
        .clone()
        .filter(|h| !h.is_empty())
        .map(Address::Hostname)
}

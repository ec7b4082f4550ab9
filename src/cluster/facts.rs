//! Reading what detection and planning need. Every list is paged with a small limit: on a
//! cluster of thousands of nodes kreg reads one page, never the whole node list.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};
use kube::ResourceExt;

use super::{api_error, Cluster};
use crate::detect::{ClusterFacts, IngressClassFact, NodeFacts};
use crate::plan::Abilities;

/// Nodes sampled for detection (detection needs a few, not all).
const NODE_SAMPLE: u32 = 50;
const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const DEFAULT_INGRESS_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";

pub fn node_facts(n: &Node) -> NodeFacts {
    let info = n.status.as_ref().and_then(|s| s.node_info.as_ref());
    NodeFacts {
        name: n.name_any(),
        provider_id: n.spec.as_ref().and_then(|s| s.provider_id.clone()),
        labels: n.labels().clone(),
        kubelet_version: info.map(|i| i.kubelet_version.clone()).unwrap_or_default(),
        container_runtime_version: info
            .map(|i| i.container_runtime_version.clone())
            .unwrap_or_default(),
        os_image: info.map(|i| i.os_image.clone()).unwrap_or_default(),
    }
}

impl Cluster {
    /// Facts for detection and the cluster's abilities for planning, read concurrently.
    pub async fn facts(&self) -> Result<(ClusterFacts, Abilities)> {
        let c = self.client();
        let page = ListParams::default().limit(NODE_SAMPLE);
        let nodes = Api::<Node>::all(c.clone());
        let deploys = Api::<Deployment>::namespaced(c.clone(), "kube-system");
        let daemons = Api::<DaemonSet>::namespaced(c.clone(), "kube-system");
        let ingress = Api::<IngressClass>::all(c.clone());
        let storage = Api::<StorageClass>::all(c.clone());
        let small = ListParams::default().limit(500);
        let (version, nodes, deploys, daemons, ingress, storage) = tokio::try_join!(
            async {
                c.apiserver_version()
                    .await
                    .map_err(|e| api_error(e, "reading the server version"))
            },
            async {
                nodes
                    .list(&page)
                    .await
                    .map_err(|e| api_error(e, "listing nodes"))
            },
            async {
                Ok(deploys
                    .list_metadata(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
            async {
                Ok(daemons
                    .list_metadata(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
            // IngressClasses and StorageClasses may be unreadable for a namespaced user; that
            // only narrows the plan, so it is not an error.
            async {
                Ok(ingress
                    .list(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
            async {
                Ok(storage
                    .list(&small)
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default())
            },
        )?;
        let mut kube_system_names: Vec<String> = deploys.iter().map(|d| d.name_any()).collect();
        kube_system_names.extend(daemons.iter().map(|d| d.name_any()));
        let ingress_classes: Vec<IngressClassFact> = ingress
            .iter()
            .map(|ic| IngressClassFact {
                name: ic.name_any(),
                controller: ic
                    .spec
                    .as_ref()
                    .and_then(|s| s.controller.clone())
                    .unwrap_or_default(),
                is_default: is_true(ic.annotations(), DEFAULT_INGRESS_CLASS),
            })
            .collect();
        let facts = ClusterFacts {
            nodes: nodes.items.iter().map(node_facts).collect(),
            server_version: version.git_version,
            ingress_classes: ingress_classes.clone(),
            kube_system_names,
        };
        let abilities = Abilities {
            storage_classes: storage.iter().map(|s| s.name_any()).collect(),
            default_storage_class: storage
                .iter()
                .find(|s| is_true(s.annotations(), DEFAULT_CLASS))
                .map(|s| s.name_any()),
            ingress_classes,
        };
        Ok((facts, abilities))
    }
}

fn is_true(annotations: &BTreeMap<String, String>, key: &str) -> bool {
    annotations.get(key).is_some_and(|v| v == "true")
}

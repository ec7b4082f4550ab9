//! Prints the standard channel's Gateway API CRDs as one `v1/List` (JSON) on stdout.
//!
//! The schemas are what kube's `CustomResourceExt::crd()` derives from the gateway-api crate's
//! types (which kopium generated from the upstream CRDs): field names, types and required
//! fields match upstream; enums, patterns, defaults and CEL rules (x-kubernetes-validations)
//! do not come through. The test API server (Kubernetes 1.20) would ignore CEL rules anyway.
use gateway_api::apis::standard::{
    backendtlspolicies::BackendTlsPolicy, gatewayclasses::GatewayClass, gateways::Gateway,
    httproutes::HttpRoute, referencegrants::ReferenceGrant, tlsroutes::TlsRoute,
};
use kube::CustomResourceExt;

fn main() {
    let items = vec![
        GatewayClass::crd(),
        Gateway::crd(),
        HttpRoute::crd(),
        TlsRoute::crd(),
        BackendTlsPolicy::crd(),
        ReferenceGrant::crd(),
    ];
    // The API server admits CRDs of a *.k8s.io group only with this annotation (KEP 1111);
    // upstream's CRDs carry it too.
    let items: Vec<_> = items
        .into_iter()
        .map(|mut crd| {
            let notes = crd.metadata.annotations.get_or_insert_with(Default::default);
            notes.insert(
                "api-approved.kubernetes.io".into(),
                "https://github.com/kubernetes-sigs/gateway-api".into(),
            );
            notes.insert("gateway.networking.k8s.io/channel".into(), "standard".into());
            notes.insert(
                "kreg.test/generated-from".into(),
                "crates.io gateway-api 0.22.0 (typed schemas)".into(),
            );
            crd
        })
        .collect();
    let mut list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    drop_null_enum_values(&mut list);
    let_group_be_empty(&mut list, false);
    println!("{}", serde_json::to_string(&list).expect("CRDs serialize"));
}

/// schemars writes an optional enum as `nullable: true` plus `null` among the `enum` values;
/// Kubernetes 1.20 refuses a CRD whose enum holds null (with a misleading "per-version schemas
/// may not all be set to identical values"), and `nullable` admits null already.
fn drop_null_enum_values(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(values)) = map.get_mut("enum") {
                values.retain(|x| !x.is_null());
            }
            map.values_mut().for_each(drop_null_enum_values);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_null_enum_values),
        _ => {}
    }
}

/// A reference's `group` is the empty string for the core group (a Service, a ConfigMap), but
/// Kubernetes 1.20's OpenAPI validator takes an empty string for null ("must be of type string:
/// null") unless the field is nullable: every `group` property is made nullable.
fn let_group_be_empty(v: &mut serde_json::Value, is_group: bool) {
    match v {
        serde_json::Value::Object(map) => {
            if is_group && map.get("type").and_then(|t| t.as_str()) == Some("string") {
                map.insert("nullable".into(), true.into());
            }
            for (key, child) in map.iter_mut() {
                if key == "properties" {
                    if let serde_json::Value::Object(props) = child {
                        for (name, schema) in props.iter_mut() {
                            let_group_be_empty(schema, name == "group");
                        }
                    }
                } else {
                    let_group_be_empty(child, false);
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|x| let_group_be_empty(x, false))
        }
        _ => {}
    }
}

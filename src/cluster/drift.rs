//! Drift: does a live object still hold every field kreg applies?
//!
//! `apply` skips an object whose `kreg.dev/applied-hash` annotation matches what it would apply,
//! so an idempotent `up` costs one read per object. The hash only says what kreg *sent* last
//! time; someone may have scaled the Deployment to 0 or edited its image since. Before skipping,
//! `apply` asks [`drifted`]: the desired object (kreg's, serialized) must be a subset of the
//! live one. Fields the API server adds (defaults, `status`, `nodePort`, managed fields) are
//! extra keys and so never count as drift.

use serde_json::Value;

/// The first field (a dotted path such as `spec.template.spec.containers[registry].image`)
/// where `live` no longer holds what `desired` sets, or `None` when every desired field is there.
///
/// Rules, each chosen so an untouched object never looks drifted:
/// - maps: every desired key must be present with a matching value; a desired zero value
///   (`false`, `0`, `""`, `[]`, `{}`, `null`) also matches an absent key, because the API server
///   omits empty fields when it stores an object;
/// - lists: same length, element by element (elements named by their `name` in the path);
/// - numbers compare by value; under a `resources` key, strings compare as Kubernetes
///   quantities (the server stores `1.5Gi` as `1536Mi`).
pub fn drifted(desired: &Value, live: &Value) -> Option<String> {
    walk("", desired, live)
}

fn walk(path: &str, desired: &Value, live: &Value) -> Option<String> {
    match (desired, live) {
        (Value::Null, _) => None,
        (Value::Object(d), Value::Object(l)) => d.iter().find_map(|(k, dv)| {
            let p = join(path, k);
            match l.get(k) {
                None if is_zero(dv) => None,
                None => Some(p),
                Some(lv) => walk(&p, dv, lv),
            }
        }),
        (Value::Array(d), Value::Array(l)) if d.len() == l.len() => {
            d.iter().zip(l).enumerate().find_map(|(i, (dv, lv))| {
                let key = dv
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), str::to_string);
                walk(&format!("{path}[{key}]"), dv, lv)
            })
        }
        (Value::Number(d), Value::Number(l)) if d.as_f64() == l.as_f64() => None,
        (Value::String(d), Value::String(l))
            if d == l || (path.contains("resources") && same_quantity(d, l)) =>
        {
            None
        }
        (d, l) if d == l => None,
        _ => Some(if path.is_empty() {
            "(root)".into()
        } else {
            path.into()
        }),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Two Kubernetes quantities with the same value (`1Gi` = `1024Mi`, `0.5` = `500m`).
fn same_quantity(a: &str, b: &str) -> bool {
    match (quantity(a), quantity(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()) * 4.0,
        _ => false,
    }
}

fn quantity(s: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 14] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("", 1.0),
    ];
    let (number, scale) = SUFFIXES
        .iter()
        .find_map(|(suffix, scale)| Some((s.strip_suffix(suffix)?, *scale)))?;
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(number.parse::<f64>().ok()? * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kreg-registry", "namespace": "kreg-system",
                         "labels": {"app.kubernetes.io/managed-by": "kreg"}},
            "spec": {"replicas": replicas, "template": {"spec": {
                "automountServiceAccountToken": false,
                "containers": [{"name": "registry", "image": image, "args": [],
                                "ports": [{"containerPort": 5000}],
                                "resources": {"requests": {"memory": "64Mi", "cpu": "0.05"}}}]}}}
        })
    }

    /// What the API server returns for `deployment(..)`: defaults, status, extra metadata, and
    /// empty fields dropped.
    fn stored(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kreg-registry", "namespace": "kreg-system", "uid": "u",
                         "resourceVersion": "7", "managedFields": [],
                         "labels": {"app.kubernetes.io/managed-by": "kreg"},
                         "annotations": {"kreg.dev/applied-hash": "abc"}},
            "spec": {"replicas": replicas, "progressDeadlineSeconds": 600, "template": {"spec": {
                "containers": [{"name": "registry", "image": image,
                                "terminationMessagePath": "/dev/termination-log",
                                "ports": [{"containerPort": 5000, "protocol": "TCP"}],
                                "resources": {"requests": {"memory": "64Mi", "cpu": "50m"}}}],
                "restartPolicy": "Always"}}},
            "status": {"replicas": replicas}
        })
    }

    #[test]
    fn an_untouched_object_with_server_defaults_has_not_drifted() {
        assert_eq!(
            drifted(&deployment(1, "registry:2"), &stored(1, "registry:2")),
            None
        );
    }

    #[test]
    fn a_scaled_or_edited_object_names_the_first_drifted_field() {
        assert_eq!(
            drifted(&deployment(1, "registry:2"), &stored(0, "registry:2")).as_deref(),
            Some("spec.replicas")
        );
        assert_eq!(
            drifted(&deployment(1, "registry:2"), &stored(1, "evil:1")).as_deref(),
            Some("spec.template.spec.containers[registry].image")
        );
        let mut gone = stored(1, "registry:2");
        gone["metadata"]["labels"] = json!({});
        assert_eq!(
            drifted(&deployment(1, "registry:2"), &gone).as_deref(),
            Some("metadata.labels.app.kubernetes.io/managed-by")
        );
        let mut extra_port = stored(1, "registry:2");
        extra_port["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_array_mut()
            .unwrap()
            .push(json!({"containerPort": 80}));
        assert_eq!(
            drifted(&deployment(1, "registry:2"), &extra_port).as_deref(),
            Some("spec.template.spec.containers[registry].ports")
        );
    }

    #[test]
    fn secret_data_compares_as_stored_base64() {
        let desired = json!({"kind": "Secret", "type": "kubernetes.io/tls",
                             "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}});
        let live = json!({"kind": "Secret", "type": "kubernetes.io/tls",
                          "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"},
                          "metadata": {"uid": "x"}});
        assert_eq!(drifted(&desired, &live), None);
        let mut edited = live.clone();
        edited["data"]["tls.key"] = json!("b3RoZXI=");
        assert_eq!(drifted(&desired, &edited).as_deref(), Some("data.tls.key"));
        let mut dropped = live;
        dropped["data"].as_object_mut().unwrap().remove("tls.crt");
        assert_eq!(drifted(&desired, &dropped).as_deref(), Some("data.tls.crt"));
    }

    #[test]
    fn quantities_compare_by_value_only_under_resources() {
        let pvc = |size: &str| json!({"spec": {"resources": {"requests": {"storage": size}}}});
        assert_eq!(drifted(&pvc("1.5Gi"), &pvc("1536Mi")), None);
        assert_eq!(drifted(&pvc("1Gi"), &pvc("1024Mi")), None);
        assert_eq!(
            drifted(&pvc("10Gi"), &pvc("20Gi")).as_deref(),
            Some("spec.resources.requests.storage")
        );
        // Elsewhere a string is a string: an env value "1" is not "1.0".
        let env = |v: &str| json!({"env": [{"name": "X", "value": v}]});
        assert_eq!(
            drifted(&env("1"), &env("1.0")).as_deref(),
            Some("env[X].value")
        );
        assert_eq!(quantity("64Mi"), Some(67108864.0));
        assert_eq!(quantity("50m"), Some(0.05));
        assert_eq!(quantity("Gi"), None);
        assert_eq!(quantity("registry:2"), None);
    }

    #[test]
    fn a_type_change_or_a_missing_live_object_is_drift_at_its_path() {
        assert_eq!(
            drifted(&json!({"a": {"b": 1}}), &json!({"a": "x"})).as_deref(),
            Some("a")
        );
        assert_eq!(
            drifted(&json!({"a": 1}), &json!(null)).as_deref(),
            Some("(root)")
        );
        assert_eq!(drifted(&json!({"a": false}), &json!({})), None);
        assert_eq!(
            drifted(&json!({"a": true}), &json!({})).as_deref(),
            Some("a")
        );
    }
}

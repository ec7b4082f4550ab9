//! `kreg status`: prints what [`ops::status`] reads. Exit 0 when healthy, 1 when unhealthy or
//! absent.

use anyhow::Result;

use super::Ctx;
use crate::cli::StatusArgs;
use crate::error::{EXIT_OK, EXIT_UNHEALTHY};
use crate::ops::status::{self as ops, StatusReport};

pub async fn run(ctx: &Ctx, a: &StatusArgs) -> Result<u8> {
    let opts = ops::Options {
        show_password: a.show_password,
    };
    let report = ops::status(ctx, &opts).await?;
    print(ctx, &report)?;
    Ok(if report.healthy {
        EXIT_OK
    } else {
        EXIT_UNHEALTHY
    })
}

fn print(ctx: &Ctx, r: &StatusReport) -> Result<()> {
    if !ctx.printer.is_text() {
        return ctx.printer.document(r);
    }
    let p = &ctx.printer;
    let line = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            p.out(&format!("{k:<14}{v}"));
        }
    };
    p.out(&format!(
        "{:<14}{}",
        "healthy",
        if r.healthy { "yes" } else { "no" }
    ));
    p.out(&format!("{:<14}{}", "namespace", r.namespace));
    line("registry", &r.registry);
    line("flavor", &r.flavor);
    line("expose", &r.expose);
    line("address", &r.address);
    if r.installed {
        p.out(&format!(
            "{:<14}{}/{}",
            "pods ready", r.replicas_ready, r.replicas_desired
        ));
    }
    line("cert expires", &r.cert_not_after);
    line("storage", &r.storage);
    line("probe", &r.probe);
    line("gc schedule", &r.gc_schedule);
    line("dns entry", &r.dns_entry.as_ref().map(|d| d.note.clone()));
    if let (Some(t), Some(n)) = (r.nodes_trusted, r.nodes_total) {
        p.out(&format!("{:<14}{t}/{n}", "nodes trusted"));
    }
    line("ca sha256", &r.ca_sha256);
    line(
        "ca",
        &r.ca_secret
            .as_ref()
            .map(|s| format!("yours, from Secret {s}"))
            .or_else(|| {
                r.issuer
                    .as_ref()
                    .map(|i| format!("cert-manager {i}'s (it signs the certificate)"))
            }),
    );
    if let Some(a) = &r.auth {
        p.out(&format!(
            "{:<14}{} (password in Secret {})",
            "auth", a.username, a.secret
        ));
        line("password", &a.password);
        if !r.pull_secret_namespaces.is_empty() {
            p.out(&format!(
                "{:<14}{}",
                "pull secrets",
                r.pull_secret_namespaces.join(", ")
            ));
        }
    }
    for m in &r.mirrors {
        p.out(&format!(
            "{:<14}{} via https://{} ({}/{} ready, {}){}",
            "mirror",
            m.upstream,
            m.address,
            m.replicas_ready,
            m.replicas_desired,
            m.url,
            if m.healthy { "" } else { ": UNHEALTHY" }
        ));
    }
    if let Some(a) = &r.mirror_access {
        p.out(&format!(
            "{:<14}NetworkPolicy {} admits {} node source address(es); {}",
            "cache access",
            a.network_policy,
            a.allowed_sources.len(),
            match &a.enforced_by {
                Some(e) => format!("enforced by {e}"),
                None => "no enforcing network plugin recognised: Pods may reach the caches".into(),
            }
        ));
    }
    for v in &r.untrusted_nodes {
        p.out(&format!("untrusted     {}: {}", v.node, v.reason));
    }
    for w in &r.warnings {
        p.warn(w);
    }
    for prob in &r.problems {
        p.warn(prob);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::NodeVerdict;

    /// The `-o json` contract of `status`, for an installation with a problem and a warning.
    #[test]
    fn status_json_contract() {
        let report = StatusReport {
            schema_version: crate::plan::SCHEMA_VERSION,
            installed: true,
            healthy: false,
            namespace: "kreg-system".into(),
            problems: vec!["1 of 2 nodes trust the CA (not: node-b)".into()],
            flavor: Some("kind".into()),
            expose: Some("nodeport".into()),
            address: Some("10.0.0.2".into()),
            host: Some("registry.10.0.0.2.nip.io".into()),
            registry: Some("registry.10.0.0.2.nip.io:31000".into()),
            ca_sha256: Some("ab".repeat(32)),
            ca_pem: Some("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".into()),
            ca_secret: Some("corp-ca".into()),
            issuer: None,
            cert_not_after: Some("2027-11-29T04:36:51Z".into()),
            cert_matches_address: true,
            replicas_ready: 1,
            replicas_desired: 1,
            storage: Some("PVC kreg-registry-data Bound, 10Gi, 1.5 MiB used".into()),
            storage_used_bytes: Some(1_572_864),
            probe: Some("GET /v2/ answered 401 over TLS".into()),
            nodes_trusted: Some(1),
            nodes_total: Some(2),
            untrusted_nodes: vec![NodeVerdict {
                node: "node-b".into(),
                reason: "config_path is not set".into(),
            }],
            auth: None,
            pull_secret_namespaces: vec![],
            read_only: false,
            gc_schedule: Some("0 3 * * 0".into()),
            mirrors: vec![],
            mirror_access: None,
            dns_entry: Some(crate::install::dns::DnsEntryStatus {
                present: true,
                name: Some("registry.203.0.113.7.nip.io".into()),
                ip: Some("203.0.113.7".into()),
                note: "registry.203.0.113.7.nip.io -> 203.0.113.7 in ConfigMap kube-system/coredns".into(),
            }),
            anonymous_access: true,
            warnings: vec!["no authentication: every machine that reaches a node's address can push, overwrite and delete images (`kreg up --auth` turns it on)".into()],
        };
        insta::assert_json_snapshot!("status_json", report);
    }
}

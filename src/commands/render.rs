//! `kreg render`: the install flags (the same as `up`'s, and the same `-f kreg.yaml`) become
//! [`install::Options`]; [`install::render`] reads the cluster and renders; this prints the
//! comment block and the objects as one YAML stream (or, with `-o json|yaml`, one document).

use anyhow::Result;
use serde::Serialize;

use crate::cli::RenderArgs;
use crate::context::Ctx;
use crate::error::EXIT_OK;
use crate::install::{self, Options, Rendered};
use crate::manifests;
use crate::plan::SCHEMA_VERSION;

/// `kreg render -o json`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RenderDoc {
    pub schema_version: u32,
    /// The registry's reference (`host:port`) the objects were rendered for.
    pub registry: String,
    pub namespace: String,
    /// `Kind/name` of each object the list refers to but does not hold (Secrets `kreg up
    /// --secrets-only` makes).
    pub referenced: Vec<String>,
    /// The objects, in the order `up` applies them.
    pub objects: Vec<serde_json::Value>,
}

impl RenderDoc {
    pub fn new(r: &Rendered) -> Result<RenderDoc> {
        Ok(RenderDoc {
            schema_version: SCHEMA_VERSION,
            registry: r.registry.clone(),
            namespace: r.namespace.clone(),
            referenced: r.referenced.clone(),
            objects: r
                .objects
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?,
        })
    }
}

pub async fn run(ctx: &Ctx, a: &RenderArgs) -> Result<u8> {
    // Render pushes nothing: with a bootstrapped image, `up --secrets-only` put it in the store.
    let (request, sticky, agent) = super::up::request(ctx, &a.install)?;
    let opts = Options {
        request,
        sticky,
        dry_run: true,
        no_wait: false,
        rotate_ca: false,
        secrets_only: false,
        agent,
    };
    let r = install::render(ctx, &opts).await?;
    if ctx.printer.is_text() {
        let text = install::render_comment(&r) + &manifests::to_yaml_stream(&r.objects)?;
        for line in text.lines() {
            ctx.printer.out(line);
        }
    } else {
        ctx.printer.document(&RenderDoc::new(&r)?)?;
    }
    ctx.reporter.done(&format!(
        "rendered {} objects; {} referenced Secrets stay in the cluster",
        r.objects.len(),
        r.referenced.len()
    ));
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{render, Material};

    /// The document, and what stays out of it: every Secret `up` mints is referenced by name.
    #[test]
    fn render_json() {
        let plan = crate::plan::sample_full();
        let mut m = Material::pending(vec![]);
        m.endpoint = crate::plan::Endpoint {
            host: "registry.10.0.0.2.nip.io".into(),
            port: 31000,
            ips: vec!["10.0.0.2".parse().unwrap()],
        };
        m.probe_image = Some(crate::node::probe::build().reference(&m.endpoint.registry()));
        let desired = render(&plan, &m).unwrap();
        let r = install::render_split(&plan.namespace, m.endpoint.registry(), desired);
        assert_eq!(r.objects.last().map(|o| o.kind()), Some("Job"));
        assert!(r.objects.iter().all(|o| o.kind() != "Secret"));
        assert_eq!(
            r.referenced,
            [
                "Secret/kreg-http-secret",
                "Secret/kreg-ca",
                "Secret/kreg-tls",
                "Secret/kreg-auth",
                "Secret/kreg-pull -n team-a"
            ]
        );
        insta::assert_json_snapshot!(RenderDoc::new(&r).unwrap());
    }
}

//! `kreg env`: what the dev tools that push images need to know about the installed registry,
//! as shell exports and as a JSON document. Skaffold reads KEP-1755's ConfigMap only for local
//! contexts and ko never does, so their users would otherwise paste the registry by hand. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

/// The shells `kreg env` writes for (zsh reads bash's syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the shell is called PowerShell
pub enum Shell {
    Bash,
    Fish,
    PowerShell,
}

/// `kreg env -o json`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EnvDocument {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// `host:port`, as in image references.
    pub registry: String,
    /// `--expose localhost`: plain HTTP (tools allow it for localhost; skopeo needs
    /// `--tls-verify=false`).
    pub plain_http: bool,
    /// Environment variables the tools read: `KO_DOCKER_REPO`, `SKAFFOLD_DEFAULT_REPO`,
    /// `KREG_REGISTRY`.
    pub env: BTreeMap<String, String>,
    /// The Tiltfile line.
    pub tilt: String,
    /// A `docker buildx` command that pushes to the registry.
    pub buildx: String,
}

/// The document for the registry `registry` (`host:port`).
pub fn document(schema_version: u32, registry: &str, plain_http: bool) -> EnvDocument {
    let env = [
        ("KO_DOCKER_REPO", registry),
        ("SKAFFOLD_DEFAULT_REPO", registry),
        ("KREG_REGISTRY", registry),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    EnvDocument {
        schema_version,
        registry: registry.to_string(),
        plain_http,
        env,
        tilt: format!("default_registry('{registry}')"),
        buildx: format!("docker buildx build --push -t {registry}/IMAGE:TAG ."),
    }
}

/// Single-quoted for the shell: a `'` inside ends the quote, is escaped, and reopens it.
fn quoted(shell: Shell, value: &str) -> String {
    match shell {
        Shell::Bash => format!("'{}'", value.replace('\'', r"'\''")),
        Shell::Fish => format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'")),
        Shell::PowerShell => format!("'{}'", value.replace('\'', "''")),
    }
}

/// The exports, for `eval "$(kreg env)"` and the like, with the Tilt and buildx hints as
/// comments.
pub fn script(doc: &EnvDocument, shell: Shell) -> String {
    let mut out = String::new();
    for (k, v) in &doc.env {
        let v = quoted(shell, v);
        out.push_str(&match shell {
            Shell::Bash => format!("export {k}={v}\n"),
            Shell::Fish => format!("set -gx {k} {v}\n"),
            Shell::PowerShell => format!("$Env:{k} = {v}\n"),
        });
    }
    out.push_str(&format!("# Tiltfile: {}\n", doc.tilt));
    out.push_str(&format!("# docker buildx: {}\n", doc.buildx));
    if doc.plain_http {
        out.push_str("# plain HTTP on localhost: docker, ko and Tilt allow it; skopeo and podman need --tls-verify=false\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_the_same_variables() {
        let doc = document(1, "registry.10.0.0.2.nip.io:31000", false);
        for (shell, name) in [
            (Shell::Bash, "bash"),
            (Shell::Fish, "fish"),
            (Shell::PowerShell, "powershell"),
        ] {
            insta::assert_snapshot!(format!("env_{name}"), script(&doc, shell));
        }
        insta::assert_json_snapshot!("env_json", doc);
    }

    #[test]
    fn quotes_cannot_be_escaped() {
        assert_eq!(quoted(Shell::Bash, "a'b"), r"'a'\''b'");
        assert_eq!(quoted(Shell::Fish, r"a'b\"), r"'a\'b\\'");
        assert_eq!(quoted(Shell::PowerShell, "a'b"), "'a''b'");
    }

    #[test]
    fn plain_http_is_said() {
        let doc = document(1, "localhost:5000", true);
        assert!(script(&doc, Shell::Bash).contains("--tls-verify=false"));
        assert!(!script(&document(1, "r:1", false), Shell::Bash).contains("tls-verify"));
    }
}

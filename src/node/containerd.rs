//! containerd's registry configuration as data, for every release line kreg meets on nodes
//! (1.6, 1.7: config version 2; 2.0-2.2: version 3; very old files: version 1).
//!
//! Two questions, both answered from text so they are unit-tested without a runtime:
//! - [`read`]: which CRI registry `config_path` roots does a runtime really use? The input is
//!   `containerd config dump` (the merged, effective configuration with imports and drop-ins
//!   applied), whatever quoting the release prints (`"..."` in 1.x, `'...'` in 2.x).
//! - [`set_config_path`] / [`set_use_local_image_pull`]: the structural edit of a config file
//!   that `--allow-runtime-restart` makes. The file is parsed and the one key is set in its
//!   table, so a stock `config_path = ""` is replaced (never a second `config_path` line,
//!   which containerd rejects as a duplicate key) and every comment and other key is kept.
//!
//! The edit is only a proposal: the node agent writes it beside the real file and has the
//! runtime's own parser (`containerd --config NEW config dump`) accept it before anything
//! is replaced or restarted.

use anyhow::{anyhow, bail, Context, Result};
use toml_edit::{value, DocumentMut, Item, Table};

/// Where the node agent puts a registry's hosts.toml when it has to set `config_path` itself.
pub const DEFAULT_CERTS_D: &str = "/etc/containerd/certs.d";

/// What a containerd configuration says about registries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// The config schema version (1, 2 or 3) the text declares.
    pub version: i64,
    /// The `config_path` roots, in order (containerd splits the value on `:`); empty when the
    /// key is missing or `""`, i.e. the runtime reads no per-registry hosts.toml at all.
    pub roots: Vec<String>,
    /// Legacy `registry.mirrors` / `registry.configs` entries: containerd refuses
    /// `config_path` beside them, so kreg never adds it there.
    pub legacy: bool,
    /// containerd 2.x: `use_local_image_pull` under the CRI images plugin (see
    /// [`needs_local_image_pull`]).
    pub use_local_image_pull: bool,
}

/// The table (as a key path) that holds the CRI `registry` settings in config `version`.
pub fn cri_table(version: i64) -> &'static [&'static str] {
    match version {
        v if v >= 3 => &["plugins", "io.containerd.cri.v1.images"],
        2 => &["plugins", "io.containerd.grpc.v1.cri"],
        _ => &["plugins", "cri"],
    }
}

/// How a person would write that table's header, for remedies: `[plugins."…".registry]`.
pub fn registry_header(version: i64) -> String {
    let t = cri_table(version);
    let quoted: Vec<String> = t
        .iter()
        .map(|k| {
            if k.contains('.') {
                format!("\"{k}\"")
            } else {
                (*k).to_string()
            }
        })
        .collect();
    format!("[{}.registry]", quoted.join("."))
}

fn version_of(doc: &DocumentMut) -> i64 {
    doc.get("version").and_then(Item::as_integer).unwrap_or(1)
}

fn get<'a>(doc: &'a DocumentMut, path: &[&str]) -> Option<&'a Item> {
    let mut item = doc.as_item();
    for k in path {
        item = item.get(k)?;
    }
    Some(item)
}

fn non_empty_table(item: Option<&Item>) -> bool {
    item.and_then(Item::as_table_like)
        .is_some_and(|t| !t.is_empty())
}

/// Reads the registry settings from a containerd config (a `config dump` or a file).
pub fn read(text: &str) -> Result<RegistryConfig> {
    let doc: DocumentMut = text
        .parse()
        .context("containerd's configuration is not valid TOML")?;
    let version = version_of(&doc);
    let mut registry: Vec<&str> = cri_table(version).to_vec();
    registry.push("registry");
    let mut key = registry.clone();
    key.push("config_path");
    let roots = match get(&doc, &key) {
        None => vec![],
        Some(item) => item
            .as_str()
            .ok_or_else(|| anyhow!("config_path is not a string"))?
            .split(':')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let sub = |name: &str| {
        let mut p = registry.clone();
        p.push(name);
        non_empty_table(get(&doc, &p))
    };
    let mut ulip: Vec<&str> = cri_table(version).to_vec();
    ulip.push("use_local_image_pull");
    Ok(RegistryConfig {
        version,
        roots,
        legacy: sub("mirrors") || sub("configs"),
        use_local_image_pull: get(&doc, &ulip).and_then(Item::as_bool).unwrap_or(false),
    })
}

/// containerd 2.x pulls through its transfer service, which (measured on 2.1.9) ignores
/// hosts.toml files when `config_path` has more than one root; the CRI's local pull path
/// (`use_local_image_pull = true`) honours them. 1.x always uses the local path.
pub fn needs_local_image_pull(runtime_major: u32, cfg: &RegistryConfig) -> bool {
    runtime_major >= 2 && cfg.roots.len() > 1 && !cfg.use_local_image_pull
}

/// The table at `path`, created (as implicit tables, so no empty headers appear) if missing.
fn table_mut<'a>(doc: &'a mut DocumentMut, path: &[&str]) -> Result<&'a mut Table> {
    let mut t = doc.as_table_mut();
    for k in path {
        let entry = t.entry(k).or_insert_with(|| {
            let mut new = Table::new();
            new.set_implicit(true);
            Item::Table(new)
        });
        t = entry
            .as_table_mut()
            .ok_or_else(|| anyhow!("`{k}` in containerd's config is not a table"))?;
    }
    Ok(t)
}

/// `text` with the CRI registry `config_path` set to `root` (replacing any value, `""`
/// included). Refuses a file with legacy mirrors/configs: containerd would not start with both.
pub fn set_config_path(text: &str, root: &str) -> Result<String> {
    let mut doc: DocumentMut = text
        .parse()
        .context("containerd's config file is not valid TOML")?;
    let version = version_of(&doc);
    let before = read(text)?;
    if before.legacy {
        bail!(
            "the file uses legacy registry.mirrors/configs; containerd does not accept config_path beside them"
        );
    }
    let mut path = cri_table(version).to_vec();
    path.push("registry");
    let t = table_mut(&mut doc, &path)?;
    t.set_implicit(false);
    t.insert("config_path", value(root));
    Ok(doc.to_string())
}

/// `text` with `use_local_image_pull = true` in the CRI images plugin (config version 3 only:
/// the key exists in containerd 2.x alone).
pub fn set_use_local_image_pull(text: &str) -> Result<String> {
    let mut doc: DocumentMut = text
        .parse()
        .context("containerd's config file is not valid TOML")?;
    let version = version_of(&doc);
    if version < 3 {
        bail!("use_local_image_pull needs a version 3 config file (containerd 2.x); this one is version {version}");
    }
    let t = table_mut(&mut doc, cri_table(version))?;
    t.set_implicit(false);
    t.insert("use_local_image_pull", value(true));
    Ok(doc.to_string())
}

/// The remedy a person can apply by hand for a runtime with no `config_path`.
pub fn config_path_remedy(version: i64, cfg_file: &str) -> String {
    format!(
        "set config_path = \"{DEFAULT_CERTS_D}\" under {} in {cfg_file} and restart containerd, or run kreg up --allow-runtime-restart",
        registry_header(version)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped like `containerd config default` / `config dump` of each line (abridged to the
    // tables that matter; quoting as each release prints it).
    const DUMP_16: &str = r#"version = 2
root = "/var/lib/containerd"
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
      [plugins."io.containerd.grpc.v1.cri".registry.auths]
      [plugins."io.containerd.grpc.v1.cri".registry.configs]
      [plugins."io.containerd.grpc.v1.cri".registry.headers]
      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]
"#;
    const DUMP_21: &str = r#"version = 3
root = '/var/lib/containerd'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = '/etc/containerd/certs.d:/etc/docker/certs.d'
"#;

    #[test]
    fn reads_every_quoting_and_version() {
        let c = read(DUMP_16).unwrap();
        assert_eq!((c.version, c.roots.clone(), c.legacy), (2, vec![], false));
        let c = read(DUMP_21).unwrap();
        assert_eq!(c.version, 3);
        assert_eq!(c.roots, ["/etc/containerd/certs.d", "/etc/docker/certs.d"]);
        assert!(needs_local_image_pull(2, &c));
        assert!(!needs_local_image_pull(1, &c));
        let v1 = "[plugins.cri.registry]\nconfig_path = \"/x\"\n";
        assert_eq!(read(v1).unwrap().roots, ["/x"]);
        // Dotted keys are the same table.
        let dotted = "version = 2\n[plugins]\n\"io.containerd.grpc.v1.cri\".registry.config_path = \"/k3s/certs.d\"\n";
        assert_eq!(read(dotted).unwrap().roots, ["/k3s/certs.d"]);
    }

    #[test]
    fn legacy_mirrors_are_seen_and_block_the_edit() {
        let text = r#"version = 2
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.example"]
"#;
        assert!(read(text).unwrap().legacy);
        assert!(set_config_path(text, DEFAULT_CERTS_D).is_err());
    }

    #[test]
    fn the_stock_empty_value_is_replaced_not_duplicated() {
        let out = set_config_path(DUMP_16, DEFAULT_CERTS_D).unwrap();
        assert_eq!(out.matches("config_path").count(), 1, "{out}");
        assert_eq!(read(&out).unwrap().roots, [DEFAULT_CERTS_D]);
        // Everything else survives.
        assert!(out.contains("sandbox_image = \"registry.k8s.io/pause:3.6\""));
        assert!(out.contains("[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors]"));
    }

    #[test]
    fn a_missing_table_is_created_in_the_files_own_version() {
        for (text, header) in [
            (
                "version = 2\nroot = \"/r\"\n",
                "[plugins.\"io.containerd.grpc.v1.cri\".registry]",
            ),
            (
                "version = 3\n",
                "[plugins.\"io.containerd.cri.v1.images\".registry]",
            ),
            ("", "[plugins.cri.registry]"),
        ] {
            let out = set_config_path(text, DEFAULT_CERTS_D).unwrap();
            assert!(out.contains(header), "{out}");
            assert_eq!(read(&out).unwrap().roots, [DEFAULT_CERTS_D], "{out}");
            // Parses again: no duplicate keys or tables.
            out.parse::<DocumentMut>().unwrap();
        }
    }

    #[test]
    fn use_local_image_pull_is_set_in_version_3_only() {
        let out = set_use_local_image_pull(DUMP_21).unwrap();
        let c = read(&out).unwrap();
        assert!(c.use_local_image_pull && !needs_local_image_pull(2, &c));
        assert!(set_use_local_image_pull(DUMP_16).is_err());
    }

    #[test]
    fn remedies_name_the_table_of_the_runtimes_version() {
        assert!(config_path_remedy(3, "/etc/containerd/config.toml")
            .contains("[plugins.\"io.containerd.cri.v1.images\".registry]"));
        assert!(config_path_remedy(2, "/c").contains("io.containerd.grpc.v1.cri"));
    }
}

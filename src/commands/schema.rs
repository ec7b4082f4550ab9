//! `kreg schema DOCUMENT`: the JSON Schema (draft 2020-12) of each `-o json|yaml` document,
//! derived with schemars from the report structs that print it, as they serialize (a field
//! left out when empty is optional). schemas/ holds them (`make schemas`, checked by
//! tests/schemas.rs, shipped by `make dist`); the tests below validate each document's snapshot
//! against its schema.

use anyhow::Result;
use clap::ValueEnum;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Value};

use crate::cli::{SchemaArgs, SchemaDocument};
use crate::error::EXIT_OK;
use crate::plan::SCHEMA_VERSION;
use crate::printer::Printer;

/// The schema of `doc`.
pub fn schema(doc: SchemaDocument) -> Value {
    match doc {
        SchemaDocument::Up => of::<crate::install::UpReport>(doc),
        SchemaDocument::DryRun => of::<crate::install::DryRun>(doc),
        SchemaDocument::Render => of::<super::render::RenderDoc>(doc),
        SchemaDocument::Status => of::<crate::ops::status::StatusReport>(doc),
        SchemaDocument::Down => of::<crate::ops::down::DownReport>(doc),
        SchemaDocument::Gc => of::<crate::ops::gc::GcReport>(doc),
        SchemaDocument::Push => of::<super::push::PushReport>(doc),
        SchemaDocument::Images => of::<super::images::ImagesReport>(doc),
        SchemaDocument::Rm => of::<super::rm::RmReport>(doc),
        SchemaDocument::Prune => of::<super::prune::PruneReport>(doc),
        SchemaDocument::TrustLocal => of::<crate::ops::trust_local::TrustLocalReport>(doc),
        SchemaDocument::Env => of::<crate::devtools::EnvDocument>(doc),
        SchemaDocument::Version => of::<super::version::VersionReport>(doc),
        // Not a report: the file `-f` reads, described from the same clap definitions.
        SchemaDocument::Config => {
            crate::config::schema(&<crate::cli::Cli as clap::CommandFactory>::command())
        }
    }
}

/// The document's name on the command line and in schemas/: `up`, `dry-run`, `trust-local`...
pub fn name(doc: SchemaDocument) -> String {
    doc.to_possible_value()
        .expect("no document is hidden")
        .get_name()
        .to_string()
}

/// Every document, in the order `kreg schema --help` lists them.
pub fn all() -> &'static [SchemaDocument] {
    SchemaDocument::value_variants()
}

/// The schema as the file schemas/<name>.json holds it.
pub fn text(doc: SchemaDocument) -> String {
    serde_json::to_string_pretty(&schema(doc)).expect("a schema serializes") + "\n"
}

fn of<T: JsonSchema>(doc: SchemaDocument) -> Value {
    let mut s = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    // The title names the document, not the Rust type; schemaVersion is this release's.
    s.insert(
        "title".into(),
        json!(format!("kreg {} -o json", command(doc))),
    );
    if let Some(v) = s.pointer_mut("/properties/schemaVersion") {
        *v = json!({
            "description": "The version of this document's format: raised when a field is renamed or removed, not when one is added.",
            "const": SCHEMA_VERSION,
        });
    }
    s.to_value()
}

/// The command line that prints `doc`.
fn command(doc: SchemaDocument) -> String {
    match doc {
        SchemaDocument::DryRun => "up --dry-run".to_string(),
        d => name(d),
    }
}

pub fn run(printer: &Printer, a: &SchemaArgs) -> Result<u8> {
    if printer.is_text() {
        for line in text(a.document).lines() {
            printer.out(line);
        }
    } else {
        printer.document(&schema(a.document))?;
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The insta snapshot of each document (tests in the module that prints it).
    fn snapshot(doc: SchemaDocument) -> &'static str {
        match doc {
            SchemaDocument::Up => "src/install/snapshots/kreg__install__report__tests__up_json.snap",
            SchemaDocument::DryRun => {
                "src/install/snapshots/kreg__install__report__tests__dry_run_json.snap"
            }
            SchemaDocument::Render => {
                "src/commands/snapshots/kreg__commands__render__tests__render_json.snap"
            }
            SchemaDocument::Status => {
                "src/commands/snapshots/kreg__commands__status__tests__status_json.snap"
            }
            SchemaDocument::Down => {
                "src/commands/snapshots/kreg__commands__down__tests__down_json.snap"
            }
            SchemaDocument::Gc => "src/commands/snapshots/kreg__commands__gc__tests__gc_json.snap",
            SchemaDocument::Push => {
                "src/commands/snapshots/kreg__commands__push__tests__push_json.snap"
            }
            SchemaDocument::Images => {
                "src/commands/snapshots/kreg__commands__images__tests__images_json.snap"
            }
            SchemaDocument::Rm => "src/commands/snapshots/kreg__commands__rm__tests__rm_json.snap",
            SchemaDocument::Prune => {
                "src/commands/snapshots/kreg__commands__prune__tests__prune_json.snap"
            }
            SchemaDocument::TrustLocal => {
                "src/commands/snapshots/kreg__commands__trust_local__contract__trust_local_json.snap"
            }
            SchemaDocument::Env => "src/snapshots/kreg__devtools__tests__env_json.snap",
            SchemaDocument::Version => {
                "src/commands/snapshots/kreg__commands__version__tests__version_json.snap"
            }
            SchemaDocument::Config => "tests/golden/kreg.yaml",
        }
    }

    /// The JSON document of an insta snapshot (what follows its `---` header).
    fn document_of(doc: SchemaDocument) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(snapshot(doc));
        let text = std::fs::read_to_string(&path).unwrap();
        if doc == SchemaDocument::Config {
            // The example kreg.yaml, as JSON.
            return serde_yaml_ng::from_str(&text).unwrap();
        }
        let body = text.splitn(3, "---\n").nth(2).expect("an insta header");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The schema with `additionalProperties: false` on each object that lists its
    /// properties: a snapshot field the schema does not describe fails too.
    fn closed(mut v: Value) -> Value {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(m) => {
                    if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                        m.insert("additionalProperties".into(), Value::Bool(false));
                    }
                    m.values_mut().for_each(walk);
                }
                Value::Array(a) => a.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut v);
        v
    }

    fn errors(schema: &Value, doc: &Value) -> Vec<String> {
        let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
        validator
            .iter_errors(doc)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    #[test]
    fn every_snapshot_validates_against_its_schema() {
        for &doc in all() {
            let schema = schema(doc);
            assert!(
                jsonschema::meta::is_valid(&schema),
                "{}: not a valid schema",
                name(doc)
            );
            let errs = errors(&closed(schema), &document_of(doc));
            assert!(errs.is_empty(), "{}: {errs:#?}", name(doc));
        }
    }

    #[test]
    fn a_document_that_breaks_its_schema_fails() {
        let schema = closed(schema(SchemaDocument::Up));
        let good = document_of(SchemaDocument::Up);
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("registry");
        let mut wrong_type = good.clone();
        wrong_type["healthy"] = json!("yes");
        let mut unknown = good.clone();
        unknown["surprise"] = json!(1);
        let mut old = good.clone();
        old["schemaVersion"] = json!(SCHEMA_VERSION + 1);
        let mut bad_enum = good;
        bad_enum["expose"] = json!("carrier-pigeon");
        for (what, doc) in [
            ("missing", missing),
            ("wrong type", wrong_type),
            ("unknown field", unknown),
            ("other schemaVersion", old),
            ("bad enum", bad_enum),
        ] {
            assert!(!errors(&schema, &doc).is_empty(), "{what} passed");
        }
    }

    #[test]
    fn optional_fields_are_those_left_out_when_empty() {
        let s = schema(SchemaDocument::Status);
        let required: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(required.contains(&"healthy"), "{required:?}");
        assert!(!required.contains(&"auth"), "{required:?}");
        assert_eq!(s["title"], "kreg status -o json");
        assert_eq!(
            schema(SchemaDocument::DryRun)["title"],
            "kreg up --dry-run -o json"
        );
    }
}

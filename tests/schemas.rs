//! Fails when schemas/ drifts from the `-o json` report types: regenerate with `make schemas`.

mod support;

use std::collections::BTreeSet;

use kreg::commands::schema::{all, name, text};

#[test]
fn schemas_match_the_report_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut want = BTreeSet::new();
    for &doc in all() {
        let file = format!("{}.json", name(doc));
        let path = dir.join(&file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text(doc),
            "{} is out of date with the report types: run `make schemas`",
            path.display()
        );
        want.insert(file);
    }
    let have = support::file_names(&dir);
    let stale: Vec<&String> = have.difference(&want).collect();
    assert!(
        stale.is_empty(),
        "schemas/ has files of no document: {stale:?}: run `make schemas` (and its SCHEMAS list)"
    );
}

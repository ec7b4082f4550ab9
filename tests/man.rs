//! Fails when man/ drifts from the flags: regenerate with `make man`.

mod support;

use std::collections::BTreeSet;

use kreg::commands::man::pages;

#[test]
fn man_pages_match_the_flags() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = pages();
    for (name, text) in &pages {
        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            &committed == text,
            "{} is out of date with the CLI flags: run `make man`",
            path.display()
        );
    }
    let want: BTreeSet<String> = pages.into_iter().map(|(n, _)| n).collect();
    let have = support::file_names(&dir);
    let stale: Vec<&String> = have.difference(&want).collect();
    assert!(
        stale.is_empty(),
        "man/ has pages of no command: {stale:?}: run `make man`"
    );
}

//! The documentation holds together: the README stays short enough to read in two minutes and
//! shows how to run kreg on one's own cluster in its first screen; every relative link in the
//! README, CONTRIBUTING.md and docs/ reaches a file that exists, and every `#anchor` a heading
//! of that file. (The flag reference itself is generated: tests/man.rs.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// GitHub's heading anchors: lowercase, spaces to `-`, punctuation but `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of `[text](target)` links outside code blocks.
fn links(markdown: &str) -> Vec<String> {
    let mut out = vec![];
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(j) = rest.find(')') {
                out.push(rest[..j].to_string());
                rest = &rest[j..];
            }
        }
    }
    out
}

fn documents() -> Vec<PathBuf> {
    let mut docs = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = vec![];
    let mut checked = 0;
    for doc in documents() {
        let text = read(&doc);
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match link.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(file)
            };
            checked += 1;
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", doc.display()));
                continue;
            }
            if let Some(a) = anchor {
                if target.extension().is_some_and(|e| e == "md")
                    && !anchors(&read(&target)).contains(a)
                {
                    broken.push(format!("{}: {link} (no such heading)", doc.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked > 10,
        "only {checked} links found: the link search is broken"
    );
}

#[test]
fn the_readme_is_short_and_starts_with_the_users_quick_start() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: keep it to what kreg is, install, the quick start and links \
         (the rest belongs in docs/)"
    );
    let first_screen: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    for want in ["kreg up", "kreg trust-local", "make demo", "./tests/run.sh"] {
        assert!(
            first_screen.contains(want),
            "the README's first screen lacks `{want}`"
        );
    }
    // The user's quick start comes before anything about the project's own test cluster.
    let up = readme.find("kreg up").unwrap();
    if let Some(harness) = readme.find("kcluster") {
        assert!(
            up < harness,
            "the test harness comes before the user's quick start"
        );
    }
}

#[test]
fn the_reference_is_linked_from_the_readme() {
    let readme = read(&root().join("README.md"));
    assert!(
        links(&readme).iter().any(|l| l == "docs/reference.md"),
        "README.md does not link docs/reference.md"
    );
}

#[test]
fn slugs_are_githubs() {
    assert_eq!(
        slug(" The agent's image: kreg brings its own"),
        "the-agents-image-kreg-brings-its-own"
    );
    assert_eq!(slug("`kreg up`"), "kreg-up");
    assert_eq!(
        slug("Zero TLS: `--expose localhost`"),
        "zero-tls---expose-localhost"
    );
}

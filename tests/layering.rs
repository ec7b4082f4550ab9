//! The import graph of `src/` has no cycles (issue 12): a module that uses another never ends
//! up, through others, used by it. Read from the sources as text (`crate::a::b` and
//! `super::x` paths outside comments and test modules), at the granularity of files. And
//! `cluster/` is the one edge to the API server: no other module names the kube crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/commands/up.rs` -> `commands::up`; `src/trust/mod.rs` -> `trust`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The modules (files) `text` of module `me` names.
fn uses(me: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]\nmod ")
        .next()
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let parent = me.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = BTreeSet::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.to_string())] {
        for (i, _) in code.match_indices(prefix) {
            let rest = &code[i + prefix.len()..];
            let path: Vec<&str> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap()
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            // The longest prefix of the path that is a module file.
            let mut name = base.clone();
            let mut best = None;
            for seg in path {
                name = if name.is_empty() {
                    seg.to_string()
                } else {
                    format!("{name}::{seg}")
                };
                if modules.contains(&name) {
                    best = Some(name.clone());
                }
            }
            if let Some(b) = best.filter(|b| b != me) {
                found.insert(b);
            }
        }
    }
    found
}

#[test]
fn the_modules_of_src_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let me = module_of(&src, f);
        if me == "main" || me == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        // A parent module declares its children and a child may use its parent's items: that
        // pair is how Rust nests modules, not a cycle between subjects.
        let deps = uses(&me, &text, &modules)
            .into_iter()
            .filter(|d| !me.starts_with(&format!("{d}::")) && !d.starts_with(&format!("{me}::")))
            .collect();
        graph.insert(me, deps);
    }
    assert!(graph.len() > 20, "the scan found the modules: {graph:?}");
    assert!(
        graph["commands::up"].contains("plan"),
        "the scan finds uses: {:?}",
        graph["commands::up"]
    );
    let mut cycles = vec![];
    for (a, deps) in &graph {
        for b in deps {
            // Is `a` reachable from `b`?
            let (mut seen, mut todo) = (BTreeSet::new(), vec![b.clone()]);
            while let Some(m) = todo.pop() {
                if m == *a {
                    cycles.push(format!("{a} -> {b} -> ... -> {a}"));
                    break;
                }
                if seen.insert(m.clone()) {
                    todo.extend(graph.get(&m).into_iter().flatten().cloned());
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn only_the_cluster_edge_names_the_kube_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    let mut leaks = vec![];
    for f in &files {
        if f.starts_with(src.join("cluster")) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if code.contains("kube::") || code.contains("use kube") {
                leaks.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "kube's client and Api belong to src/cluster/ only; hand objects to `Cluster` instead:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_ops_layer_never_sees_the_command_line() {
    let ops = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops");
    let mut files = vec![];
    sources(&ops, &mut files);
    assert!(files.len() >= 4, "the scan found src/ops: {files:?}");
    let mut leaks = vec![];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if code.contains("crate::cli") || code.contains("clap") {
                leaks.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "src/ops/ takes an Options struct; commands/<verb>.rs turns the flags into it:\n{}",
        leaks.join("\n")
    );
}

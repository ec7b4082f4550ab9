//! kreg's entry in the cluster's CoreDNS configuration (the `Corefile` of ConfigMap
//! `kube-system/coredns`): one server block for exactly the registry's name, so Pods (in-cluster
//! builders: kaniko, BuildKit) resolve it where no public DNS answers (air-gapped clusters, a
//! `--host` nobody's DNS knows). A zone block for one name takes precedence over `.:53`.
//!
//! The Corefile is edited by others (the cluster's installer, admins, other tools): it is
//! hostile input. Everything here is pure text work on it:
//! - kreg's block sits between two marker lines naming kreg's namespace
//!   (`# kreg: begin NS ...` / `# kreg: end NS`), at the top level, and holds exactly what
//!   [`block`] renders; anything else (a marker kreg did not write, a block edited by hand,
//!   a marker inside another server block, unbalanced braces) is refused, nothing is written;
//! - adding appends the block (after a newline if the text lacks one), replacing rewrites its
//!   lines in place, removing deletes exactly its lines: every other byte stays as it was;
//! - a server block of someone else's for the same name is theirs: kreg adds none beside it
//!   ([`Edit::Taken`]), since CoreDNS refuses to start on a zone served twice.
//!
//! Where the Corefile imports [`CUSTOM`]'s server files (k3s, AKS), the same server block is a
//! key of kreg's own there instead ([`custom_server`], [`read_custom`]).
//!
//! `src/cluster/dns.rs` reads and writes the ConfigMaps; `install::dns` and `ops` decide when.

use std::fmt;
use std::net::IpAddr;

use anyhow::{bail, Result};

use crate::error::hint;

/// The ConfigMap CoreDNS reads (kubeadm, kind, minikube, EKS, GKE's kube-dns is not CoreDNS).
pub const CONFIGMAP: (&str, &str) = ("kube-system", "coredns");
/// The key holding the Corefile.
pub const KEY: &str = "Corefile";

const BEGIN: &str = "begin";
const END: &str = "end";
const MARK: &str = "# kreg:";
/// What the begin marker says after the namespace, for the people reading the Corefile.
const NOTE: &str = "(written by kreg up for the registry's name; kreg down removes it)";

/// One name answered with one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub ip: IpAddr,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.name, self.ip)
    }
}

/// The entry a registry named `host`, reached at `ip` (when its address is an IP), needs: none
/// for a name that is an IP itself or `localhost` (`--expose localhost[-tls]`: Pods never
/// resolve it through DNS), nor without an IP to answer with (a load balancer's hostname).
pub fn wanted(host: &str, ip: Option<IpAddr>) -> Option<Entry> {
    let ip = ip?;
    if host.parse::<IpAddr>().is_ok() || host.eq_ignore_ascii_case("localhost") {
        return None;
    }
    Some(Entry {
        name: host.to_ascii_lowercase(),
        ip,
    })
}

/// What an edit does to the Corefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Already as wanted: no write.
    Unchanged,
    /// The new Corefile.
    Changed(String),
    /// Someone else's server block already serves the name (the key quoted): left alone.
    Taken(String),
}

/// kreg's block for `entry`, for namespace `ns`, on the port the Corefile serves `.` on.
pub fn block(ns: &str, entry: &Entry, port: u16) -> String {
    format!(
        "{MARK} {BEGIN} {ns} {NOTE}\n{name}:{port} {{\n    hosts {{\n        {ip} {name}\n        ttl 30\n    }}\n}}\n{MARK} {END} {ns}\n",
        name = entry.name,
        ip = entry.ip,
    )
}

/// The entry kreg's block for `ns` holds, if there is one. Errors when the Corefile's markers
/// or kreg's block are not as kreg writes them.
pub fn find(corefile: &str, ns: &str) -> Result<Option<Entry>> {
    Ok(parse(corefile, ns)?.ours.map(|o| o.entry))
}

/// Adds kreg's block for `ns` answering `entry`, or rewrites it when it answers otherwise.
pub fn upsert(corefile: &str, ns: &str, entry: &Entry) -> Result<Edit> {
    let p = parse(corefile, ns)?;
    if let Some(key) = p
        .foreign_zones
        .iter()
        .find(|z| z.serves(&entry.name, p.port))
    {
        return Ok(Edit::Taken(key.key.clone()));
    }
    let new = block(ns, entry, p.port);
    Ok(match p.ours {
        Some(o) if o.entry == *entry && o.port == p.port => Edit::Unchanged,
        Some(o) => Edit::Changed(format!(
            "{}{new}{}",
            &corefile[..o.start],
            &corefile[o.end..]
        )),
        None => {
            let sep = if corefile.is_empty() || corefile.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            Edit::Changed(format!("{corefile}{sep}{new}"))
        }
    })
}

/// The Corefile without kreg's block for `ns`; `None` when it has none.
pub fn remove(corefile: &str, ns: &str) -> Result<Option<String>> {
    let p = parse(corefile, ns)?;
    Ok(p.ours
        .map(|o| format!("{}{}", &corefile[..o.start], &corefile[o.end..])))
}

/// Checks that kreg could edit the Corefile (its markers and block as kreg writes them);
/// `up` and `down` call it before their first write.
pub fn check(corefile: &str, ns: &str) -> Result<()> {
    parse(corefile, ns).map(|_| ())
}

/// The ConfigMap whose `*.server` keys the Corefiles of k3s and AKS import
/// (`import /etc/coredns/custom/*.server`; AKS: `import custom/*.server`): there kreg's entry is
/// a key of its own, and the Corefile (which k3s rewrites on restart and AKS reconciles) stays
/// untouched.
pub const CUSTOM: (&str, &str) = ("kube-system", "coredns-custom");

/// What a Corefile's top-level `import` of [`CUSTOM`]'s server files looks like.
const CUSTOM_IMPORTS: [&str; 2] = ["/etc/coredns/custom/*.server", "custom/*.server"];

/// Whether the Corefile imports [`CUSTOM`]'s `*.server` keys at the top level.
pub fn imports_custom(corefile: &str) -> Result<bool> {
    let p = parse(corefile, "")?;
    Ok(p.imports
        .iter()
        .any(|i| CUSTOM_IMPORTS.contains(&i.as_str())))
}

/// The key of kreg's server block in [`CUSTOM`] for namespace `ns`.
pub fn custom_key(ns: &str) -> String {
    format!("kreg-{ns}.server")
}

/// The first line of kreg's key in [`CUSTOM`] (a plain comment: the key itself is kreg's).
fn custom_note(ns: &str) -> String {
    format!("# kreg up wrote this key for namespace {ns}'s registry name; kreg down removes it\n")
}

/// What kreg writes under [`custom_key`]: the server block of the Corefile route, after a
/// comment line saying whose it is.
pub fn custom_server(ns: &str, entry: &Entry, port: u16) -> String {
    format!("{}{}", custom_note(ns), block_body(ns, entry, port))
}

/// The lines of [`block`] between its markers.
fn block_body(ns: &str, entry: &Entry, port: u16) -> String {
    let whole = block(ns, entry, port);
    whole
        .split_once('\n')
        .and_then(|(_, rest)| rest.strip_suffix(&format!("{MARK} {END} {ns}\n")))
        .unwrap_or_default()
        .to_string()
}

/// The entry kreg's key in [`CUSTOM`] holds; an error when it is not as kreg writes it.
pub fn read_custom(text: &str, ns: &str) -> Result<Entry> {
    let body = text.strip_prefix(custom_note(ns).as_str()).ok_or_else(|| {
        malformed(format!(
            "key {} of ConfigMap {}/{} was not written by kreg",
            custom_key(ns),
            CUSTOM.0,
            CUSTOM.1
        ))
    })?;
    Ok(read_block(body, ns)?.0)
}

/// Whether a Corefile fragment (the Corefile, or another key of [`CUSTOM`]) has a server
/// block of its own for `name` on `port`: its key.
pub fn serves(text: &str, name: &str, port: u16) -> Result<Option<String>> {
    let p = parse(text, "")?;
    Ok(p.foreign_zones
        .into_iter()
        .find(|z| z.serves(name, port))
        .map(|z| z.key))
}

/// The port the Corefile serves `.` on (53 when none).
pub fn port(corefile: &str) -> Result<u16> {
    Ok(parse(corefile, "")?.port)
}

/// kreg's block for the namespace asked: its byte range (whole lines) and what it answers.
struct Ours {
    start: usize,
    end: usize,
    entry: Entry,
    port: u16,
}

/// A top-level server block key of someone else's (`example.org:53`, `.:53`, `dns://x`).
struct Zone {
    key: String,
    zone: String,
    port: u16,
}

impl Zone {
    fn serves(&self, name: &str, port: u16) -> bool {
        self.port == port && self.zone == name
    }
}

struct Parsed {
    ours: Option<Ours>,
    /// What top-level `import` lines name.
    imports: Vec<String>,
    foreign_zones: Vec<Zone>,
    /// The port `.` is served on (53 when no block serves `.`).
    port: u16,
}

fn malformed(why: impl fmt::Display) -> anyhow::Error {
    hint(
        format!(
            "the Corefile of ConfigMap {}/{}: {why}; kreg edits only its own block and left the Corefile unchanged",
            CONFIGMAP.0, CONFIGMAP.1
        ),
        format!(
            "fix the `{MARK}` lines by hand (kubectl -n {} edit configmap {}): kreg's block is the lines from `{MARK} {BEGIN} NAMESPACE` to `{MARK} {END} NAMESPACE`, exactly as kreg wrote them (delete them all to drop kreg's entry)",
            CONFIGMAP.0, CONFIGMAP.1
        ),
    )
}

/// A marker line: `(begin?, namespace)`; `None` for a line that is not one; an error for a
/// line that starts like one but is not what kreg writes.
fn marker(line: &str) -> Result<Option<(bool, String)>> {
    let t = line.trim();
    let Some(rest) = t.strip_prefix(MARK) else {
        return Ok(None);
    };
    let mut words = rest.split_whitespace();
    let (Some(what), Some(ns)) = (words.next(), words.next()) else {
        return Err(malformed(format!(
            "the line {t:?} is not a marker kreg writes"
        )));
    };
    let tail: Vec<&str> = words.collect();
    let tail = tail.join(" ");
    let ok_ns = crate::validate::namespace(ns).is_ok();
    match what {
        BEGIN if ok_ns && tail == NOTE => Ok(Some((true, ns.to_string()))),
        END if ok_ns && tail.is_empty() => Ok(Some((false, ns.to_string()))),
        _ => Err(malformed(format!(
            "the line {t:?} is not a marker kreg writes"
        ))),
    }
}

/// Splits the Corefile into lines (with their line endings), tracking the brace depth outside
/// comments and quoted strings, and finds the markers, kreg's block and the top-level keys.
fn parse(corefile: &str, ns: &str) -> Result<Parsed> {
    let mut depth: i64 = 0;
    let mut offset = 0;
    // The open block: (namespace, start offset, first content line offset).
    let mut open: Option<(String, usize, usize)> = None;
    let mut seen: Vec<String> = vec![];
    let mut ours = None;
    let mut zones = vec![];
    let mut key_text = String::new();
    let mut imports = vec![];
    for line in corefile.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if let Some((begin, name)) = marker(line)? {
            match (&open, begin) {
                (None, true) => {
                    if depth != 0 {
                        bail!(malformed(format!(
                            "`{MARK} {BEGIN} {name}` is inside another server block"
                        )));
                    }
                    if seen.contains(&name) {
                        bail!(malformed(format!("two blocks are marked for namespace {name}")));
                    }
                    seen.push(name.clone());
                    open = Some((name, start, offset));
                }
                (Some((o, _, _)), true) => bail!(malformed(format!(
                    "`{MARK} {BEGIN} {name}` inside the block of {o}, whose `{MARK} {END} {o}` is missing"
                ))),
                (None, false) => bail!(malformed(format!(
                    "`{MARK} {END} {name}` without its `{MARK} {BEGIN} {name}`"
                ))),
                (Some((o, _, _)), false) if *o != name => bail!(malformed(format!(
                    "`{MARK} {END} {name}` ends the block of {o}"
                ))),
                (Some((o, s, body)), false) => {
                    if o == ns {
                        let (entry, port) = read_block(&corefile[*body..start], ns)?;
                        ours = Some(Ours {
                            start: *s,
                            end: offset,
                            entry,
                            port,
                        });
                    }
                    open = None;
                }
            }
            continue;
        }
        // Another namespace's kreg block serves its name as much as anyone's does.
        let in_marked = open.as_ref().is_some_and(|(o, _, _)| o == ns);
        // A server block's keys are on the line of its `{`.
        key_text.clear();
        if depth == 0 && !in_marked {
            let code: String = code_chars(line).into_iter().collect();
            let mut words = code.split_whitespace();
            if words.next() == Some("import") {
                imports.extend(words.map(str::to_string));
            }
        }
        for c in code_chars(line) {
            match c {
                '{' => {
                    if depth == 0 && !in_marked {
                        zones.extend(keys(&key_text));
                    }
                    depth += 1;
                }
                '}' => {
                    depth -= 1;
                    if depth < 0 {
                        bail!(malformed("a `}` closes nothing"));
                    }
                    key_text.clear();
                }
                c if depth == 0 => key_text.push(c),
                _ => {}
            }
        }
    }
    if let Some((o, _, _)) = open {
        bail!(malformed(format!(
            "`{MARK} {BEGIN} {o}` has no `{MARK} {END} {o}`"
        )));
    }
    if depth != 0 {
        bail!(malformed("its braces do not balance"));
    }
    let port = zones.iter().find(|z| z.zone == ".").map_or(53, |z| z.port);
    Ok(Parsed {
        ours,
        imports,
        foreign_zones: zones,
        port,
    })
}

/// The characters of a line that are configuration: not in a `#` comment, with quoted strings
/// replaced by a space (a brace inside quotes is text).
fn code_chars(line: &str) -> Vec<char> {
    let mut out = vec![];
    let mut quoted = false;
    let mut escaped = false;
    for c in line.chars() {
        if quoted {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    quoted = false;
                    out.push(' ');
                }
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '#' => break,
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// The server block keys in the text before a top-level `{`.
fn keys(text: &str) -> Vec<Zone> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|k| !k.is_empty())
        .map(|k| {
            let bare = k.split_once("://").map_or(k, |(_, rest)| rest);
            let (zone, port) = match bare.rsplit_once(':') {
                Some((z, p)) => (z, p.parse().unwrap_or(0)),
                None => (bare, 53),
            };
            let zone = zone.to_ascii_lowercase();
            let zone = match zone.strip_suffix('.') {
                Some(z) if !z.is_empty() => z.to_string(),
                _ => zone,
            };
            Zone {
                key: k.to_string(),
                zone,
                port,
            }
        })
        .collect()
}

/// The entry and port of kreg's block body (the lines between the markers), which must be
/// exactly what [`block`] renders for them.
fn read_block(body: &str, ns: &str) -> Result<(Entry, u16)> {
    let edited = || malformed(format!("kreg's block for namespace {ns} was edited"));
    let first = body.lines().next().ok_or_else(edited)?;
    let (name, port) = first
        .strip_suffix(" {")
        .and_then(|k| k.rsplit_once(':'))
        .ok_or_else(edited)?;
    let port: u16 = port.parse().map_err(|_| edited())?;
    let ip = body
        .lines()
        .nth(2)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(edited)?;
    let entry = Entry {
        name: name.to_string(),
        ip,
    };
    if block_body(ns, &entry, port) != body {
        return Err(edited());
    }
    Ok((entry, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kubeadm's Corefile, as `kubeadm init` writes it.
    const KUBEADM: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
";

    fn entry(name: &str, ip: &str) -> Entry {
        Entry {
            name: name.into(),
            ip: ip.parse().unwrap(),
        }
    }

    fn changed(e: Edit) -> String {
        match e {
            Edit::Changed(s) => s,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    const NS: &str = "kreg-system";

    #[test]
    fn add_then_remove_leaves_every_other_byte() {
        let e = entry("registry.10.213.0.2.nip.io", "10.213.0.2");
        let added = changed(upsert(KUBEADM, NS, &e).unwrap());
        insta::assert_snapshot!("corefile_added", added);
        assert!(added.starts_with(KUBEADM));
        assert_eq!(find(&added, NS).unwrap(), Some(e.clone()));
        assert_eq!(upsert(&added, NS, &e).unwrap(), Edit::Unchanged);
        assert_eq!(remove(&added, NS).unwrap().as_deref(), Some(KUBEADM));
        assert_eq!(remove(KUBEADM, NS).unwrap(), None);
        assert_eq!(find(KUBEADM, NS).unwrap(), None);
    }

    #[test]
    fn replaces_in_place_between_foreign_content() {
        let e = entry("registry.10.213.0.2.nip.io", "10.213.0.2");
        let with = changed(upsert(KUBEADM, NS, &e).unwrap());
        // Someone appends their own block after kreg's, without a final newline.
        let theirs = format!("{with}example.org {{\n    whoami\n}}");
        let moved = entry("registry.example.test", "10.213.0.9");
        let replaced = changed(upsert(&theirs, NS, &moved).unwrap());
        insta::assert_snapshot!("corefile_replaced", replaced);
        assert!(replaced.starts_with(KUBEADM));
        assert!(replaced.ends_with("example.org {\n    whoami\n}"));
        assert_eq!(
            remove(&replaced, NS).unwrap().unwrap(),
            format!("{KUBEADM}example.org {{\n    whoami\n}}")
        );
    }

    #[test]
    fn appends_after_a_missing_final_newline() {
        let text = KUBEADM.trim_end();
        let e = entry("r.example.test", "192.0.2.1");
        let added = changed(upsert(text, NS, &e).unwrap());
        assert!(added.starts_with(&format!("{text}\n{MARK} {BEGIN} {NS} ")));
        assert_eq!(remove(&added, NS).unwrap().unwrap(), format!("{text}\n"));
    }

    #[test]
    fn two_namespaces_keep_their_own_blocks() {
        let a = changed(upsert(KUBEADM, "kreg-a", &entry("a.test", "192.0.2.1")).unwrap());
        let ab = changed(upsert(&a, "kreg-b", &entry("b.test", "192.0.2.2")).unwrap());
        assert_eq!(find(&ab, "kreg-a").unwrap().unwrap().name, "a.test");
        assert_eq!(find(&ab, "kreg-b").unwrap().unwrap().name, "b.test");
        assert_eq!(remove(&ab, "kreg-b").unwrap().unwrap(), a);
        let b_only = remove(&ab, "kreg-a").unwrap().unwrap();
        assert!(find(&b_only, "kreg-a").unwrap().is_none());
        assert_eq!(remove(&b_only, "kreg-b").unwrap().unwrap(), KUBEADM);
    }

    #[test]
    fn another_installations_block_for_the_same_name_is_theirs() {
        let e = entry("r.test", "192.0.2.1");
        let a = changed(upsert(KUBEADM, "kreg-a", &e).unwrap());
        assert_eq!(
            upsert(&a, "kreg-b", &e).unwrap(),
            Edit::Taken("r.test:53".into())
        );
        assert_eq!(upsert(&a, "kreg-a", &e).unwrap(), Edit::Unchanged);
    }

    #[test]
    fn the_custom_route_of_k3s_and_aks() {
        let k3s = format!("{KUBEADM}import /etc/coredns/custom/*.server\n");
        assert!(imports_custom(&k3s).unwrap());
        assert!(imports_custom(&format!("import custom/*.server\n{KUBEADM}")).unwrap());
        assert!(!imports_custom(KUBEADM).unwrap());
        // Inside a server block it imports snippets into that block, not server blocks.
        let inside = KUBEADM.replacen(
            "    errors\n",
            "    errors\n    import /etc/coredns/custom/*.server\n",
            1,
        );
        assert!(!imports_custom(&inside).unwrap());
        let e = entry("r.test", "192.0.2.1");
        let server = custom_server(NS, &e, 53);
        insta::assert_snapshot!("corefile_custom_server", server);
        assert_eq!(read_custom(&server, NS).unwrap(), e);
        assert!(read_custom(&server, "kreg-other").is_err());
        assert!(read_custom(&server.replace("ttl 30", "ttl 5"), NS).is_err());
        assert!(read_custom("r.test {\n}\n", NS).is_err());
        // The fragment with kreg's lines is a server block for the name, as CoreDNS sees it.
        assert_eq!(
            serves(&server, "r.test", 53).unwrap(),
            Some("r.test:53".into())
        );
        assert_eq!(serves(KUBEADM, "r.test", 53).unwrap(), None);
        assert_eq!(port(&KUBEADM.replacen(".:53", ".:1053", 1)).unwrap(), 1053);
    }

    #[test]
    fn follows_the_port_dot_is_served_on() {
        let text = KUBEADM.replacen(".:53 {", ".:5353 {", 1);
        let added = changed(upsert(&text, NS, &entry("r.test", "192.0.2.1")).unwrap());
        assert!(added.contains("\nr.test:5353 {\n"), "{added}");
    }

    #[test]
    fn a_foreign_block_for_the_name_is_left_alone() {
        for key in ["r.test", "r.test.:53", "dns://R.test", "a.test r.test"] {
            let text =
                format!("{KUBEADM}{key} {{\n    hosts {{\n        192.0.2.7 r.test\n    }}\n}}\n");
            assert_eq!(
                upsert(&text, NS, &entry("r.test", "192.0.2.1")).unwrap(),
                Edit::Taken(key.split(' ').next_back().unwrap().into()),
                "{key}"
            );
        }
        // Another port, or a name inside a block (`hosts`), is not a server block for it.
        let other = format!("{KUBEADM}r.test:1053 {{\n    whoami\n}}\n");
        assert!(matches!(
            upsert(&other, NS, &entry("r.test", "192.0.2.1")).unwrap(),
            Edit::Changed(_)
        ));
    }

    #[test]
    fn braces_in_comments_and_quotes_are_text() {
        let text = format!("# a comment {{\n{KUBEADM}x.test {{\n    template IN A x.test {{\n        answer \"{{{{ .Name }}}} 60 IN A 192.0.2.3\"\n    }}\n}}\n");
        let added = changed(upsert(&text, NS, &entry("r.test", "192.0.2.1")).unwrap());
        assert_eq!(remove(&added, NS).unwrap().unwrap(), text);
    }

    #[test]
    fn windows_line_endings_stay() {
        let text = KUBEADM.replace('\n', "\r\n");
        let added = changed(upsert(&text, NS, &entry("r.test", "192.0.2.1")).unwrap());
        assert_eq!(remove(&added, NS).unwrap().unwrap(), text);
    }

    #[test]
    fn malformed_markers_are_refused() {
        let e = entry("r.test", "192.0.2.1");
        let good = changed(upsert(KUBEADM, NS, &e).unwrap());
        let begin = format!("{MARK} {BEGIN} {NS} {NOTE}\n");
        let end = format!("{MARK} {END} {NS}\n");
        let cases: Vec<(&str, String)> = vec![
            ("duplicated", format!("{good}{}", block(NS, &e, 53))),
            ("no end", good.replace(&end, "")),
            ("no begin", good.replace(&begin, "")),
            (
                "two begins",
                good.replace(&begin, &format!("{begin}{begin}")),
            ),
            (
                "edited body",
                good.replace("ttl 30\n    }", "ttl 30\n        fallthrough\n    }"),
            ),
            ("edited name", good.replace("r.test:53 {", "s.test:53 {")),
            ("foreign marker", format!("{KUBEADM}# kreg: was here\n")),
            (
                "bad namespace",
                good.replace(&end, "# kreg: end Not_A_Namespace\n"),
            ),
            ("other end", good.replace(&end, "# kreg: end kreg-other\n")),
            (
                "inside a block",
                KUBEADM.replacen(
                    "    errors\n",
                    &format!("    errors\n{}", block(NS, &e, 53)),
                    1,
                ),
            ),
            ("unbalanced", format!("{good}x.test {{\n")),
            ("closes nothing", format!("{good}}}\n")),
        ];
        for (what, text) in cases {
            for r in [
                upsert(&text, NS, &e).map(|_| ()),
                remove(&text, NS).map(|_| ()),
                check(&text, NS),
            ] {
                let err = r.expect_err(what);
                assert!(
                    format!("{err:#}").contains("left the Corefile unchanged"),
                    "{what}: {err:#}"
                );
            }
        }
        let err = upsert(&format!("{good}{}", block(NS, &e, 53)), NS, &e).unwrap_err();
        insta::assert_snapshot!("corefile_duplicated_error", format!("{err:#}"));
    }

    #[test]
    fn another_namespaces_malformed_block_stops_every_edit() {
        let theirs = format!("{KUBEADM}{MARK} {BEGIN} kreg-b {NOTE}\nr.test:53 {{\n}}\n");
        assert!(upsert(&theirs, NS, &entry("r.test", "192.0.2.1")).is_err());
    }

    #[test]
    fn wanted_only_for_names_with_an_ip() {
        let ip = Some("10.0.0.1".parse().unwrap());
        assert_eq!(
            wanted("Registry.Example.TEST", ip),
            Some(entry("registry.example.test", "10.0.0.1"))
        );
        assert_eq!(wanted("10.0.0.1", ip), None);
        assert_eq!(wanted("localhost", ip), None);
        assert_eq!(wanted("lb.example.test", None), None);
    }
}

//! Image lifecycle, the pure part: what `kreg images` lists, what `kreg rm` and `kreg prune`
//! delete. The registry client reads the registry into [`Repository`] values (tags, and every
//! manifest they reach with its blobs, children and creation time); everything here decides
//! from those alone. No I/O.
//!
//! The unit is the *image*: one manifest digest with every tag that points at it. Distribution
//! deletes manifests by digest, so deleting an image removes all its tags at once. A multi-arch
//! index and its per-platform children are one image: deleting it deletes the index first, then
//! each child no image that stays still reaches (another tag, another index). A digest that an
//! image which stays reaches is never deleted, whatever the policy says. Blobs are not deleted
//! here: `kreg gc` reclaims what no manifest references any more.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::error::hint;
use crate::image::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

/// What kreg asks the registry for: both manifest formats and both index formats, so it gets
/// the stored bytes (an Accept without them makes Distribution convert, and the digest change).
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// One manifest, reduced to what the lifecycle needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    /// The config and the layers (empty for an index): `(digest, size)`.
    pub blobs: Vec<(String, u64)>,
    /// The config's digest (images only), to read `created` and the platform from.
    pub config: Option<String>,
    /// An index's per-platform manifests.
    pub children: Vec<Child>,
    /// The config's `created`, in Unix seconds (images only; unknown when absent or unreadable).
    pub created: Option<i64>,
    /// `os/arch[/variant]` from the config (images only).
    pub platform: Option<String>,
}

impl Manifest {
    pub fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_LIST
    }
}

/// An entry of an index's `manifests`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub digest: String,
    pub platform: Option<String>,
}

/// A repository as read from the registry.
#[derive(Debug, Clone, Default)]
pub struct Repository {
    pub name: String,
    /// Tag → manifest digest.
    pub tags: BTreeMap<String, String>,
    /// Digest → manifest, for every tagged manifest and every index child.
    pub manifests: BTreeMap<String, Manifest>,
}

#[derive(Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    platform: Option<RawPlatform>,
}

#[derive(Deserialize)]
struct RawPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Vec<RawDescriptor>,
    #[serde(default)]
    manifests: Vec<RawDescriptor>,
}

fn platform(os: &str, arch: &str, variant: Option<&str>) -> Option<String> {
    if os.is_empty() && arch.is_empty() {
        return None;
    }
    Some(match variant.filter(|v| !v.is_empty()) {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    })
}

/// Reads a manifest or index the registry returned with `content_type`. The body's own
/// `mediaType` wins; without either, an index is told by its `manifests`.
pub fn parse_manifest(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest> {
    let raw: RawManifest = serde_json::from_slice(bytes)
        .map_err(|e| anyhow::anyhow!("the registry returned a manifest that is not JSON: {e}"))?;
    let media_type = raw
        .media_type
        .filter(|m| !m.is_empty())
        .or_else(|| content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_string()))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            if raw.config.is_none() && !raw.manifests.is_empty() {
                OCI_INDEX.to_string()
            } else {
                OCI_MANIFEST.to_string()
            }
        });
    let mut m = Manifest {
        media_type,
        ..Manifest::default()
    };
    if m.is_index() {
        m.children = raw
            .manifests
            .into_iter()
            .filter(|d| {
                // Attestations and other artifacts hang off an index too; only images count.
                d.media_type.is_empty()
                    || d.media_type == OCI_MANIFEST
                    || d.media_type == DOCKER_MANIFEST
                    || d.media_type == OCI_INDEX
                    || d.media_type == DOCKER_LIST
            })
            .map(|d| Child {
                digest: d.digest,
                platform: d
                    .platform
                    .and_then(|p| platform(&p.os, &p.architecture, p.variant.as_deref())),
            })
            .collect();
    } else {
        if let Some(c) = raw.config {
            m.config = Some(c.digest.clone());
            m.blobs.push((c.digest, c.size));
        }
        m.blobs
            .extend(raw.layers.into_iter().map(|l| (l.digest, l.size)));
    }
    Ok(m)
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// Fills `created` and `platform` from an image's config blob. A config kreg cannot read
/// leaves both unknown: such an image is never "older than" anything.
pub fn read_config(m: &mut Manifest, bytes: &[u8]) {
    let Ok(c) = serde_json::from_slice::<RawConfig>(bytes) else {
        return;
    };
    m.created = c.created.as_deref().and_then(unix_seconds);
    m.platform = platform(&c.os, &c.architecture, c.variant.as_deref());
}

/// An RFC 3339 time (as image configs carry) in Unix seconds.
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<k8s_openapi::jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

/// Unix seconds as RFC 3339, for tables and documents.
pub fn rfc3339(unix: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// One image: a digest with its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Image {
    pub repository: String,
    /// Every tag pointing at this digest, sorted (empty for an index's child).
    pub tags: Vec<String>,
    pub digest: String,
    /// `image` or `index` (multi-arch: the children are part of this image).
    pub kind: Kind,
    pub media_type: String,
    /// Bytes of the config and layers, each blob counted once (for an index: over all its
    /// children). What deleting it frees at most: layers shared with other images stay.
    pub size: u64,
    /// The image config's creation time (for an index, its newest child's), RFC 3339; absent
    /// when the config does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `os/arch` of the image, or of each child of an index.
    pub platforms: Vec<String>,
    /// An index's per-platform manifests (deleted with it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    #[serde(skip)]
    pub created_unix: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Index,
}

/// The tagged images of `repo`, newest first (unknown creation times last, then by digest so
/// the order is stable).
pub fn images(repo: &Repository) -> Vec<Image> {
    let mut by_digest: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (tag, digest) in &repo.tags {
        by_digest.entry(digest).or_default().push(tag.clone());
    }
    let mut out: Vec<Image> = by_digest
        .into_iter()
        .map(|(digest, tags)| image(repo, digest, tags))
        .collect();
    out.sort_by(|a, b| {
        b.created_unix
            .is_some()
            .cmp(&a.created_unix.is_some())
            .then(b.created_unix.cmp(&a.created_unix))
            .then(a.digest.cmp(&b.digest))
    });
    out
}

fn image(repo: &Repository, digest: &str, mut tags: Vec<String>) -> Image {
    tags.sort();
    let empty = Manifest::default();
    let m = repo.manifests.get(digest).unwrap_or(&empty);
    let mut blobs: BTreeMap<&str, u64> = BTreeMap::new();
    let mut platforms = Vec::new();
    let mut created = m.created;
    if m.is_index() {
        for c in &m.children {
            let child = repo.manifests.get(&c.digest);
            for (d, s) in child.map(|m| m.blobs.as_slice()).unwrap_or_default() {
                blobs.insert(d, *s);
            }
            if let Some(p) = c
                .platform
                .clone()
                .or_else(|| child.and_then(|m| m.platform.clone()))
            {
                platforms.push(p);
            }
            created = created.max(child.and_then(|m| m.created));
        }
    } else {
        for (d, s) in &m.blobs {
            blobs.insert(d, *s);
        }
        platforms.extend(m.platform.clone());
    }
    Image {
        repository: repo.name.clone(),
        tags,
        digest: digest.to_string(),
        kind: if m.is_index() {
            Kind::Index
        } else {
            Kind::Image
        },
        media_type: m.media_type.clone(),
        size: blobs.values().sum(),
        created: created.map(rfc3339),
        platforms,
        children: m.children.iter().map(|c| c.digest.clone()).collect(),
        created_unix: created,
    }
}

/// What `prune` deletes: at least one of the two rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Policy {
    /// Keep this many newest images per repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep: Option<usize>,
    /// Delete only images created more than this many seconds ago.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub older_than_seconds: Option<u64>,
}

impl Policy {
    /// Both rules given: an image goes only when it is beyond the `keep` newest AND older.
    pub fn new(keep: Option<usize>, older_than_seconds: Option<u64>) -> Result<Policy> {
        if keep.is_none() && older_than_seconds.is_none() {
            return Err(hint(
                "prune needs a policy: nothing says which images to delete",
                "pass --keep N (the N newest images of each repository stay), --older-than DURATION (e.g. 30d), or both",
            ));
        }
        Ok(Policy {
            keep,
            older_than_seconds,
        })
    }

    fn deletes(&self, rank: usize, created: Option<i64>, now: i64) -> bool {
        let beyond = self.keep.is_none_or(|n| rank >= n);
        let old = match self.older_than_seconds {
            None => true,
            // Unknown age: never old enough.
            Some(s) => created.is_some_and(|c| now.saturating_sub(c) > s as i64),
        };
        beyond && old
    }
}

/// What happens to one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Decision {
    #[serde(flatten)]
    pub image: Image,
    pub delete: bool,
    /// Why, in words.
    pub reason: String,
    /// The manifests deleted, in order: the image's own digest, then the children no
    /// remaining image reaches (empty when kept).
    pub deletes: Vec<String>,
}

/// Applies `policy` to each image of `repo` at `now` (Unix seconds).
pub fn prune(repo: &Repository, policy: &Policy, now: i64) -> Vec<Decision> {
    let imgs = images(repo);
    let wanted: Vec<(bool, String)> = imgs
        .iter()
        .enumerate()
        .map(|(rank, i)| {
            let del = policy.deletes(rank, i.created_unix, now);
            let why = match (del, policy.keep, policy.older_than_seconds) {
                (true, Some(n), Some(s)) => {
                    format!("not among the {n} newest and older than {}", age(s))
                }
                (true, Some(n), None) => format!("not among the {n} newest"),
                (true, None, Some(s)) => format!("older than {}", age(s)),
                (false, Some(n), _) if rank < n => format!("among the {n} newest"),
                (false, _, Some(_)) if i.created_unix.is_none() => {
                    "its config gives no creation time".to_string()
                }
                (false, _, Some(s)) => format!("not older than {}", age(s)),
                _ => "kept".to_string(),
            };
            (del, why)
        })
        .collect();
    decide(repo, imgs, wanted)
}

/// Turns wishes into decisions: an image reached by one that stays stays too, and each deleted
/// index takes the children nothing that stays reaches.
fn decide(repo: &Repository, imgs: Vec<Image>, mut wanted: Vec<(bool, String)>) -> Vec<Decision> {
    // Until nothing changes: keeping an index can protect an image that was to go.
    loop {
        let reached = reached_by(repo, &imgs, &wanted);
        let mut changed = false;
        for (i, img) in imgs.iter().enumerate() {
            if wanted[i].0 {
                if let Some(by) = reached.get(&img.digest) {
                    wanted[i] = (false, format!("part of {by}, which stays"));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let reached = reached_by(repo, &imgs, &wanted);
    let tagged_deleted: BTreeSet<String> = imgs
        .iter()
        .zip(&wanted)
        .filter(|(_, w)| w.0)
        .map(|(i, _)| i.digest.clone())
        .collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    imgs.into_iter()
        .zip(wanted)
        .map(|(image, (delete, reason))| {
            let mut deletes = Vec::new();
            if delete {
                deletes.push(image.digest.clone());
                for c in &image.children {
                    if !reached.contains_key(c)
                        && !tagged_deleted.contains(c)
                        && taken.insert(c.clone())
                    {
                        deletes.push(c.clone());
                    }
                }
            }
            Decision {
                image,
                delete,
                reason,
                deletes,
            }
        })
        .collect()
}

/// Every digest an image that stays reaches (itself and its children), with a name for it.
fn reached_by(
    repo: &Repository,
    imgs: &[Image],
    wanted: &[(bool, String)],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (img, (delete, _)) in imgs.iter().zip(wanted) {
        if *delete {
            continue;
        }
        let name = match img.tags.first() {
            Some(t) => format!("{}:{t}", repo.name),
            None => format!("{}@{}", repo.name, img.digest),
        };
        out.entry(img.digest.clone())
            .or_insert_with(|| name.clone());
        for c in &img.children {
            out.entry(c.clone()).or_insert_with(|| name.clone());
        }
    }
    out
}

/// A reference `kreg rm` takes: `REPO:TAG` or `REPO@sha256:...` (no registry host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag { repo: String, tag: String },
    Digest { repo: String, digest: String },
}

impl Reference {
    pub fn repo(&self) -> &str {
        match self {
            Reference::Tag { repo, .. } | Reference::Digest { repo, .. } => repo,
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Tag { repo, tag } => write!(f, "{repo}:{tag}"),
            Reference::Digest { repo, digest } => write!(f, "{repo}@{digest}"),
        }
    }
}

/// Reads `REPO:TAG` or `REPO@sha256:HEX`.
pub fn parse_reference(s: &str) -> Result<Reference> {
    let bad = |why: &str| {
        hint(
            format!("invalid image reference {s:?}: {why}"),
            "name it as REPOSITORY:TAG or REPOSITORY@sha256:DIGEST, without the registry's host (e.g. team/app:1.2)",
        )
    };
    if let Some((repo, digest)) = s.split_once('@') {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| bad("the digest must start with sha256:"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(bad("a sha256 digest is 64 lowercase hex digits"));
        }
        check_repo(repo).map_err(|w| bad(&w))?;
        return Ok(Reference::Digest {
            repo: repo.to_string(),
            digest: digest.to_string(),
        });
    }
    let (repo, tag) = match s.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => {
            return Err(bad(
                "name a tag (REPOSITORY:TAG) or a digest (REPOSITORY@sha256:...)",
            ))
        }
    };
    let tag_ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !tag.starts_with(['.', '-']);
    if !tag_ok {
        return Err(bad(
            "a tag is up to 128 letters, digits, _ . - (not first . or -)",
        ));
    }
    check_repo(repo).map_err(|w| bad(&w))?;
    Ok(Reference::Tag {
        repo: repo.to_string(),
        tag: tag.to_string(),
    })
}

fn check_repo(repo: &str) -> std::result::Result<(), String> {
    if repo.is_empty() {
        return Err("the repository is missing".into());
    }
    let first = repo.split('/').next().unwrap_or("");
    if first.contains('.') || first.contains(':') || first == "localhost" {
        return Err("leave the registry's host out".into());
    }
    let ok = repo.split('/').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric())
    });
    if !ok {
        return Err("a repository is lowercase letters, digits and . _ - between slashes".into());
    }
    Ok(())
}

/// What `kreg rm REF` deletes: the image `reference` names, as one [`Decision`]. Refuses a tag
/// whose digest other tags share unless `all_tags` (Distribution deletes by digest: they would
/// all go), and an index's child while its index stays.
pub fn rm(repo: &Repository, reference: &Reference, all_tags: bool) -> Result<Decision> {
    let digest = match reference {
        Reference::Tag { tag, .. } => match repo.tags.get(tag) {
            Some(d) => d.clone(),
            None => {
                return Err(hint(
                    format!("{reference}: no such tag; nothing was deleted"),
                    format!("`kreg images {}` lists its tags", repo.name),
                ))
            }
        },
        Reference::Digest { digest, .. } => digest.clone(),
    };
    let imgs = images(repo);
    let Some(target) = imgs.iter().position(|i| i.digest == digest) else {
        if let Some(parent) = imgs.iter().find(|i| i.children.contains(&digest)) {
            return Err(hint(
                format!(
                    "{reference} is one platform of the multi-arch image {}; nothing was deleted",
                    name(repo, parent)
                ),
                format!(
                    "delete the whole image: `kreg rm {}` (its platforms go with it)",
                    name(repo, parent)
                ),
            ));
        }
        return Err(hint(
            format!(
                "{reference}: no tag of {} points at it; nothing was deleted",
                repo.name
            ),
            format!("`kreg images {}` lists its images", repo.name),
        ));
    };
    if let Reference::Tag { tag, .. } = reference {
        let others: Vec<&String> = imgs[target].tags.iter().filter(|t| *t != tag).collect();
        if !others.is_empty() && !all_tags {
            let list: Vec<String> = others
                .iter()
                .map(|t| format!("{}:{t}", repo.name))
                .collect();
            bail!(hint(
                format!(
                    "{reference} shares its digest {digest} with {}: the registry deletes by digest, so they would go too; nothing was deleted",
                    list.join(", ")
                ),
                "pass --all-tags to delete the image with all its tags",
            ));
        }
    }
    let wanted = imgs
        .iter()
        .enumerate()
        .map(|(i, _)| {
            (
                i == target,
                if i == target {
                    "asked for".to_string()
                } else {
                    String::new()
                },
            )
        })
        .collect();
    let decisions = decide(repo, imgs, wanted);
    let d = decisions
        .into_iter()
        .nth(target)
        .expect("the target is listed");
    if !d.delete {
        return Err(hint(
            format!("{reference} is {}; nothing was deleted", d.reason),
            "delete that image instead",
        ));
    }
    Ok(d)
}

fn name(repo: &Repository, img: &Image) -> String {
    match img.tags.first() {
        Some(t) => format!("{}:{t}", repo.name),
        None => format!("{}@{}", repo.name, img.digest),
    }
}

/// Parses an age for `--older-than`: `30d`, `12h`, `2w`, `1d12h`, `90m` (units s, m, h, d, w).
pub fn parse_age(s: &str) -> Result<u64> {
    let err = || {
        hint(
            format!("invalid --older-than {s:?}"),
            "use an age such as 30d, 12h, 2w or 1d12h (units: s, m, h, d, w)",
        )
    };
    let mut total: u64 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| err())?;
        let unit = rest[digits..].chars().next().ok_or_else(err)?;
        rest = &rest[digits + unit.len_utf8()..];
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            _ => return Err(err()),
        };
        total = n
            .checked_mul(mult)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(err)?;
    }
    if total == 0 {
        return Err(err());
    }
    Ok(total)
}

/// An age in the largest unit that divides it: `30d`, `12h`, `90m`.
pub fn age(secs: u64) -> String {
    for (unit, n) in [("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)] {
        if secs % n == 0 {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// A size for people: `12.3 MiB`, `512 B`.
pub fn human_size(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{:.1} KiB", b / K)
    } else if b < K * K * K {
        format!("{:.1} MiB", b / (K * K))
    } else {
        format!("{:.1} GiB", b / (K * K * K))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86400;
    const NOW: i64 = 1_800_000_000;

    fn d(n: u32) -> String {
        format!("sha256:{n:064x}")
    }

    /// An image manifest `n` created `days` ago with its own layer `1000 + n` and a shared one.
    fn img(n: u32, days: Option<i64>) -> Manifest {
        Manifest {
            media_type: OCI_MANIFEST.into(),
            blobs: vec![(d(500 + n), 10), (d(1000 + n), 1000), (d(9999), 100)],
            config: Some(d(500 + n)),
            children: vec![],
            created: days.map(|x| NOW - x * DAY),
            platform: Some("linux/amd64".into()),
        }
    }

    fn repo(tags: &[(&str, u32)], manifests: Vec<(u32, Manifest)>) -> Repository {
        Repository {
            name: "app".into(),
            tags: tags.iter().map(|(t, n)| (t.to_string(), d(*n))).collect(),
            manifests: manifests.into_iter().map(|(n, m)| (d(n), m)).collect(),
        }
    }

    fn deleted(ds: &[Decision]) -> Vec<String> {
        ds.iter().flat_map(|d| d.deletes.clone()).collect()
    }

    fn three() -> Repository {
        repo(
            &[("v1", 1), ("v2", 2), ("v3", 3)],
            vec![
                (1, img(1, Some(40))),
                (2, img(2, Some(20))),
                (3, img(3, Some(1))),
            ],
        )
    }

    #[test]
    fn images_are_listed_newest_first_with_sizes_counting_each_blob_once() {
        let r = three();
        let l = images(&r);
        assert_eq!(
            l.iter().map(|i| i.tags[0].as_str()).collect::<Vec<_>>(),
            ["v3", "v2", "v1"]
        );
        assert_eq!(l[0].size, 1110);
        assert_eq!(l[0].created.as_deref(), Some(rfc3339(NOW - DAY).as_str()));
        assert_eq!(l[0].platforms, ["linux/amd64"]);
        assert_eq!(l[0].kind, Kind::Image);
    }

    #[test]
    fn keep_n_deletes_all_but_the_n_newest() {
        let p = Policy::new(Some(1), None).unwrap();
        let ds = prune(&three(), &p, NOW);
        assert_eq!(deleted(&ds), [d(2), d(1)]);
        assert!(!ds[0].delete && ds[0].reason == "among the 1 newest");
        assert_eq!(ds[1].reason, "not among the 1 newest");
        let p = Policy::new(Some(5), None).unwrap();
        assert!(deleted(&prune(&three(), &p, NOW)).is_empty());
        let p = Policy::new(Some(0), None).unwrap();
        assert_eq!(deleted(&prune(&three(), &p, NOW)).len(), 3);
    }

    #[test]
    fn older_than_deletes_by_age_alone() {
        let p = Policy::new(None, Some(30 * DAY as u64)).unwrap();
        assert_eq!(deleted(&prune(&three(), &p, NOW)), [d(1)]);
        let p = Policy::new(None, Some(10 * DAY as u64)).unwrap();
        assert_eq!(deleted(&prune(&three(), &p, NOW)), [d(2), d(1)]);
    }

    #[test]
    fn both_rules_delete_only_images_beyond_n_and_older() {
        // v2 is beyond the newest one but only 20 days old: it stays.
        let p = Policy::new(Some(1), Some(30 * DAY as u64)).unwrap();
        let ds = prune(&three(), &p, NOW);
        assert_eq!(deleted(&ds), [d(1)]);
        assert_eq!(ds[1].reason, "not older than 30d");
        assert_eq!(ds[2].reason, "not among the 1 newest and older than 30d");
        // v3 is old enough for a 0-day age but is among the newest two.
        let p = Policy::new(Some(2), Some(1)).unwrap();
        assert_eq!(deleted(&prune(&three(), &p, NOW)), [d(1)]);
    }

    #[test]
    fn an_image_without_a_creation_time_ranks_last_and_is_never_too_old() {
        let r = repo(
            &[("old", 1), ("unknown", 2), ("new", 3)],
            vec![
                (1, img(1, Some(40))),
                (2, img(2, None)),
                (3, img(3, Some(1))),
            ],
        );
        let tags: Vec<String> = images(&r).iter().map(|i| i.tags[0].clone()).collect();
        assert_eq!(tags, ["new", "old", "unknown"]);
        let p = Policy::new(None, Some(DAY as u64)).unwrap();
        let ds = prune(&r, &p, NOW);
        assert_eq!(deleted(&ds), [d(1)]);
        assert_eq!(ds[2].reason, "its config gives no creation time");
    }

    #[test]
    fn tags_sharing_a_digest_are_one_image_and_count_once() {
        let r = repo(
            &[("v1", 1), ("latest", 2), ("v2", 2)],
            vec![(1, img(1, Some(40))), (2, img(2, Some(1)))],
        );
        let p = Policy::new(Some(1), None).unwrap();
        let ds = prune(&r, &p, NOW);
        assert_eq!(ds.len(), 2);
        assert_eq!(ds[0].image.tags, ["latest", "v2"]);
        assert!(!ds[0].delete);
        assert_eq!(deleted(&ds), [d(1)]);
    }

    /// An index `n` over children `kids`, each an image manifest.
    fn index(kids: &[u32]) -> Manifest {
        Manifest {
            media_type: OCI_INDEX.into(),
            children: kids
                .iter()
                .map(|k| Child {
                    digest: d(*k),
                    platform: Some(format!("linux/arch{k}")),
                })
                .collect(),
            ..Manifest::default()
        }
    }

    #[test]
    fn an_index_and_its_children_are_one_image() {
        let r = repo(
            &[("multi", 10), ("single", 3)],
            vec![
                (10, index(&[11, 12])),
                (11, img(11, Some(50))),
                (12, img(12, Some(45))),
                (3, img(3, Some(1))),
            ],
        );
        let l = images(&r);
        assert_eq!(l.len(), 2);
        let multi = &l[1];
        assert_eq!(multi.kind, Kind::Index);
        assert_eq!(multi.platforms, ["linux/arch11", "linux/arch12"]);
        // The shared blob d(9999) counts once.
        assert_eq!(multi.size, 10 + 1000 + 10 + 1000 + 100);
        assert_eq!(multi.created_unix, Some(NOW - 45 * DAY));
        let p = Policy::new(Some(1), None).unwrap();
        let ds = prune(&r, &p, NOW);
        // Index first, then its children.
        assert_eq!(deleted(&ds), [d(10), d(11), d(12)]);
    }

    #[test]
    fn a_child_another_image_still_reaches_is_not_deleted() {
        // Index 30 goes (keep 2: index 20 and `amd64` are newer; equal times rank by digest);
        // its child 11 is tagged `amd64` itself and stays, its child 12 is in index 20 too.
        let mut newest = img(13, None);
        newest.created = Some(NOW);
        let r = repo(
            &[("old", 30), ("amd64", 11), ("other", 20)],
            vec![
                (30, index(&[11, 12])),
                (20, index(&[12, 13])),
                (11, img(11, Some(1))),
                (12, img(12, Some(50))),
                (13, newest),
            ],
        );
        let p = Policy::new(Some(2), None).unwrap();
        let ds = prune(&r, &p, NOW);
        assert_eq!(deleted(&ds), [d(30)], "{ds:#?}");
    }

    #[test]
    fn a_tagged_image_a_kept_index_contains_is_kept() {
        // `arm` is old and beyond keep 1, but the newest index contains it.
        let r = repo(
            &[("multi", 10), ("arm", 12)],
            vec![
                (10, index(&[11, 12])),
                (11, img(11, Some(1))),
                (12, img(12, Some(50))),
            ],
        );
        let p = Policy::new(Some(1), None).unwrap();
        let ds = prune(&r, &p, NOW);
        assert!(deleted(&ds).is_empty());
        assert_eq!(ds[1].reason, "part of app:multi, which stays");
    }

    #[test]
    fn a_policy_must_say_something() {
        let e = Policy::new(None, None).unwrap_err();
        assert!(crate::error::hint_of(&e).unwrap().contains("--keep"));
    }

    #[test]
    fn rm_refuses_a_shared_digest_without_all_tags() {
        let r = repo(
            &[("v1", 1), ("latest", 2), ("v2", 2)],
            vec![(1, img(1, Some(40))), (2, img(2, Some(1)))],
        );
        let refr = parse_reference("app:v2").unwrap();
        let e = rm(&r, &refr, false).unwrap_err();
        assert!(e.to_string().contains("app:latest"), "{e}");
        assert!(crate::error::hint_of(&e).unwrap().contains("--all-tags"));
        let dcs = rm(&r, &refr, true).unwrap();
        assert_eq!(dcs.deletes, [d(2)]);
        assert_eq!(dcs.image.tags, ["latest", "v2"]);
        let one = rm(&r, &parse_reference("app:v1").unwrap(), false).unwrap();
        assert_eq!(one.deletes, [d(1)]);
        // By digest the user named the image itself: every tag goes without --all-tags.
        let by_digest = rm(
            &r,
            &parse_reference(&format!("app@{}", d(2))).unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(by_digest.deletes, [d(2)]);
        let e = rm(&r, &parse_reference("app:nope").unwrap(), false).unwrap_err();
        assert!(e.to_string().contains("no such tag"), "{e}");
    }

    #[test]
    fn rm_of_an_index_takes_its_children_and_refuses_a_child_alone() {
        let r = repo(
            &[("multi", 10)],
            vec![
                (10, index(&[11, 12])),
                (11, img(11, Some(1))),
                (12, img(12, Some(1))),
            ],
        );
        let dcs = rm(&r, &parse_reference("app:multi").unwrap(), false).unwrap();
        assert_eq!(dcs.deletes, [d(10), d(11), d(12)]);
        let e = rm(
            &r,
            &parse_reference(&format!("app@{}", d(11))).unwrap(),
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("one platform of"), "{e}");
        assert!(crate::error::hint_of(&e)
            .unwrap()
            .contains("kreg rm app:multi"));
    }

    #[test]
    fn rm_of_an_image_a_kept_index_contains_is_refused() {
        let r = repo(
            &[("multi", 10), ("amd64", 11)],
            vec![(10, index(&[11])), (11, img(11, Some(1)))],
        );
        let e = rm(&r, &parse_reference("app:amd64").unwrap(), false).unwrap_err();
        assert!(e.to_string().contains("part of app:multi"), "{e}");
    }

    #[test]
    fn references() {
        assert_eq!(
            parse_reference("team/app:1.2").unwrap(),
            Reference::Tag {
                repo: "team/app".into(),
                tag: "1.2".into()
            }
        );
        let dg = format!("team/app@{}", d(7));
        assert!(matches!(
            parse_reference(&dg).unwrap(),
            Reference::Digest { .. }
        ));
        for bad in [
            "app",
            "app:",
            "App:1",
            "registry.example:5000/app:1",
            "localhost/app:1",
            "app@sha256:abc",
            "app@md5:00",
            "app:-x",
            ":1",
            "a//b:1",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d").unwrap(), 30 * 86400);
        assert_eq!(parse_age("12h").unwrap(), 12 * 3600);
        assert_eq!(parse_age("1d12h").unwrap(), 36 * 3600);
        assert_eq!(parse_age("2w").unwrap(), 14 * 86400);
        assert_eq!(parse_age("90m").unwrap(), 5400);
        for bad in [
            "",
            "3x",
            "0d",
            "-1d",
            "d",
            "1.5d",
            "99999999999999999999w",
            "30",
        ] {
            let e = parse_age(bad).unwrap_err();
            assert!(e.to_string().contains("--older-than"), "{bad}: {e}");
        }
        assert_eq!(age(30 * 86400), "30d");
        assert_eq!(age(14 * 86400), "2w");
        assert_eq!(age(5400), "90m");
        assert_eq!(age(61), "61s");
    }

    #[test]
    fn manifests_and_configs_are_read() {
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
            {"mediaType":"application/vnd.in-toto+json","digest":"sha256:att","size":1}]}"#;
        let m = parse_manifest(index, None).unwrap();
        assert!(m.is_index());
        assert_eq!(
            m.children,
            [Child {
                digest: "sha256:a".into(),
                platform: Some("linux/arm64/v8".into())
            }]
        );
        let image = br#"{"schemaVersion":2,"config":{"digest":"sha256:c","size":5},"layers":[{"digest":"sha256:l","size":7}]}"#;
        let mut m = parse_manifest(
            image,
            Some("application/vnd.docker.distribution.manifest.v2+json"),
        )
        .unwrap();
        assert_eq!(m.media_type, DOCKER_MANIFEST);
        assert_eq!(m.blobs, [("sha256:c".into(), 5), ("sha256:l".into(), 7)]);
        assert_eq!(m.config.as_deref(), Some("sha256:c"));
        read_config(
            &mut m,
            br#"{"created":"2027-01-15T08:00:00.123456789Z","os":"linux","architecture":"amd64"}"#,
        );
        assert_eq!(
            m.created.map(rfc3339).as_deref(),
            Some("2027-01-15T08:00:00Z")
        );
        assert_eq!(m.platform.as_deref(), Some("linux/amd64"));
        let mut m2 = m.clone();
        read_config(&mut m2, b"not json");
        assert_eq!(m2, m, "an unreadable config changes nothing");
        assert!(parse_manifest(b"<html>", None).is_err());
    }
}

//! Images as files, for `kreg push`: reads a docker-save tarball, an OCI layout directory or an
//! OCI archive (a tar of a layout) into what a registry push needs — the blobs to upload, where
//! their bytes are, and the manifests to PUT — and verifies every digest and size on the way.
//!
//! Nothing here talks to a network. Layers are never loaded into memory: a blob is an
//! [`Extent`] (a byte range of a file: a whole file in a directory, an entry inside a tar), which
//! the registry client streams. Only manifests, indexes and `manifest.json`/`index.json` are read
//! whole, with a size cap.
//!
//! A docker-save tarball (`manifest.json` + config + layer tars) carries no registry manifest:
//! one is built (OCI image manifest; layers keep their bytes, so the config's diff_ids still
//! match). Newer docker (25+) writes an OCI layout into its tarball as well; the layout is
//! preferred then, so the pushed digest is the one docker computed.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::hint;

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub(crate) const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub(crate) const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub(crate) const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Manifests, indexes and the archive's own JSON files are small; a cap keeps a hostile file
/// from being read into memory whole.
const JSON_MAX: u64 = 16 << 20;

/// What kind of file the image came in, for messages and `-o json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    DockerArchive,
    OciLayout,
    OciArchive,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::DockerArchive => "docker archive",
            Format::OciLayout => "OCI layout",
            Format::OciArchive => "OCI archive",
        })
    }
}

/// A byte range of a file: where a blob's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
}

impl Extent {
    /// A reader over exactly this range.
    pub fn open(&self) -> Result<impl Read> {
        let mut f =
            File::open(&self.path).with_context(|| format!("opening {}", self.path.display()))?;
        f.seek(SeekFrom::Start(self.offset))?;
        Ok(f.take(self.len))
    }

    fn read_small(&self, what: &str) -> Result<Vec<u8>> {
        if self.len > JSON_MAX {
            bail!("{what} is {} bytes, more than a manifest can be", self.len);
        }
        let mut buf = Vec::with_capacity(self.len as usize);
        self.open()?.read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// `sha256:<hex>` of the range's bytes, read in chunks.
    pub fn sha256(&self) -> Result<String> {
        let mut r = self.open()?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 << 10];
        let mut total = 0u64;
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
            h.update(&buf[..n]);
        }
        if total != self.len {
            bail!(
                "{} ended after {total} of {} bytes (truncated file?)",
                self.path.display(),
                self.len
            );
        }
        Ok(format!("sha256:{:x}", h.finalize()))
    }
}

/// A blob to upload: a config or a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
    pub at: Extent,
}

/// A manifest or index to PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// An image read from files, every digest verified: upload `blobs`, then PUT `manifests` in
/// order (children before the index that lists them); the last one gets the tag.
#[derive(Debug)]
pub struct Image {
    pub format: Format,
    /// `(repository, tag)` named inside the file, registry host stripped.
    pub name: Option<(String, String)>,
    pub blobs: Vec<Blob>,
    pub manifests: Vec<Manifest>,
    /// Things the user should know (e.g. only one platform of an index was in the file).
    pub notes: Vec<String>,
}

impl Image {
    /// The manifest the tag points at.
    pub fn top(&self) -> &Manifest {
        self.manifests.last().expect("an image has a manifest")
    }

    pub(crate) fn blob_bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }
}

/// The `sha256:<hex>` digest of bytes.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Reads an image from `path`: a directory holding an OCI layout, or a tar file holding an OCI
/// layout or a docker-save image. Verifies every blob before returning, so a damaged file is
/// refused before anything is uploaded.
pub fn open(path: &Path) -> Result<Image> {
    let meta = std::fs::metadata(path).map_err(|e| {
        hint(
            format!("cannot read {}: {e}", path.display()),
            "give a docker-save tarball, an OCI archive or an OCI layout directory",
        )
    })?;
    let files = if meta.is_dir() {
        refuse_escaping_links(path)?;
        Files::Dir(path.to_path_buf())
    } else {
        Files::tar(path)?
    };
    let mut image = if files.exists("index.json") && files.exists("oci-layout") {
        let format = if meta.is_dir() {
            Format::OciLayout
        } else {
            Format::OciArchive
        };
        read_layout(&files, format)?
    } else if files.exists("manifest.json") {
        read_docker_archive(&files)?
    } else {
        return Err(hint(
            format!(
                "{} is not an image: it has neither an OCI layout (oci-layout, index.json) nor a docker-save manifest.json",
                path.display()
            ),
            "make one with `docker save IMAGE -o image.tar`, `skopeo copy ... oci-archive:image.tar` or `skopeo copy ... oci:DIR`",
        ));
    };
    // A docker-save image's digests were just computed from the bytes; layouts state theirs.
    let stated = image.format != Format::DockerArchive;
    for b in image.blobs.iter().filter(|_| stated) {
        let got =
            b.at.sha256()
                .with_context(|| format!("reading blob {}", b.digest))?;
        if got != b.digest {
            bail!(
                "blob {} is damaged: its content hashes to {got}; the file is corrupt or was modified",
                b.digest
            );
        }
    }
    image.blobs.sort_by(|a, b| a.digest.cmp(&b.digest));
    image.blobs.dedup_by(|a, b| a.digest == b.digest);
    Ok(image)
}

/// Most layers (and manifests of an index) one image may list: real images have tens
/// (overlayfs stacks at most 128); a file that lists more is refused instead of read.
pub(crate) const MAX_DESCRIPTORS: usize = 1000;

/// A directory image must not reach outside itself: a symlink whose target resolves outside
/// `root` (or nowhere) is refused, so a crafted folder cannot make `push` upload any file the
/// user can read. Links that stay inside are fine.
fn refuse_escaping_links(root: &Path) -> Result<()> {
    let base = root
        .canonicalize()
        .with_context(|| format!("reading {}", root.display()))?;
    let mut todo = vec![(root.to_path_buf(), 0u32)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = todo.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            seen += 1;
            if seen > 100_000 {
                bail!(
                    "{} holds more than 100000 files: not an image layout",
                    root.display()
                );
            }
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                let inside = path.canonicalize().is_ok_and(|t| t.starts_with(&base));
                if !inside {
                    return Err(hint(
                        format!(
                            "{} is a symbolic link that leads outside {}",
                            path.display(),
                            root.display()
                        ),
                        "kreg push reads only files inside the directory it is given: copy the file in, or use `skopeo copy ... oci:DIR` to write a plain layout",
                    ));
                }
            } else if kind.is_dir() && depth < 16 {
                todo.push((path, depth + 1));
            }
        }
    }
    Ok(())
}

/// The files of a layout or archive, by path relative to its root.
enum Files {
    Dir(PathBuf),
    /// A tar file and where each regular file's bytes are in it.
    Tar(PathBuf, HashMap<String, (u64, u64)>),
}

impl Files {
    fn tar(path: &Path) -> Result<Files> {
        let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut magic = [0u8; 4];
        let n = f.read(&mut magic)?;
        if n >= 2 && magic[..2] == [0x1f, 0x8b] {
            return Err(hint(
                format!("{} is gzip-compressed", path.display()),
                "decompress it first (gunzip, or `docker save` without `| gzip`): kreg streams layers straight from the tar",
            ));
        }
        f.seek(SeekFrom::Start(0))?;
        let not_tar = |e: std::io::Error| {
            use std::io::ErrorKind::{InvalidData, Other, UnexpectedEof};
            // The tar reader's parse errors quote header bytes, i.e. the file's content: not
            // something to echo to a terminal.
            let why = match e.kind() {
                InvalidData | Other | UnexpectedEof => String::new(),
                _ => format!(": {e}"),
            };
            hint(
                format!(
                    "{} is not a tar archive or an image directory{why}",
                    path.display()
                ),
                "give a docker-save tarball, an OCI archive or an OCI layout directory",
            )
        };
        let mut archive = tar::Archive::new(f);
        let mut index = HashMap::new();
        for entry in archive.entries().map_err(not_tar)? {
            let entry = entry.map_err(not_tar)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().map_err(not_tar)?;
            let name = normalize(&name.to_string_lossy());
            index.insert(name, (entry.raw_file_position(), entry.size()));
        }
        if index.is_empty() {
            return Err(not_tar(std::io::Error::other("no files in it")));
        }
        Ok(Files::Tar(path.to_path_buf(), index))
    }

    fn exists(&self, name: &str) -> bool {
        self.extent(name).is_some()
    }

    /// Where the file `name` is; `None` when absent or when the name tries to leave the root.
    fn extent(&self, name: &str) -> Option<Extent> {
        let name = normalize(name);
        if name.is_empty() || name.split('/').any(|c| c == ".." || c.is_empty()) {
            return None;
        }
        match self {
            Files::Dir(root) => {
                // Links may be on the way: what is read must still be inside the root.
                let path = root.join(&name).canonicalize().ok()?;
                if !path.starts_with(root.canonicalize().ok()?) {
                    return None;
                }
                let meta = std::fs::metadata(&path).ok()?;
                meta.is_file().then_some(Extent {
                    path,
                    offset: 0,
                    len: meta.len(),
                })
            }
            Files::Tar(path, index) => index.get(&name).map(|&(offset, len)| Extent {
                path: path.clone(),
                offset,
                len,
            }),
        }
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let e = self
            .extent(name)
            .ok_or_else(|| anyhow!("{name} is missing"))?;
        serde_json::from_slice(&e.read_small(name)?)
            .with_context(|| format!("{name} is not valid JSON of the expected shape"))
    }
}

fn normalize(name: &str) -> String {
    let mut n = name.trim_start_matches("./");
    while let Some(rest) = n.strip_prefix('/') {
        n = rest;
    }
    n.to_string()
}

/// An OCI descriptor (also docker's, which has the same shape).
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// An index or a manifest: whichever fields the document has.
#[derive(Debug, Deserialize)]
struct Document {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// The path of a blob in a layout, refusing digests that are not `sha256:<64 hex>` (a digest
/// from the file is input: it must not become `../` in a path).
fn blob_path(digest: &str) -> Result<String> {
    match digest.split_once(':') {
        Some(("sha256", hex))
            if hex.len() == 64
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) =>
        {
            Ok(format!("blobs/sha256/{hex}"))
        }
        Some(("sha512", _)) => bail!("digest {digest}: only sha256 blobs are supported"),
        _ => bail!("{digest:?} is not a sha256 digest"),
    }
}

fn read_layout(files: &Files, format: Format) -> Result<Image> {
    let index: Document = files.read_json("index.json")?;
    let entries = index.manifests.unwrap_or_default();
    let top = match entries.as_slice() {
        [] => bail!("index.json lists no image"),
        [one] => one.clone(),
        many => {
            let names: Vec<String> = many.iter().map(entry_label).collect();
            return Err(hint(
                format!(
                    "the layout holds {} images ({}); kreg pushes one",
                    many.len(),
                    names.join(", ")
                ),
                "copy the one you want into its own layout: skopeo copy oci:DIR:REF oci:NEWDIR:REF",
            ));
        }
    };
    let name = image_name_from(&top.annotations);
    let mut image = Image {
        format,
        name,
        blobs: Vec::new(),
        manifests: Vec::new(),
        notes: Vec::new(),
    };
    walk(files, &top, &mut image, 0)?;
    Ok(image)
}

fn entry_label(d: &Descriptor) -> String {
    d.annotations
        .get("io.containerd.image.name")
        .or_else(|| d.annotations.get("org.opencontainers.image.ref.name"))
        .cloned()
        .unwrap_or_else(|| d.digest.clone())
}

/// Reads the manifest or index `d` points at, verifies it, and collects what it needs
/// (children first). An index whose children are only partly in the file (docker saves one
/// platform of a multi-platform image) is replaced by its one present child.
fn walk(files: &Files, d: &Descriptor, image: &mut Image, depth: u32) -> Result<()> {
    if depth > 2 {
        bail!("index nesting deeper than 2 levels is not supported");
    }
    let bytes = read_verified(files, d, "manifest")?;
    let doc: Document = serde_json::from_slice(&bytes)
        .with_context(|| format!("manifest {} is not valid JSON", d.digest))?;
    let media_type = doc
        .media_type
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| d.media_type.clone());
    match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => {
            let children = doc.manifests.unwrap_or_default();
            if children.len() > MAX_DESCRIPTORS {
                bail!(
                    "index {} lists {} manifests, more than the {MAX_DESCRIPTORS} kreg reads",
                    d.digest,
                    children.len()
                );
            }
            let present: Vec<&Descriptor> = children
                .iter()
                .filter(|c| blob_path(&c.digest).is_ok_and(|p| files.exists(&p)))
                .collect();
            if present.len() == children.len() && !children.is_empty() {
                for c in &children {
                    walk(files, c, image, depth + 1)?;
                }
            } else if present.len() == 1 {
                image.notes.push(format!(
                    "the file holds 1 of the {} platforms of the index {}: pushing that platform's manifest",
                    children.len(),
                    d.digest
                ));
                return walk(files, present[0], image, depth + 1);
            } else {
                bail!(
                    "index {} lists {} manifests but the file holds {} of them",
                    d.digest,
                    children.len(),
                    present.len()
                );
            }
        }
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let config = doc
                .config
                .ok_or_else(|| anyhow!("manifest {} has no config", d.digest))?;
            let layers = doc.layers.as_deref().unwrap_or_default();
            if layers.len() > MAX_DESCRIPTORS {
                bail!(
                    "manifest {} lists {} layers, more than the {MAX_DESCRIPTORS} kreg reads",
                    d.digest,
                    layers.len()
                );
            }
            for blob in std::iter::once(&config).chain(layers) {
                // A blob listed again (here or by another manifest) is read and counted once.
                if image.blobs.iter().any(|b| b.digest == blob.digest) {
                    continue;
                }
                let path = blob_path(&blob.digest)?;
                let at = files.extent(&path).ok_or_else(|| {
                    anyhow!(
                        "blob {} of manifest {} is missing from the file",
                        blob.digest,
                        d.digest
                    )
                })?;
                if at.len != blob.size {
                    bail!(
                        "blob {} is {} bytes but its manifest says {}",
                        blob.digest,
                        at.len,
                        blob.size
                    );
                }
                image.blobs.push(Blob {
                    digest: blob.digest.clone(),
                    size: blob.size,
                    at,
                });
            }
        }
        other => bail!(
            "manifest {} has media type {other:?}; kreg pushes OCI and docker schema 2 images",
            d.digest
        ),
    }
    if !image.manifests.iter().any(|m| m.digest == d.digest) {
        image.manifests.push(Manifest {
            digest: d.digest.clone(),
            media_type,
            bytes,
        });
    }
    Ok(())
}

fn read_verified(files: &Files, d: &Descriptor, what: &str) -> Result<Vec<u8>> {
    let path = blob_path(&d.digest)?;
    let at = files
        .extent(&path)
        .ok_or_else(|| anyhow!("{what} {} is missing from the file", d.digest))?;
    let bytes = at.read_small(what)?;
    let got = sha256_digest(&bytes);
    if got != d.digest || bytes.len() as u64 != d.size {
        bail!(
            "{what} {} is damaged: its content hashes to {got} ({} bytes, {} expected)",
            d.digest,
            bytes.len(),
            d.size
        );
    }
    Ok(bytes)
}

/// One image of a docker-save `manifest.json`.
#[derive(Debug, Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// The registry manifest kreg writes for a docker-save image.
#[derive(Debug, Serialize)]
struct OciManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

fn read_docker_archive(files: &Files) -> Result<Image> {
    let entries: Vec<SaveEntry> = files.read_json("manifest.json")?;
    let entry = match entries.as_slice() {
        [] => bail!("manifest.json lists no image"),
        [_] => entries.into_iter().next().expect("one entry"),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|e| {
                    e.repo_tags
                        .as_ref()
                        .and_then(|t| t.first().cloned())
                        .unwrap_or_else(|| e.config.clone())
                })
                .collect();
            return Err(hint(
                format!(
                    "the archive holds {} images ({}); kreg pushes one",
                    many.len(),
                    names.join(", ")
                ),
                "save one image per file: docker save IMAGE -o image.tar",
            ));
        }
    };
    if entry.layers.len() > MAX_DESCRIPTORS {
        bail!(
            "manifest.json lists {} layers, more than the {MAX_DESCRIPTORS} kreg reads",
            entry.layers.len()
        );
    }
    let mut blobs: Vec<Blob> = Vec::new();
    let mut seen: HashMap<String, Descriptor> = HashMap::new();
    let mut describe = |name: &str, media_type: &str| -> Result<Descriptor> {
        // A file listed again is hashed and uploaded once; the manifest still lists it twice.
        if let Some(d) = seen.get(name) {
            return Ok(d.clone());
        }
        let at = files.extent(name).ok_or_else(|| {
            anyhow!("{name}, listed in manifest.json, is missing from the archive")
        })?;
        let digest = at.sha256()?;
        let media_type = if media_type.is_empty() {
            layer_media_type(&at)?
        } else {
            media_type.to_string()
        };
        let d = Descriptor {
            media_type,
            digest: digest.clone(),
            size: at.len,
            annotations: BTreeMap::new(),
        };
        if !blobs.iter().any(|b| b.digest == digest) {
            blobs.push(Blob {
                digest,
                size: at.len,
                at,
            });
        }
        seen.insert(name.to_string(), d.clone());
        Ok(d)
    };
    let config = describe(&entry.config, OCI_CONFIG)?;
    let layers = entry
        .layers
        .iter()
        .map(|l| describe(l, ""))
        .collect::<Result<Vec<_>>>()?;
    let bytes = serde_json::to_vec(&OciManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST,
        config,
        layers,
    })?;
    let name = entry
        .repo_tags
        .iter()
        .flatten()
        .find_map(|t| strip_registry(t));
    Ok(Image {
        format: Format::DockerArchive,
        name,
        blobs,
        manifests: vec![Manifest {
            digest: sha256_digest(&bytes),
            media_type: OCI_MANIFEST.into(),
            bytes,
        }],
        notes: Vec::new(),
    })
}

/// A layer's media type from its first bytes: docker save writes plain tars, but a layer
/// that kept its compression keeps its digest only if it is declared as such.
fn layer_media_type(at: &Extent) -> Result<String> {
    let mut magic = [0u8; 4];
    let n = at.open()?.read(&mut magic)?;
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => OCI_LAYER_GZIP,
        [0x28, 0xb5, 0x2f, 0xfd] => OCI_LAYER_ZSTD,
        _ => OCI_LAYER,
    }
    .to_string())
}

/// The name an OCI layout gives its image: containerd's full name, else a ref.name that is a
/// whole reference (skopeo's `oci:DIR:TAG` stores only a tag there, which names no repository).
fn image_name_from(annotations: &BTreeMap<String, String>) -> Option<(String, String)> {
    if let Some(n) = annotations.get("io.containerd.image.name") {
        if let Some(found) = strip_registry(n) {
            return Some(found);
        }
    }
    annotations
        .get("org.opencontainers.image.ref.name")
        .filter(|r| r.contains(['/', ':']))
        .and_then(|r| strip_registry(r))
}

/// `docker.io/library/app:1` → `(app, 1)`; `reg.example:5000/team/app` → `(team/app, latest)`.
/// `None` when it is not a valid reference or pins a digest only.
pub(crate) fn strip_registry(reference: &str) -> Option<(String, String)> {
    let parts = crate::validate::image_parts(reference).ok()?;
    let path = match (parts.domain, parts.path.strip_prefix("library/")) {
        (None | Some("docker.io"), Some(short)) if !short.contains('/') => short,
        _ => parts.path,
    };
    Some((path.to_string(), parts.tag.unwrap_or("latest").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a tar from (name, bytes) pairs.
    fn tar_of(path: &Path, files: &[(&str, Vec<u8>)]) {
        let mut b = tar::Builder::new(File::create(path).unwrap());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        b.finish().unwrap();
    }

    fn hex(d: &str) -> &str {
        d.strip_prefix("sha256:").unwrap()
    }

    /// An OCI layout's files: one manifest, a config, one layer; ref annotations given.
    fn layout(annotations: &str) -> (Vec<(String, Vec<u8>)>, String) {
        let layer = b"pretend layer tar".to_vec();
        let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
        let (ld, cd) = (sha256_digest(&layer), sha256_digest(&config));
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{cd}","size":{}}},"layers":[{{"mediaType":"{OCI_LAYER}","digest":"{ld}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        )
        .into_bytes();
        let md = sha256_digest(&manifest);
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{md}","size":{},"annotations":{annotations}}}]}}"#,
            manifest.len()
        );
        (
            vec![
                (
                    "oci-layout".into(),
                    br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
                ),
                ("index.json".into(), index.into_bytes()),
                (format!("blobs/sha256/{}", hex(&md)), manifest),
                (format!("blobs/sha256/{}", hex(&cd)), config),
                (format!("blobs/sha256/{}", hex(&ld)), layer),
            ],
            md,
        )
    }

    fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) {
        for (name, data) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
    }

    fn as_refs(files: &[(String, Vec<u8>)]) -> Vec<(&str, Vec<u8>)> {
        files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect()
    }

    #[test]
    fn an_oci_archive_keeps_its_manifest_and_name() {
        let t = tempfile::tempdir().unwrap();
        let (files, md) = layout(
            r#"{"io.containerd.image.name":"docker.io/kreg-test/hello:1","org.opencontainers.image.ref.name":"1"}"#,
        );
        let tarball = t.path().join("img.tar");
        tar_of(&tarball, &as_refs(&files));
        let img = open(&tarball).unwrap();
        assert_eq!(img.format, Format::OciArchive);
        assert_eq!(img.name, Some(("kreg-test/hello".into(), "1".into())));
        assert_eq!(img.top().digest, md);
        assert_eq!(img.top().media_type, OCI_MANIFEST);
        assert_eq!(img.blobs.len(), 2);
        // Every extent reads back exactly the blob's bytes.
        for b in &img.blobs {
            assert_eq!(b.at.sha256().unwrap(), b.digest);
        }
    }

    #[test]
    fn an_oci_directory_with_a_tag_only_ref_has_no_name() {
        let t = tempfile::tempdir().unwrap();
        let (files, md) = layout(r#"{"org.opencontainers.image.ref.name":"2"}"#);
        write_dir(t.path(), &files);
        let img = open(t.path()).unwrap();
        assert_eq!(img.format, Format::OciLayout);
        assert_eq!(img.name, None);
        assert_eq!(img.top().digest, md);
        let (files, _) = layout(r#"{"org.opencontainers.image.ref.name":"team/app:2"}"#);
        let t2 = tempfile::tempdir().unwrap();
        write_dir(t2.path(), &files);
        assert_eq!(
            open(t2.path()).unwrap().name,
            Some(("team/app".into(), "2".into()))
        );
    }

    #[test]
    fn a_docker_save_tarball_gets_an_oci_manifest() {
        let t = tempfile::tempdir().unwrap();
        let config = br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
        let layer = b"plain layer".to_vec();
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(b"pretend gzip");
        let manifest_json = br#"[{"Config":"abc.json","RepoTags":["registry.example.com:5000/team/app:3"],"Layers":["l1/layer.tar","l2/layer.tar","l1/layer.tar"]}]"#.to_vec();
        let tarball = t.path().join("save.tar");
        tar_of(
            &tarball,
            &[
                ("manifest.json", manifest_json),
                ("abc.json", config.clone()),
                ("l1/layer.tar", layer.clone()),
                ("l2/layer.tar", gz.clone()),
            ],
        );
        let img = open(&tarball).unwrap();
        assert_eq!(img.format, Format::DockerArchive);
        assert_eq!(img.name, Some(("team/app".into(), "3".into())));
        // The repeated layer is uploaded once.
        assert_eq!(img.blobs.len(), 3);
        let m: serde_json::Value = serde_json::from_slice(&img.top().bytes).unwrap();
        assert_eq!(img.top().digest, sha256_digest(&img.top().bytes));
        assert_eq!(m["mediaType"], OCI_MANIFEST);
        assert_eq!(m["config"]["digest"], sha256_digest(&config));
        assert_eq!(m["config"]["mediaType"], OCI_CONFIG);
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 3);
        assert_eq!(layers[0]["mediaType"], OCI_LAYER);
        assert_eq!(layers[0]["digest"], sha256_digest(&layer));
        assert_eq!(layers[1]["mediaType"], OCI_LAYER_GZIP);
        assert_eq!(layers[1]["size"], gz.len());
    }

    #[test]
    fn a_directory_never_leads_outside_itself() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"the user's private key").unwrap();
        // A docker-save folder whose layer directory is a link out of it.
        let t = tempfile::tempdir().unwrap();
        write_dir(
            t.path(),
            &[
                (
                    "manifest.json".into(),
                    br#"[{"Config":"c.json","RepoTags":["app:1"],"Layers":["l1/secret"]}]"#
                        .to_vec(),
                ),
                ("c.json".into(), b"{}".to_vec()),
            ],
        );
        std::os::unix::fs::symlink(outside.path(), t.path().join("l1")).unwrap();
        let e = open(t.path()).unwrap_err();
        assert!(e.to_string().contains("leads outside"), "{e}");
        assert!(crate::error::hint_of(&e)
            .unwrap()
            .contains("only files inside"));
        // The same file reached through a link to a file is refused too.
        std::fs::remove_file(t.path().join("l1")).unwrap();
        std::fs::create_dir(t.path().join("l1")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), t.path().join("l1/secret"))
            .unwrap();
        assert!(open(t.path())
            .unwrap_err()
            .to_string()
            .contains("leads outside"));
        // A link that stays inside is fine.
        std::fs::remove_file(t.path().join("l1/secret")).unwrap();
        std::fs::write(t.path().join("layer.tar"), b"plain layer").unwrap();
        std::os::unix::fs::symlink(t.path().join("layer.tar"), t.path().join("l1/secret")).unwrap();
        assert_eq!(open(t.path()).unwrap().blobs.len(), 2);
    }

    #[test]
    fn repeated_descriptors_are_read_once_and_capped() {
        let t = tempfile::tempdir().unwrap();
        let (mut files, _) = layout("{}");
        // Rewrite the manifest to list its one layer 500 times.
        let (md_at, manifest) = files
            .iter()
            .enumerate()
            .find(|(_, (n, d))| n.starts_with("blobs/") && d.starts_with(b"{\"schemaVersion\""))
            .map(|(i, (_, d))| (i, d.clone()))
            .unwrap();
        let mut m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let layer = m["layers"][0].clone();
        let repeat = |n: usize| serde_json::Value::Array(vec![layer.clone(); n]);
        let mut with = |n: usize, files: &mut Vec<(String, Vec<u8>)>| {
            m["layers"] = repeat(n);
            let bytes = serde_json::to_vec(&m).unwrap();
            let md = sha256_digest(&bytes);
            files[md_at] = (format!("blobs/sha256/{}", hex(&md)), bytes.clone());
            let index = format!(
                r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{md}","size":{}}}]}}"#,
                bytes.len()
            );
            let i = files.iter().position(|(n, _)| n == "index.json").unwrap();
            files[i] = ("index.json".into(), index.into_bytes());
        };
        with(500, &mut files);
        let dir = t.path().join("many");
        write_dir(&dir, &files);
        let img = open(&dir).unwrap();
        assert_eq!(img.blobs.len(), 2, "config and the one layer, once each");

        with(MAX_DESCRIPTORS + 1, &mut files);
        let dir = t.path().join("too-many");
        write_dir(&dir, &files);
        let e = open(&dir).unwrap_err();
        assert!(e.to_string().contains("more than the 1000"), "{e:#}");
    }

    #[test]
    fn a_newer_docker_save_is_read_through_its_oci_layout() {
        let t = tempfile::tempdir().unwrap();
        let (mut files, md) = layout(r#"{"io.containerd.image.name":"docker.io/library/app:7"}"#);
        files.push(("manifest.json".into(), b"[]".to_vec()));
        let tarball = t.path().join("docker25.tar");
        tar_of(&tarball, &as_refs(&files));
        let img = open(&tarball).unwrap();
        assert_eq!(img.top().digest, md, "docker's own manifest is pushed");
        assert_eq!(img.name, Some(("app".into(), "7".into())));
    }

    /// Puts an index over the layout's manifest and a second platform's manifest (same blobs)
    /// at the top of the layout; the second manifest is written only if `both`. Returns the
    /// digests of the second manifest and of the index.
    fn with_index(files: &mut Vec<(String, Vec<u8>)>, md: &str, both: bool) -> (String, String) {
        let first = files[2].1.clone();
        let mut other: serde_json::Value = serde_json::from_slice(&first).unwrap();
        other["annotations"] = serde_json::json!({"platform": "arm64"});
        let other = serde_json::to_vec(&other).unwrap();
        let od = sha256_digest(&other);
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{md}","size":{}}},{{"mediaType":"{OCI_MANIFEST}","digest":"{od}","size":{}}}]}}"#,
            first.len(),
            other.len()
        )
        .into_bytes();
        let id = sha256_digest(&index);
        files[1].1 = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_INDEX}","digest":"{id}","size":{}}}]}}"#,
            index.len()
        )
        .into_bytes();
        files.push((format!("blobs/sha256/{}", hex(&id)), index));
        if both {
            files.push((format!("blobs/sha256/{}", hex(&od)), other));
        }
        (od, id)
    }

    #[test]
    fn an_index_with_one_platform_in_the_file_pushes_that_platform() {
        let t = tempfile::tempdir().unwrap();
        let (mut files, md) = layout("{}");
        with_index(&mut files, &md, false);
        write_dir(t.path(), &files);
        let img = open(t.path()).unwrap();
        assert_eq!(img.top().digest, md);
        assert_eq!(img.manifests.len(), 1);
        assert!(
            img.notes[0].contains("1 of the 2 platforms"),
            "{:?}",
            img.notes
        );
    }

    #[test]
    fn a_complete_index_is_pushed_after_its_manifests() {
        let t = tempfile::tempdir().unwrap();
        let (mut files, md) = layout("{}");
        let (od, id) = with_index(&mut files, &md, true);
        write_dir(t.path(), &files);
        let img = open(t.path()).unwrap();
        let order: Vec<&str> = img.manifests.iter().map(|m| m.digest.as_str()).collect();
        assert_eq!(order, [md.as_str(), od.as_str(), id.as_str()]);
        assert_eq!(img.top().media_type, OCI_INDEX);
        assert_eq!(img.blobs.len(), 2, "shared blobs are uploaded once");
    }

    #[test]
    fn a_damaged_blob_is_refused_before_any_upload() {
        let t = tempfile::tempdir().unwrap();
        let (files, _) = layout("{}");
        write_dir(t.path(), &files);
        // Same size, different bytes: only the digest can tell.
        let layer = files.last().unwrap();
        std::fs::write(t.path().join(&layer.0), b"pretend layer taR").unwrap();
        let e = open(t.path()).unwrap_err().to_string();
        assert!(e.contains("damaged"), "{e}");
    }

    #[test]
    fn not_an_image_says_what_is() {
        let t = tempfile::tempdir().unwrap();
        let e = open(t.path()).unwrap_err();
        assert!(e.to_string().contains("is not an image"), "{e}");
        let junk = t.path().join("junk.tar");
        std::fs::write(&junk, b"hello, not a tar").unwrap();
        let e = open(&junk).unwrap_err();
        assert!(e.to_string().contains("not a tar archive"), "{e:#}");
        let gz = t.path().join("img.tar.gz");
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
        assert!(open(&gz).unwrap_err().to_string().contains("gzip"));
        let e = open(&t.path().join("absent.tar")).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn digests_from_the_file_never_become_paths_outside_it() {
        assert!(blob_path("sha256:../../etc/passwd").is_err());
        assert!(blob_path(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(blob_path(&format!("sha256:{}", "a".repeat(64))).is_ok());
        let files = Files::Dir(PathBuf::from("/"));
        assert!(files.extent("../etc/passwd").is_none());
        assert!(files.extent("a//b").is_none());
    }

    #[test]
    fn registry_hosts_are_stripped_from_names() {
        for (given, repo, tag) in [
            ("docker.io/library/alpine:3", "alpine", "3"),
            ("library/alpine", "alpine", "latest"),
            ("docker.io/kreg-test/hello:1", "kreg-test/hello", "1"),
            ("localhost:5000/a/b:c", "a/b", "c"),
            ("ghcr.io/library/x/y:1", "library/x/y", "1"),
        ] {
            assert_eq!(
                strip_registry(given),
                Some((repo.to_string(), tag.to_string())),
                "{given}"
            );
        }
        assert_eq!(strip_registry("Not A Name"), None);
    }
}

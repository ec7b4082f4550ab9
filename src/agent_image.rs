//! kreg's own image: the node agent (and, with `--auth`, the registry gate and the scheduled
//! prune) is this very executable, so `kreg up` needs no outside registry to get it.
//!
//! This module owns where that image comes from ([`Source`], chosen by [`choose`]) and how it is
//! made from the running executable ([`build`]): one uncompressed layer holding the binary at
//! `/usr/local/bin/kreg`, the shared libraries the process has mapped (glibc, libgcc_s, the
//! loader at the path the ELF header names), `/etc/passwd` and `/etc/group`, written with fixed
//! owners, modes and timestamps in sorted order: the same executable on the same machine always
//! gives the same digest. [`Built::archive`] writes it as an OCI archive (`make dist`, and
//! `--agent-image-archive` reads such a file back through [`crate::image::open`]).
//!
//! The pure parts (ELF interpreter, `/proc/self/maps`, the layer and manifests, the choice) are
//! unit-tested; [`build`] is the one edge that reads local files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::error::hint;
use crate::image::{sha256_digest, Manifest, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST};

/// The repository kreg's image gets in kreg's registries.
pub const REPO: &str = "kreg/agent";

/// Where the node agent's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--agent-image` / `KREG_AGENT_IMAGE`, or the reference a release build was made with:
    /// the nodes pull it from wherever it is; nothing is bootstrapped.
    Reference(String),
    /// `--agent-image-archive FILE`: an OCI archive, pushed through the bootstrap.
    Archive(PathBuf),
    /// This executable, pushed through the bootstrap.
    SelfBuilt,
}

/// What [`choose`] is told about this build and the command line.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub flag: Option<String>,
    pub archive: Option<PathBuf>,
    /// `option_env!("KREG_DEFAULT_AGENT_IMAGE")` of this build.
    pub baked: Option<String>,
    /// The OCI architecture of this executable when it can run on Linux nodes
    /// ([`self_platform`]), else `None` (a macOS or Windows kreg).
    pub self_arch: Option<&'static str>,
}

/// The source, in order: an explicit reference, an explicit archive, this executable when it is
/// a Linux binary (no registry needed, same version as the CLI, works air-gapped), then the
/// reference baked into a release build (a macOS or Windows kreg cannot ship itself).
/// `None`: there is nothing to run the agent from.
pub fn choose(i: &Inputs) -> Option<Source> {
    if let Some(r) = &i.flag {
        return Some(Source::Reference(r.clone()));
    }
    if let Some(a) = &i.archive {
        return Some(Source::Archive(a.clone()));
    }
    if i.self_arch.is_some() {
        return Some(Source::SelfBuilt);
    }
    i.baked.clone().map(Source::Reference)
}

/// The OCI architecture name of a Rust target architecture.
pub fn oci_arch(rust_arch: &str, little_endian: bool) -> Option<&'static str> {
    Some(match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" if little_endian => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        _ => return None,
    })
}

/// This executable's OCI architecture, when it is a Linux binary the nodes could run.
pub fn self_platform() -> Option<&'static str> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    oci_arch(std::env::consts::ARCH, cfg!(target_endian = "little"))
}

/// The nodes (name, architecture) an image of `arch` cannot run on: an error naming them and
/// what to pass instead.
pub fn check_nodes(arch: &str, nodes: &[(String, String)]) -> Result<()> {
    let other: Vec<String> = nodes
        .iter()
        .filter(|(_, a)| !a.is_empty() && a != arch)
        .map(|(n, a)| format!("{n} ({a})"))
        .collect();
    if other.is_empty() {
        return Ok(());
    }
    Err(hint(
        format!(
            "kreg's node agent is built from this kreg, a linux/{arch} binary, and cannot run on {}; nothing was changed",
            other.join(", ")
        ),
        "pass --agent-image-archive FILE with a multi-architecture archive of kreg's image (a release's kreg-agent-image.tar), or --agent-image IMAGE@sha256:DIGEST from a registry the nodes reach",
    ))
}

/// The path of the program interpreter (`PT_INTERP`) a 64-bit little-endian ELF executable
/// names; `None` for a static binary. Errors for anything that is not such an ELF file.
pub fn elf_interpreter(elf: &[u8]) -> Result<Option<String>> {
    let u16_at =
        |o: usize| -> Option<u16> { Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?)) };
    let u32_at =
        |o: usize| -> Option<u32> { Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?)) };
    let u64_at =
        |o: usize| -> Option<u64> { Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?)) };
    if elf.get(0..4) != Some(b"\x7fELF") {
        bail!("not an ELF file");
    }
    if elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        bail!("not a 64-bit little-endian ELF file");
    }
    let bad = || anyhow!("truncated ELF header");
    let phoff = u64_at(0x20).ok_or_else(bad)? as usize;
    let phentsize = u16_at(0x36).ok_or_else(bad)? as usize;
    let phnum = u16_at(0x38).ok_or_else(bad)? as usize;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        const PT_INTERP: u32 = 3;
        if u32_at(ph).ok_or_else(bad)? != PT_INTERP {
            continue;
        }
        let off = u64_at(ph + 8).ok_or_else(bad)? as usize;
        let size = u64_at(ph + 32).ok_or_else(bad)? as usize;
        let raw = elf.get(off..off.saturating_add(size)).ok_or_else(bad)?;
        let path = raw.split(|b| *b == 0).next().unwrap_or_default();
        let path = std::str::from_utf8(path).context("the ELF interpreter path is not UTF-8")?;
        if !path.starts_with('/') {
            bail!("the ELF interpreter path {path:?} is not absolute");
        }
        return Ok(Some(path.to_string()));
    }
    Ok(None)
}

/// The shared libraries a process has mapped, from its `/proc/<pid>/maps`: absolute paths of
/// `*.so*` files, sorted, each once. What the process really loaded, so nothing the dynamic
/// loader would look for is missed and nothing else is taken.
pub fn mapped_libraries(maps: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = maps
        .lines()
        .filter_map(|l| {
            // address perms offset dev inode path; the path is everything from the sixth field.
            let path = l.split_whitespace().nth(5)?;
            let name = Path::new(path).file_name()?.to_str()?;
            (path.starts_with('/') && !l.ends_with(" (deleted)") && name.contains(".so"))
                .then(|| PathBuf::from(path))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One file of the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Absolute path inside the image.
    pub path: String,
    pub mode: u32,
    pub bytes: Vec<u8>,
}

/// kreg's image, made in memory: its blobs and its one manifest.
pub struct Built {
    pub arch: &'static str,
    pub blobs: Vec<(String, Vec<u8>)>,
    pub manifest: Manifest,
}

impl Built {
    pub fn digest(&self) -> &str {
        &self.manifest.digest
    }

    /// The image as an OCI archive (a tar of an OCI layout), named `kreg/agent:<tag>`.
    pub fn archive(&self, tag: &str) -> Vec<u8> {
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": crate::image::OCI_INDEX,
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": self.manifest.digest,
                "size": self.manifest.bytes.len(),
                "platform": {"architecture": self.arch, "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": format!("{REPO}:{tag}"),
                    "org.opencontainers.image.ref.name": tag,
                },
            }],
        }))
        .expect("json");
        let mut entries: Vec<(String, &[u8])> = vec![
            ("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#),
            ("index.json".into(), &index),
        ];
        let blob_path = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
        for (d, b) in &self.blobs {
            entries.push((blob_path(d), b));
        }
        entries.push((blob_path(&self.manifest.digest), &self.manifest.bytes));
        let mut t = tar::Builder::new(Vec::new());
        for (path, bytes) in entries {
            append(&mut t, &path, 0o644, bytes);
        }
        t.into_inner().expect("in-memory tar")
    }
}

fn append(t: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, bytes: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    t.append_data(&mut h, path, bytes).expect("in-memory tar");
}

fn append_dir(t: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32) {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Directory);
    t.append_data(&mut h, format!("{path}/"), &[][..])
        .expect("in-memory tar");
}

/// The image of `files` (plus the directories they need, `/tmp`, `/proc`, `/sys`, `/dev`):
/// everything sorted, owned by root, dated 1970, so its digest depends on the files alone.
pub fn assemble(arch: &'static str, files: &[File]) -> Built {
    let mut dirs: BTreeMap<String, u32> = ["/tmp", "/proc", "/sys", "/dev", "/etc"]
        .iter()
        .map(|d| (d.to_string(), if *d == "/tmp" { 0o1777 } else { 0o755 }))
        .collect();
    for f in files {
        let mut p = Path::new(&f.path).parent();
        while let Some(d) = p.filter(|d| *d != Path::new("/")) {
            dirs.entry(d.to_string_lossy().into_owned())
                .or_insert(0o755);
            p = d.parent();
        }
    }
    // One sorted list of directories and files: a directory sorts before what it holds.
    let mut entries: BTreeMap<String, Option<&File>> =
        dirs.keys().map(|d| (d.clone(), None)).collect();
    for f in files {
        entries.insert(f.path.clone(), Some(f));
    }
    let mut t = tar::Builder::new(Vec::new());
    for (path, file) in &entries {
        let rel = path.trim_start_matches('/');
        match file {
            Some(f) => append(&mut t, rel, f.mode, &f.bytes),
            None => append_dir(&mut t, rel, dirs[path]),
        }
    }
    let layer = t.into_inner().expect("in-memory tar");
    let layer_digest = sha256_digest(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
            "Entrypoint": ["/usr/local/bin/kreg"],
            "Cmd": ["node-agent"],
            "User": "0:0",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }))
    .expect("json");
    let config_digest = sha256_digest(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": layer.len()}],
    }))
    .expect("json");
    Built {
        arch,
        blobs: vec![(layer_digest, layer), (config_digest, config)],
        manifest: Manifest {
            digest: sha256_digest(&manifest),
            media_type: OCI_MANIFEST.into(),
            bytes: manifest,
        },
    }
}

/// kreg's image from the running executable: reads `/proc/self/exe`, its ELF interpreter and
/// the libraries in `/proc/self/maps`.
pub fn build() -> Result<Built> {
    let arch = self_platform()
        .ok_or_else(|| anyhow!("this kreg is not a Linux binary the nodes could run"))?;
    let exe_path = std::env::current_exe().context("finding this executable")?;
    let exe = std::fs::read(&exe_path)
        .with_context(|| format!("reading this executable ({})", exe_path.display()))?;
    let interpreter = elf_interpreter(&exe)
        .with_context(|| format!("reading the ELF header of {}", exe_path.display()))?;
    let maps = std::fs::read_to_string("/proc/self/maps").context("reading /proc/self/maps")?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let mut files = vec![File {
        path: "/usr/local/bin/kreg".into(),
        mode: 0o755,
        bytes: exe,
    }];
    if let Some(i) = &interpreter {
        files.push(File {
            path: i.clone(),
            mode: 0o755,
            bytes: read(Path::new(i))?,
        });
    }
    for lib in mapped_libraries(&maps) {
        let path = lib.to_string_lossy().into_owned();
        if files.iter().any(|f| f.path == path) {
            continue;
        }
        files.push(File {
            path,
            mode: 0o755,
            bytes: read(&lib)?,
        });
    }
    files.push(File {
        path: "/etc/passwd".into(),
        mode: 0o644,
        bytes: b"root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n".to_vec(),
    });
    files.push(File {
        path: "/etc/group".into(),
        mode: 0o644,
        bytes: b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
    });
    Ok(assemble(arch, &files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_with_interp(interp: &str) -> Vec<u8> {
        let mut e = vec![0u8; 0x200];
        e[0..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = 1;
        e[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        e[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        e[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        // First program header: PT_LOAD; second: PT_INTERP at 0x100.
        e[0x40..0x44].copy_from_slice(&1u32.to_le_bytes());
        let ph = 0x40 + 56;
        e[ph..ph + 4].copy_from_slice(&3u32.to_le_bytes());
        e[ph + 8..ph + 16].copy_from_slice(&0x100u64.to_le_bytes());
        e[ph + 32..ph + 40].copy_from_slice(&((interp.len() + 1) as u64).to_le_bytes());
        e[0x100..0x100 + interp.len()].copy_from_slice(interp.as_bytes());
        e
    }

    #[test]
    fn the_interpreter_comes_from_pt_interp() {
        let e = elf_with_interp("/lib64/ld-linux-x86-64.so.2");
        assert_eq!(
            elf_interpreter(&e).unwrap().as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        // A static binary: no PT_INTERP.
        let mut s = e.clone();
        s[0x40 + 56..0x40 + 60].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(elf_interpreter(&s).unwrap(), None);
        assert!(elf_interpreter(b"#!/bin/sh\n").is_err());
        // A header that points past the end is an error, not a panic.
        let mut t = e.clone();
        t[0x40 + 56 + 8..0x40 + 56 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(elf_interpreter(&t).is_err());
        assert!(elf_interpreter(&e[..0x30]).is_err());
    }

    #[test]
    fn this_test_binary_names_its_real_interpreter() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        if let Some(i) = elf_interpreter(&exe).unwrap() {
            assert!(Path::new(&i).exists(), "{i} does not exist");
        }
    }

    #[test]
    fn mapped_libraries_are_the_shared_objects_once() {
        let maps = "\
55d0c000-55d0d000 r--p 00000000 fe:01 123 /usr/local/bin/kreg
7f00-7f01 r--p 00000000 fe:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6
7f01-7f02 r-xp 00001000 fe:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6
7f02-7f03 r--p 00000000 fe:01 8 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f03-7f04 rw-p 00000000 00:00 0 [heap]
7f04-7f05 rw-p 00000000 00:00 0
7f05-7f06 r--p 00000000 fe:01 7 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f06-7f07 r--p 00000000 fe:01 6 /tmp/gone.so (deleted)
7f07-7f08 r--s 00000000 00:05 5 /dev/zero
7ffd-7ffe r--p 00000000 00:00 0 [vdso]";
        assert_eq!(
            mapped_libraries(maps),
            [
                "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
            ]
            .map(PathBuf::from)
        );
    }

    fn files() -> Vec<File> {
        vec![
            File {
                path: "/usr/local/bin/kreg".into(),
                mode: 0o755,
                bytes: b"binary".to_vec(),
            },
            File {
                path: "/lib64/ld.so".into(),
                mode: 0o755,
                bytes: b"loader".to_vec(),
            },
        ]
    }

    #[test]
    fn the_image_is_the_same_for_the_same_files_and_differs_otherwise() {
        let a = assemble("amd64", &files());
        let b = assemble("amd64", &files());
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.archive("v1"), b.archive("v1"));
        let mut other = files();
        other[0].bytes.push(b'!');
        assert_ne!(a.digest(), assemble("amd64", &other).digest());
        assert_ne!(a.digest(), assemble("arm64", &files()).digest());
    }

    #[test]
    fn the_layer_holds_the_files_with_their_parents_in_order() {
        let built = assemble("amd64", &files());
        let layer = &built.blobs[0].1;
        let mut t = tar::Archive::new(&layer[..]);
        let entries: Vec<(String, u32, u64)> = t
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "dev/",
                "etc/",
                "lib64/",
                "lib64/ld.so",
                "proc/",
                "sys/",
                "tmp/",
                "usr/",
                "usr/local/",
                "usr/local/bin/",
                "usr/local/bin/kreg"
            ]
        );
        assert!(entries.iter().all(|e| e.2 == 0));
        assert_eq!(entries[6].1, 0o1777, "/tmp is sticky and world-writable");
    }

    #[test]
    fn the_archive_reads_back_with_the_same_digest() {
        let built = assemble("amd64", &files());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.tar");
        std::fs::write(&path, built.archive("v1")).unwrap();
        let img = crate::image::open(&path).unwrap();
        assert_eq!(img.top().digest, built.digest());
        assert_eq!(img.blobs.len(), 2);
    }

    #[test]
    fn the_source_is_the_flag_then_the_archive_then_this_binary_then_the_baked_one() {
        let mut i = Inputs {
            flag: Some("r/a@sha256:1".into()),
            archive: Some("a.tar".into()),
            baked: Some("r/b@sha256:2".into()),
            self_arch: Some("amd64"),
        };
        assert_eq!(choose(&i), Some(Source::Reference("r/a@sha256:1".into())));
        i.flag = None;
        assert_eq!(choose(&i), Some(Source::Archive("a.tar".into())));
        i.archive = None;
        assert_eq!(choose(&i), Some(Source::SelfBuilt));
        i.self_arch = None;
        assert_eq!(choose(&i), Some(Source::Reference("r/b@sha256:2".into())));
        i.baked = None;
        assert_eq!(choose(&i), None);
    }

    #[test]
    fn nodes_of_another_architecture_are_named() {
        let nodes = [
            ("a".to_string(), "amd64".to_string()),
            ("b".to_string(), "arm64".to_string()),
            ("c".to_string(), String::new()),
        ];
        let e = format!("{:#}", check_nodes("amd64", &nodes).unwrap_err());
        assert!(e.contains("cannot run on b (arm64)"), "{e}");
        assert!(!e.contains("a (amd64)"), "{e}");
        assert!(check_nodes("amd64", &nodes[..1]).is_ok());
        assert_eq!(oci_arch("x86_64", true), Some("amd64"));
        assert_eq!(oci_arch("powerpc64", false), None);
    }
}

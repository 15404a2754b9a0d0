//! `oent verify`: a published archive is rebuilt from its git tag (the
//! module's files at the tagged commit, SOURCE_DATE_EPOCH the commit's
//! time) and must be byte-identical; its signature is checked with the
//! maintainers' key; fetched from a registry, it is checked against the
//! registry's index and, with a pinned key, its signed snapshot.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::artifact::{self, TagRecord};
use super::git::Git;
use super::{ReleaseError, short_name, tag_prefix};
use crate::manifest::Module;
use crate::manifest::names::ModuleName;
use crate::package::checksum::sha256_hex;
use crate::registry::signing::PublicKey;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("no tag for {name} {version} in `{}` (looked for {})\nhelp: pass `--repo` with a clone of the module's repository, with its tags (`git fetch --tags`)", .repo.display(), .tried.join(", "))]
    NoTag {
        name: String,
        version: String,
        repo: PathBuf,
        tried: Vec<String>,
    },
    #[error("`{spec}` is neither an archive file nor NS/NAME@VERSION")]
    BadSpec { spec: String },
    #[error("`{spec}` names a published version: say where with `--registry URL|DIR`")]
    NoRegistry { spec: String },
    #[error("{name} {version} is not in registry {registry}")]
    NotPublished {
        name: String,
        version: String,
        registry: String,
    },
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    #[error("the archive is not reproducible from tag `{tag}`: rebuilt sha256 {rebuilt}, published sha256 {published}\n{}\nhelp: the published archive was altered, or the tag was moved after the release; do not deploy it, tell the maintainers", .differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Differs {
        tag: String,
        rebuilt: String,
        published: String,
        differences: Vec<String>,
    },
    #[error("no signature for the archive: neither `{}` nor tag `{tag}` holds one", .sig.display())]
    NoSignature { sig: PathBuf, tag: String },
}

/// What to verify: an archive file, or a published version.
#[derive(Debug, Clone)]
pub enum Target {
    File(PathBuf),
    Published {
        name: ModuleName,
        version: String,
        registry: String,
        /// Keys pinned for the registry's snapshot.
        registry_keys: Vec<String>,
    },
}

impl Target {
    /// What `oent verify SPEC` names: an archive file when one exists at
    /// `spec`, else `NS/NAME@VERSION` (a leading `v` on the version is
    /// dropped) fetched from `registry`, which must then be given.
    pub fn from_spec(
        spec: &str,
        registry: Option<String>,
        registry_keys: Vec<String>,
    ) -> Result<Target, VerifyError> {
        if Path::new(spec).is_file() {
            return Ok(Target::File(PathBuf::from(spec)));
        }
        let bad = || VerifyError::BadSpec {
            spec: spec.to_owned(),
        };
        let (name, version) = spec.split_once('@').ok_or_else(bad)?;
        let name = name.parse().map_err(|_| bad())?;
        let registry = registry.ok_or_else(|| VerifyError::NoRegistry {
            spec: spec.to_owned(),
        })?;
        Ok(Target::Published {
            name,
            version: version.trim_start_matches('v').to_owned(),
            registry,
            registry_keys,
        })
    }
}

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub target: Target,
    pub repo: PathBuf,
    /// The maintainers' public key; without it the signature is not checked.
    pub key: Option<PublicKey>,
}

/// What was checked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub name: String,
    pub version: String,
    pub tag: String,
    pub sha256: String,
    pub source_date_epoch: u64,
    /// The signer's fingerprint when checked.
    pub signed_by: Option<String>,
    /// Where the archive came from (file or registry), and how it was checked.
    pub origin: String,
}

pub fn verify(options: &VerifyOptions) -> Result<Verified, ReleaseError> {
    let (bytes, label, sig_file, origin) = match &options.target {
        Target::File(path) => {
            let bytes = std::fs::read(path).map_err(|source| ReleaseError::Io {
                path: path.clone(),
                source,
            })?;
            (
                bytes,
                path.clone(),
                artifact::signature_path(path),
                format!("file {}", path.display()),
            )
        }
        Target::Published {
            name,
            version,
            registry,
            registry_keys,
        } => fetch(name, version, registry, registry_keys)?,
    };
    let module: Module = crate::registry::local::inspect_archive(&label, &bytes).map_err(|e| {
        ReleaseError::Package(crate::package::PackageError::Walk {
            path: label.clone(),
            message: e.to_string(),
        })
    })?;
    let name = module.name.to_string();
    let version = module.version.to_string();
    let git = Git::discover(&options.repo)?;
    let (tag, commit) = find_tag(&git, &options.repo, &name, &version)?;
    let record = git.tag_message(&tag).and_then(|m| TagRecord::parse(&m));
    let dir = match record.as_ref().filter(|r| r.name == name) {
        Some(r) => r.path.clone(),
        None => find_module_dir(&git, &commit, &name).unwrap_or_default(),
    };
    let built = artifact::build_from_commit(&git, &commit, &dir)?;
    let published = sha256_hex(&bytes);
    if built.bytes != bytes {
        return Err(VerifyError::Differs {
            tag,
            rebuilt: built.sha256,
            published,
            differences: differences(&built.bytes, &bytes),
        }
        .into());
    }
    let signed_by = match &options.key {
        None => None,
        Some(key) => {
            let armored = match std::fs::read_to_string(&sig_file) {
                Ok(text) => text,
                Err(_) => record
                    .as_ref()
                    .and_then(|r| r.signature.clone())
                    .ok_or_else(|| VerifyError::NoSignature {
                        sig: sig_file.clone(),
                        tag: tag.clone(),
                    })?,
            };
            artifact::verify_signature(key, &bytes, &armored)?;
            Some(key.fingerprint())
        }
    };
    Ok(Verified {
        name,
        version,
        tag,
        sha256: published,
        source_date_epoch: built.source_date_epoch,
        signed_by,
        origin,
    })
}

/// The archive of `name@version` from a registry, checked against its index
/// (and the signed snapshot when keys are pinned).
fn fetch(
    name: &ModuleName,
    version: &str,
    registry: &str,
    keys: &[String],
) -> Result<(Vec<u8>, PathBuf, PathBuf, String), ReleaseError> {
    let err = |message: String| VerifyError::Registry {
        registry: registry.to_owned(),
        message,
    };
    let cache =
        crate::registry::cache::Cache::default_location().map_err(|e| err(e.to_string()))?;
    let source = crate::registry::open::open_pinned_source(registry, keys, &cache, false)
        .map_err(|e| err(e.to_string()))?;
    let lines = source.versions(name).map_err(|e| err(e.to_string()))?;
    let line = lines
        .iter()
        .find(|l| l.is_version(version))
        .ok_or_else(|| VerifyError::NotPublished {
            name: name.to_string(),
            version: version.to_owned(),
            registry: registry.to_owned(),
        })?;
    let path = source.archive(line).map_err(|e| err(e.to_string()))?;
    let bytes = std::fs::read(&path).map_err(|source| ReleaseError::Io {
        path: path.clone(),
        source,
    })?;
    let checked = if keys.is_empty() {
        "index sha256 (unsigned: pass --registry-key to check the snapshot)".to_owned()
    } else {
        "index sha256 and signed snapshot".to_owned()
    };
    Ok((
        bytes,
        PathBuf::from(format!("{registry}/{}", line.archive)),
        PathBuf::from("/nonexistent/oent-no-sig-file"),
        format!("registry {registry} ({checked})"),
    ))
}

/// The release tag of `name` `version`: `<short>-v<version>` or `v<version>`.
fn find_tag<'r>(
    git: &'r Git,
    repo: &Path,
    name: &str,
    version: &str,
) -> Result<(String, git2::Commit<'r>), ReleaseError> {
    let short = short_name(name);
    let preferred = format!("{}{version}", tag_prefix(git, short)?);
    let mut tried = vec![preferred.clone()];
    for candidate in [format!("{short}-v{version}"), format!("v{version}")] {
        if !tried.contains(&candidate) {
            tried.push(candidate);
        }
    }
    for tag in &tried {
        if let Some(commit) = git.tag_commit(tag) {
            return Ok((tag.clone(), commit));
        }
    }
    Err(VerifyError::NoTag {
        name: name.to_owned(),
        version: version.to_owned(),
        repo: repo.to_path_buf(),
        tried,
    }
    .into())
}

/// The directory of the module named `name` in `commit`'s tree, for tags
/// that do not record it.
fn find_module_dir(git: &Git, commit: &git2::Commit<'_>, name: &str) -> Option<String> {
    let tree = commit.tree().ok()?;
    let mut found = None;
    let needle = format!("name: {name}");
    tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
        if entry.name() == Some("module.yaml")
            && let Ok(blob) = git.repo.find_blob(entry.id())
            && String::from_utf8_lossy(blob.content())
                .lines()
                .any(|l| l.trim_end() == needle)
        {
            found = Some(parent.trim_end_matches('/').to_owned());
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    })
    .ok();
    found
}

/// Entry by entry, what differs between two archives (at most 10 lines).
fn differences(rebuilt: &[u8], published: &[u8]) -> Vec<String> {
    let (a, b) = (entries(rebuilt), entries(published));
    let mut out = Vec::new();
    for (path, ours) in &a {
        match b.get(path) {
            None => out.push(format!("{path}: in the rebuilt archive only")),
            Some(theirs) if theirs != ours => out.push(format!(
                "{path}: differs (rebuilt: {ours}; published: {theirs})"
            )),
            _ => {}
        }
    }
    for path in b.keys() {
        if !a.contains_key(path) {
            out.push(format!("{path}: in the published archive only"));
        }
    }
    if out.is_empty() {
        out.push("the entries are the same: the difference is in the tar or gzip framing".into());
    }
    let total = out.len();
    if total > 10 {
        out.truncate(10);
        out.push(format!("… and {} more", total - 10));
    }
    out
}

/// Path → "mode 644, mtime 0, sha256 abcd…" for each entry.
fn entries(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let Ok(entries) = archive.entries() else {
        return out;
    };
    for entry in entries.take(100_000) {
        let Ok(mut entry) = entry else {
            break;
        };
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mode = entry.header().mode().unwrap_or(0);
        let mtime = entry.header().mtime().unwrap_or(0);
        let mut content = Vec::new();
        let _ = (&mut entry).take(64 << 20).read_to_end(&mut content);
        out.insert(
            path,
            format!(
                "mode {mode:o}, mtime {mtime}, sha256 {}…",
                &sha256_hex(&content)[..12]
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_is_an_archive_file_or_a_published_version_with_its_registry() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x-1.0.0.tar.gz");
        std::fs::write(&file, b"").unwrap();
        let spec = file.to_str().unwrap();
        assert!(matches!(Target::from_spec(spec, None, vec![]), Ok(Target::File(f)) if f == file));
        let published = Target::from_spec("openent/x@v1.2.0", Some("reg".into()), vec![]);
        assert!(matches!(
            published,
            Ok(Target::Published { name, version, registry, .. })
                if name.as_str() == "openent/x" && version == "1.2.0" && registry == "reg"
        ));
        assert_eq!(
            Target::from_spec("openent/x@1.2.0", None, vec![])
                .unwrap_err()
                .to_string(),
            "`openent/x@1.2.0` names a published version: say where with `--registry URL|DIR`"
        );
        for spec in ["missing.tar.gz", "x@1.0.0"] {
            assert_eq!(
                Target::from_spec(spec, Some("reg".into()), vec![])
                    .unwrap_err()
                    .to_string(),
                format!("`{spec}` is neither an archive file nor NS/NAME@VERSION")
            );
        }
    }
}

//! The catalogue's model, read from the registry directory: every module
//! with an index file (mirrored namespaces included), its versions from the
//! index, and what only the manifest says (summary, category, audiences,
//! configuration, README) from the archive of the version shown.
//!
//! Archives are immutable, so what is read from one is kept in memory under
//! its sha256. The index files (and registry.yaml) are checked by size and
//! modification time on every request, as `files.rs` does: a publish, a yank
//! or a sync shows at once, and an unchanged registry costs a few `stat`s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::manifest::option::{ConfigOption, OptionType, Scope};
use crate::package::checksum::sha256_hex;
use crate::registry::REGISTRY_FILE;
use crate::registry::config::RegistryConfig;
use crate::registry::index::{IndexEntry, Sha256};
use crate::registry::local::{MAX_ARCHIVE_BYTES, inspect_archive_with};

use super::{markdown, pages};

/// READMEs longer than this are cut (a catalogue page, not a book).
const MAX_README_BYTES: u64 = 256 << 10;

/// What the manifest (and README) of one archive says.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    pub summary: String,
    pub description: Option<String>,
    pub category: String,
    pub audiences: Vec<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub authors: Vec<String>,
    pub fork_of: Option<String>,
    pub config: Vec<OptionDoc>,
    /// The README rendered to HTML with every raw HTML in it escaped.
    pub readme_html: Option<String>,
}

/// One configuration option, as the page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OptionDoc {
    pub name: String,
    /// `integer`, `list de url`…
    pub ty: String,
    pub default: Option<String>,
    pub required: bool,
    pub bounds: Option<String>,
    pub values: Vec<String>,
    pub doc: Option<String>,
    /// `distribution` or `etablissement`.
    pub scope: &'static str,
}

/// One module: its versions, newest first, and the one shown.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub versions: Vec<IndexEntry>,
    /// Index in `versions` of the newest version not yanked (0 when all are).
    pub current: usize,
    /// What the current version's archive says, or why it could not be read.
    pub details: Result<Arc<Details>, String>,
    /// Name, summary, description, category, audiences and provides,
    /// lowercased and without accents.
    search_text: String,
}

impl Entry {
    pub fn line(&self) -> &IndexEntry {
        &self.versions[self.current]
    }

    /// Every version yanked: shown, but not to be used.
    pub fn all_yanked(&self) -> bool {
        self.versions.iter().all(|l| l.yanked)
    }
}

/// A module whose current version requires (or optionally uses) another.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dependent {
    pub name: String,
    pub req: String,
    pub optional: bool,
}

/// The registry as the catalogue shows it.
#[derive(Debug, Default)]
pub struct Model {
    pub registry_name: String,
    /// `registry.yaml`'s public keys (for `key:` in distribution.yaml).
    pub keys: Vec<String>,
    /// `registry.yaml`'s `api:`, from which the public URL is known.
    pub api: Option<String>,
    /// Sorted by name.
    pub modules: Vec<Entry>,
    /// Module name → the modules whose current version depends on it.
    pub dependents: BTreeMap<String, Vec<Dependent>>,
    pub licences: BTreeSet<String>,
}

/// The search and filters of the list page; empty strings mean "any".
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct Query {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub licence: String,
}

impl Model {
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.modules
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.modules[i])
    }

    /// The modules that match every word of `q` and every filter set.
    pub fn filter<'a>(&'a self, query: &Query) -> impl Iterator<Item = &'a Entry> {
        let words: Vec<String> = fold(&query.q)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let category = query.category.trim().to_owned();
        let audience = query.audience.trim().to_owned();
        let licence = query.licence.trim().to_owned();
        self.modules.iter().filter(move |e| {
            if !words.iter().all(|w| e.search_text.contains(w.as_str())) {
                return false;
            }
            if !licence.is_empty() && e.line().licence != licence {
                return false;
            }
            if category.is_empty() && audience.is_empty() {
                return true;
            }
            let Ok(details) = &e.details else {
                return false;
            };
            (category.is_empty() || details.category == category)
                && (audience.is_empty() || details.audiences.contains(&audience))
        })
    }
}

/// Lowercase, without the accents French uses: `Élève` and `eleve` match.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' => out.push('i'),
            'ô' | 'ö' | 'ó' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ç' => out.push('c'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c => out.push(c),
        }
    }
    out
}

/// One file the model was built from: path, size, modification time.
type Stamp = (PathBuf, u64, Option<SystemTime>);

struct State {
    stamps: Vec<Stamp>,
    model: Arc<Model>,
    details: HashMap<Sha256, Arc<Details>>,
}

/// The registry directory and the model last built from it.
pub struct Store {
    root: PathBuf,
    state: Mutex<State>,
}

impl Store {
    pub fn new(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
            state: Mutex::new(State {
                // Never equal to a real listing: the first request builds.
                stamps: vec![(PathBuf::new(), u64::MAX, None)],
                model: Arc::new(Model::default()),
                details: HashMap::new(),
            }),
        }
    }

    /// The model, rebuilt first if an index file or registry.yaml changed.
    /// Blocking: call from a blocking thread.
    pub fn model(&self) -> Arc<Model> {
        let stamps = self.stamps();
        let mut state = self.state.lock().expect("catalogue lock");
        if state.stamps != stamps {
            let started = std::time::Instant::now();
            let model = self.build(&mut state.details);
            tracing::info!(
                modules = model.modules.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "catalogue rebuilt"
            );
            state.model = Arc::new(model);
            state.stamps = stamps;
        }
        state.model.clone()
    }

    /// What one version's archive says (cached by sha256).
    pub fn details(&self, line: &IndexEntry) -> Result<Arc<Details>, String> {
        if let Some(hit) = self
            .state
            .lock()
            .expect("catalogue lock")
            .details
            .get(&line.sha256)
        {
            return Ok(hit.clone());
        }
        let details = Arc::new(read_details(&self.root, line)?);
        self.state
            .lock()
            .expect("catalogue lock")
            .details
            .insert(line.sha256.clone(), details.clone());
        Ok(details)
    }

    /// registry.yaml and every `index/<ns>/<name>.jsonl`, sorted.
    fn stamps(&self) -> Vec<Stamp> {
        let mut out = Vec::new();
        let stamp = |path: PathBuf, out: &mut Vec<Stamp>| {
            if let Ok(meta) = std::fs::symlink_metadata(&path)
                && meta.is_file()
            {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        };
        stamp(self.root.join(REGISTRY_FILE), &mut out);
        let index = self.root.join("index");
        for ns in std::fs::read_dir(&index).into_iter().flatten().flatten() {
            for file in std::fs::read_dir(ns.path()).into_iter().flatten().flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "jsonl") {
                    stamp(path, &mut out);
                }
            }
        }
        out.sort();
        out
    }

    fn build(&self, cache: &mut HashMap<Sha256, Arc<Details>>) -> Model {
        let mut model = Model::default();
        match RegistryConfig::load(&self.root.join(REGISTRY_FILE)) {
            Ok(config) => {
                model.registry_name = config.name;
                model.keys = config.keys;
                model.api = config.api;
            }
            Err(e) => tracing::warn!(reason = %e, "catalogue: registry.yaml unreadable"),
        }
        let registry = crate::registry::local::LocalRegistry {
            root: self.root.clone(),
            config: RegistryConfig {
                name: model.registry_name.clone(),
                namespaces: Vec::new(),
                api: None,
                keys: Vec::new(),
                mirrors: Vec::new(),
            },
        };
        let mut modules = Vec::new();
        for name in registry.modules().unwrap_or_default() {
            let mut versions = match registry.versions(name.as_str()) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(module = %name, reason = %e, "catalogue: index unreadable");
                    continue;
                }
            };
            // Lines whose name is not the file's are not this module's.
            versions.retain(|l| l.name.as_str() == name.as_str());
            if versions.is_empty() {
                continue;
            }
            versions.sort_by_key(|l| std::cmp::Reverse(semver_of(l)));
            let current = versions.iter().position(|l| !l.yanked).unwrap_or(0);
            modules.push((name, versions, current));
        }
        let missing: Vec<&IndexEntry> = modules
            .iter()
            .map(|(_, versions, current)| &versions[*current])
            .filter(|line| !cache.contains_key(&line.sha256))
            .collect();
        let mut read = read_all(&self.root, &missing);
        let mut used = HashMap::new();
        for (name, versions, current) in modules {
            let line = &versions[current];
            let details = match cache.get(&line.sha256) {
                Some(hit) => Ok(hit.clone()),
                None => read
                    .remove(&line.sha256)
                    .unwrap_or_else(|| Err("not read".into())),
            };
            match &details {
                Ok(d) => {
                    used.insert(line.sha256.clone(), d.clone());
                }
                Err(reason) => {
                    tracing::warn!(module = %name, version = %line.version, reason, "catalogue: archive unreadable")
                }
            }
            let mut search_text = fold(name.as_str());
            if let Ok(d) = &details {
                let labels = std::iter::once(pages::category_label(&d.category))
                    .chain(d.audiences.iter().map(|a| pages::audience_label(a)));
                for part in [d.summary.as_str(), d.description.as_deref().unwrap_or("")]
                    .into_iter()
                    .chain(labels)
                {
                    search_text.push('\n');
                    search_text.push_str(&fold(part));
                }
            }
            for p in &line.provides {
                search_text.push('\n');
                search_text.push_str(&fold(p));
            }
            model.licences.insert(line.licence.clone());
            model.modules.push(Entry {
                name: name.to_string(),
                versions,
                current,
                details,
                search_text,
            });
        }
        for entry in &model.modules {
            let line = entry.line();
            for (deps, optional) in [(&line.requires, false), (&line.optional, true)] {
                for (dep, req) in deps {
                    model
                        .dependents
                        .entry(dep.clone())
                        .or_default()
                        .push(Dependent {
                            name: entry.name.clone(),
                            req: req.clone(),
                            optional,
                        });
                }
            }
        }
        // Keep what the current versions use, and what version pages read
        // since (bounded: old versions are read again when asked for).
        if cache.len() > 4 * used.len() + 256 {
            *cache = used;
        } else {
            cache.extend(used);
        }
        model
    }
}

type Read = Result<Arc<Details>, String>;

/// Reads archives on every core (a cold registry of 1,000 modules is
/// mostly unpacking), keyed by sha256.
fn read_all(root: &Path, lines: &[&IndexEntry]) -> HashMap<Sha256, Read> {
    if lines.is_empty() {
        return HashMap::new();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let chunk = lines.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = lines
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|l| (l.sha256.clone(), read_details(root, l).map(Arc::new)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("reading an archive does not panic"))
            .collect()
    })
}

fn semver_of(line: &IndexEntry) -> Option<semver::Version> {
    Some(line.version.clone())
}

/// Reads one archive of the registry: checked against its index line,
/// unpacked safely into a temporary directory, its manifest validated.
fn read_details(root: &Path, line: &IndexEntry) -> Result<Details, String> {
    let relative = Path::new(&line.archive);
    let inside = relative.starts_with("archives")
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(p) if !p.to_string_lossy().starts_with('.')));
    if !inside {
        return Err(format!("`{}` is not an archive path", line.archive));
    }
    let path = root.join(relative);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", line.archive))?;
    if !meta.is_file() || meta.len() != line.size || meta.len() > MAX_ARCHIVE_BYTES {
        return Err(format!(
            "`{}` does not have the size its index line says",
            line.archive
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", line.archive))?;
    if sha256_hex(&bytes) != line.sha256 {
        return Err(format!(
            "`{}` does not match its index line's sha256",
            line.archive
        ));
    }
    let (module, readme) = inspect_archive_with(Path::new(&line.archive), &bytes, read_readme)
        .map_err(|e| e.to_string())?;
    if module.name != line.name || module.version != line.version {
        return Err(format!(
            "the archive holds {} {}, not {} {}",
            module.name, module.version, line.name, line.version
        ));
    }
    Ok(Details {
        summary: module.summary.clone(),
        description: module.description.clone(),
        category: module.category.to_owned(),
        audiences: module.audiences.iter().map(|a| (*a).to_owned()).collect(),
        repository: module.repository.clone(),
        homepage: module.homepage.clone(),
        authors: module.authors.clone(),
        fork_of: module.fork_of.as_ref().map(|(n, v)| format!("{n}@{v}")),
        config: module.config.values().map(option_doc).collect(),
        readme_html: readme.map(|text| markdown::to_html(&text)),
    })
}

/// `README.md` (or `readme.md`, `README`) at the module's root, bounded.
fn read_readme(dir: &Path) -> Option<String> {
    use std::io::Read;
    for name in ["README.md", "readme.md", "Readme.md", "README"] {
        let path = dir.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .ok()?
            .take(MAX_README_BYTES)
            .read_to_end(&mut bytes)
            .ok()?;
        return Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    None
}

fn option_doc(option: &ConfigOption) -> OptionDoc {
    let ty = match option.ty {
        OptionType::List => format!("list de {}", option.items.name()),
        OptionType::Map => format!("map de {}", option.items.name()),
        t => t.name().to_owned(),
    };
    let bounds = match (&option.min, &option.max) {
        (Some((_, lo)), Some((_, hi))) => Some(format!("{lo} à {hi}")),
        (Some((_, lo)), None) => Some(format!("≥ {lo}")),
        (None, Some((_, hi))) => Some(format!("≤ {hi}")),
        (None, None) => None,
    };
    OptionDoc {
        name: option.name.clone(),
        ty,
        default: option.default.as_ref().map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        }),
        required: option.required,
        bounds,
        values: option.values.clone(),
        doc: option.doc.clone(),
        scope: match option.scope {
            Scope::Distribution => "distribution",
            Scope::Etablissement => "etablissement",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_french_accents() {
        assert_eq!(fold("Élève Cœur Façade"), "eleve coeur facade");
    }
}

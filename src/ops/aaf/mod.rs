//! `oent import aaf FILE... [--to DIR]`: the accounts of an académie's
//! export of the "Annuaire Académique Fédérateur" (AAF: the XML files
//! `ENT_<…>_Complet_<date>_{EtabEducNat,Eleve,PersRelEleve,PersEducNat}_NNNN.xml`
//! every académie sends its ENTs) as LDIF for the distribution's directory.
//!
//! - [`xml`] reads the files one request at a time (streaming: an
//!   académie's file holds hundreds of thousands of entries);
//! - [`ldif`] writes the accounts;
//! - here each request becomes an établissement (`categorieStructure`) or
//!   an account (`categoriePersonne`, mapped to the SDET's class), every
//!   problem is collected with its file, line, identifier and attribute,
//!   and the LDIF is written atomically only when there is none.
//!
//! The directory's root is the `base_dn` of the module that provides
//! `annuaire` in the distribution (never restated here); the accounts go
//! under `ou=personnes`, the SDET's branch of people. Which établissements
//! the distribution serves is its `etablissements` list: an account
//! attached to an établissement outside it is an error (docs/accounts.md).

pub mod ldif;
pub mod xml;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::path::PathBuf;

// The identifiers come from the académie's export, not from a peer on the
// network: the faster FxHash (already used by the resolver) is enough.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::manifest::formats::check_uai;
use crate::workspace::values::module_values;
use crate::workspace::{Workspace, WorkspaceError, WorkspaceOptions};
use xml::{AafReader, Request};

/// The SDET's classes of people, from the AAF's `categoriePersonne`.
pub const ELEVE: &str = "ENTEleve";
pub const PARENT: &str = "ENTAuxPersRelEleve";
pub const ENSEIGNANT: &str = "ENTAuxEnseignant";
pub const NON_ENSEIGNANT: &str = "ENTAuxNonEnsEtab";
/// The SDET's profile code (`ENTPersonProfils`) of each class of people:
/// the national codes ENTs publish (`National_ELV`, `National_TUT` for a
/// pupil's responsible adult, `National_ENS`, `National_ETA` for the other
/// staff of an établissement; tests/fixtures/sdet/names.tsv).
pub fn profile_code(class: &str) -> &'static str {
    match class {
        ELEVE => "National_ELV",
        PARENT => "National_TUT",
        ENSEIGNANT => "National_ENS",
        _ => "National_ETA",
    }
}
/// The profiles of the AAF's second-degree exports oent reads.
pub const PROFILES: &[&str] = &["Eleve", "PersRelEleve", "PersEducNat"];
/// The établissements' `categorieStructure`.
pub const STRUCTURE: &str = "EtabEducNat";
/// Where the accounts go, under the directory's root.
pub const PEOPLE_BRANCH: &str = "ou=personnes";
/// Where the établissements are, under the directory's root: one SDET
/// structure `ou=<UAI>` each (openent/annuaire's slapd.ldif).
pub const STRUCTURES_BRANCH: &str = "ou=structures";
/// Where the LDIF goes by default, in the distribution's directory: with
/// the operator's files (`local/`), never in the bundle.
pub const DEFAULT_OUT: &str = "local/annuaire/aaf.ldif";

#[derive(Debug, Clone)]
pub struct AafOptions {
    pub files: Vec<PathBuf>,
    /// The distribution the accounts are for.
    pub workspace: WorkspaceOptions,
    /// `None`: [`DEFAULT_OUT`] in the distribution's directory.
    pub out: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum AafError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(
        "{distribution} has no directory: no module of it provides `annuaire`; add `openent/annuaire` to its modules"
    )]
    NoDirectory { distribution: String },
    #[error("cannot read `{}`: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} problem(s) in the AAF files; nothing was written:\n{}", .0.len(), .0.join("\n"))]
    Problems(Vec<String>),
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the accounts go: the directory's root and the établissements served.
#[derive(Debug, Clone)]
pub struct Target {
    pub base_dn: String,
    pub uais: BTreeSet<String>,
    /// The file that lists the établissements, for messages.
    pub listed_in: String,
}

/// One account, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub class: &'static str,
    pub sn: String,
    pub given_name: Option<String>,
    pub mail: Option<String>,
    /// `ENTPersonDateNaissance`, as the AAF writes it (`JJ/MM/AAAA`).
    pub birth_date: Option<String>,
    /// The UAIs of its établissements, sorted.
    pub uais: Vec<String>,
    /// A pupil's classes (`ENTEleveClasses`): the UAI of the établissement
    /// and the class's code, in the AAF's order.
    pub classes: Vec<(String, String)>,
}

/// What an import read and wrote.
#[derive(Debug)]
pub struct AafOutcome {
    pub out: PathBuf,
    /// Sorted by identifier.
    pub accounts: Vec<Account>,
    /// Établissements read, and those that have accounts.
    pub structures: usize,
    pub structures_used: usize,
}

pub fn import_aaf(options: &AafOptions) -> Result<AafOutcome, AafError> {
    let workspace = Workspace::load(&options.workspace)?;
    let target = target(&workspace)?;
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| workspace.chain().top().dir().join(DEFAULT_OUT));
    let read = read_files(&options.files, &target)?;
    let text = ldif::to_ldif(&read.accounts, &target, &options.files);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AafError::Write {
            path: out.clone(),
            source,
        })?;
    }
    crate::fsutil::write_atomic(&out, text.as_bytes()).map_err(|source| AafError::Write {
        path: out.clone(),
        source,
    })?;
    Ok(AafOutcome {
        out,
        accounts: read.accounts,
        structures: read.structures,
        structures_used: read.structures_used,
    })
}

/// The directory module's `base_dn` and the distribution's établissements.
fn target(workspace: &Workspace) -> Result<Target, AafError> {
    let chain = workspace.chain();
    let directory = workspace
        .modules
        .iter()
        .find(|(_, m)| m.provides.iter().any(|p| p == "annuaire"))
        .map(|(name, _)| name.clone())
        .ok_or_else(|| AafError::NoDirectory {
            distribution: chain.top().name.to_string(),
        })?;
    let values = module_values(chain, &workspace.modules, &[]).map_err(WorkspaceError::Problems)?;
    let base_dn = values
        .get(&directory)
        .and_then(|v| v.values.get("base_dn"))
        .and_then(|v| v.value.as_str())
        .map(str::to_owned)
        .ok_or_else(|| AafError::NoDirectory {
            distribution: chain.top().name.to_string(),
        })?;
    let etablissements = chain.etablissements();
    Ok(Target {
        base_dn,
        uais: etablissements.iter().map(|e| e.uai.clone()).collect(),
        listed_in: etablissements.first().map_or_else(
            || "its etablissements".to_owned(),
            |e| e.origin.path.display().to_string(),
        ),
    })
}

/// The accounts of `files`, checked against `target`.
#[derive(Debug)]
pub struct Read {
    pub accounts: Vec<Account>,
    pub structures: usize,
    pub structures_used: usize,
}

struct Structure {
    uai: String,
    nom: String,
    at: (usize, u64),
}

struct Person {
    account: Account,
    /// AAF identifiers of its établissements.
    structures: Vec<String>,
    /// A pupil's classes: the AAF identifier of the établissement, the class.
    classes: Vec<(String, String)>,
    /// For a pupil: the identifiers of the adults responsible for it.
    responsables: Vec<String>,
    at: (usize, u64),
}

/// Reads every file, then links accounts to établissements; every problem
/// is collected, and any refuses the whole import.
pub fn read_files(files: &[PathBuf], target: &Target) -> Result<Read, AafError> {
    let mut problems = Vec::new();
    let mut structures: HashMap<String, Structure> = HashMap::default();
    let mut people: HashMap<String, Person> = HashMap::default();
    // Établissements refused (a bad UAI): their accounts are not reported again.
    let mut refused: HashSet<String> = HashSet::default();
    for (index, path) in files.iter().enumerate() {
        let file = std::fs::File::open(path).map_err(|source| AafError::Read {
            path: path.clone(),
            source,
        })?;
        let mut reader = AafReader::new(BufReader::with_capacity(1 << 16, file));
        loop {
            match reader.next_request() {
                Ok(Some(request)) => {
                    let at = (index, request.line);
                    let place = format!("`{}`, line {}", path.display(), request.line);
                    entry(
                        request,
                        at,
                        &place,
                        files,
                        &mut Found {
                            structures: &mut structures,
                            people: &mut people,
                            refused: &mut refused,
                            problems: &mut problems,
                        },
                    );
                }
                Ok(None) => break,
                Err(e) => {
                    problems.push(format!(
                        "  `{}`, line {}: {}",
                        path.display(),
                        e.line,
                        e.message
                    ));
                    break;
                }
            }
        }
    }
    if structures.is_empty() && !people.is_empty() {
        problems.push(format!(
            "  no `{STRUCTURE}` entry in the files given: add the export's établissements file (`…_Complet_…_{STRUCTURE}_….xml`), which gives each établissement's UAI"
        ));
    }
    // A parent belongs to the établissements of the pupils it is responsible for.
    let mut parents_uais: HashMap<String, BTreeSet<String>> = HashMap::default();
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    // Taken out of the map, sorted: each account is moved into the result,
    // not copied (100,000 people held twice cost a third of the peak).
    let mut people: Vec<(String, Person)> = people.into_iter().collect();
    people.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut accounts = Vec::with_capacity(people.len());
    for (id, person) in people {
        let mut uais = BTreeSet::new();
        for s in &person.structures {
            match structures.get(s) {
                Some(structure) => {
                    uais.insert(structure.uai.clone());
                    *used.entry(s.clone()).or_default() += 1;
                }
                None if !structures.is_empty() && !refused.contains(s) => problems.push(format!(
                    "  `{}`, line {}: entry `{id}`, attribute `ENTPersonStructRattach`: no établissement `{s}` among the `{STRUCTURE}` entries read; give the établissements' file of the same export",
                    files[person.at.0].display(),
                    person.at.1
                )),
                None => {}
            }
        }
        if person.account.class == ELEVE && person.structures.is_empty() {
            problems.push(format!(
                "  `{}`, line {}: entry `{id}` (Eleve), attribute `ENTPersonStructRattach`: missing; a pupil belongs to an établissement (the SDET's `ENTEleve` requires it): ask the académie for a new complete export",
                files[person.at.0].display(),
                person.at.1
            ));
        }
        let mut classes = Vec::with_capacity(person.classes.len());
        for (s, class) in &person.classes {
            match structures.get(s) {
                Some(structure) => classes.push((structure.uai.clone(), class.clone())),
                None if !structures.is_empty() && !refused.contains(s) => problems.push(format!(
                    "  `{}`, line {}: entry `{id}`, attribute `ENTEleveClasses`: class `{class}` of établissement `{s}`, which no `{STRUCTURE}` entry defines; give the établissements' file of the same export",
                    files[person.at.0].display(),
                    person.at.1
                )),
                None => {}
            }
        }
        for r in &person.responsables {
            parents_uais
                .entry(r.clone())
                .or_default()
                .extend(uais.iter().cloned());
        }
        let mut account = person.account;
        account.uais = uais.into_iter().collect();
        account.classes = classes;
        accounts.push(account);
    }
    for account in accounts.iter_mut().filter(|a| a.class == PARENT) {
        if let Some(uais) = parents_uais.get(&account.id) {
            account.uais = uais.iter().cloned().collect();
        }
    }
    let mut outside: Vec<(&Structure, usize)> = used
        .iter()
        .filter_map(|(id, n)| structures.get(id).map(|s| (s, *n)))
        .filter(|(s, _)| !target.uais.contains(&s.uai))
        .collect();
    outside.sort_by_key(|(s, _)| s.at);
    for (s, n) in outside {
        problems.push(format!(
            "  `{}`, line {}: établissement `{}` ({}) has {n} account(s) in this import but is not one of the distribution's établissements ({}); add it there (`oent import etablissements`), or import only the files of the établissements this ENT serves",
            files[s.at.0].display(),
            s.at.1,
            s.uai,
            s.nom,
            target.listed_in
        ));
    }
    if !problems.is_empty() {
        return Err(AafError::Problems(problems));
    }
    Ok(Read {
        accounts,
        structures: structures.len(),
        structures_used: used.len(),
    })
}

/// What the requests read so far have found.
struct Found<'a> {
    structures: &'a mut HashMap<String, Structure>,
    people: &'a mut HashMap<String, Person>,
    refused: &'a mut HashSet<String>,
    problems: &'a mut Vec<String>,
}

/// One request read: an établissement, an account, or a problem.
fn entry(request: Request, at: (usize, u64), place: &str, files: &[PathBuf], found: &mut Found) {
    let Found {
        structures,
        people,
        refused,
        problems,
    } = found;
    let Some(id) = request.id.clone() else {
        problems.push(format!(
            "  {place}: an `<{}>` without `<identifier><id>`; every AAF entry has one",
            request.kind
        ));
        return;
    };
    if request.kind != "addRequest" {
        problems.push(format!(
            "  {place}: entry `{id}` is a `<{}>`: this file is a delta export (`…_Delta_…`); oent imports complete exports (`…_Complet_…`), which hold every account",
            request.kind
        ));
        return;
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        problems.push(format!(
            "  {place}: identifier `{id}` has characters other than letters, digits, `-`, `_` and `.`; the AAF's identifiers (ENTPersonJointure) have none"
        ));
        return;
    }
    let (kind, category) = request.category.clone().unwrap_or_default();
    let seen = |at: (usize, u64)| format!("`{}`, line {}", files[at.0].display(), at.1);
    match kind.as_str() {
        "categorieStructure" if category == STRUCTURE => {
            if let Some(first) = structures.get(&id) {
                problems.push(format!(
                    "  {place}: établissement `{id}` is already at {}; an export lists each établissement once: ask the académie for a new complete export",
                    seen(first.at)
                ));
                return;
            }
            let Some(uai) = request.first("ENTStructureUAI").map(str::to_owned) else {
                problems.push(format!(
                    "  {place}: entry `{id}` ({STRUCTURE}), attribute `ENTStructureUAI`: missing; expected the établissement's UAI (7 digits and a check letter)"
                ));
                return;
            };
            if let Err(e) = check_uai(&uai) {
                refused.insert(id.clone());
                problems.push(format!(
                    "  {place}: entry `{id}` ({STRUCTURE}), attribute `ENTStructureUAI`: {e}; have the académie correct it (the letter follows from the 7 digits), or leave this établissement's files out"
                ));
                return;
            }
            let nom = request.first("ENTStructureNomCourant").unwrap_or("").to_owned();
            structures.insert(id, Structure { uai, nom, at });
        }
        "categoriePersonne" => {
            let class = match category.as_str() {
                "Eleve" => ELEVE,
                "PersRelEleve" => PARENT,
                "PersEducNat" => {
                    let teaches = request.first("PersEducNatPresenceDevantEleves") == Some("O")
                        || request
                            .values("ENTPersonFonctions")
                            .iter()
                            .any(|f| f.contains("$ENS$"));
                    if teaches { ENSEIGNANT } else { NON_ENSEIGNANT }
                }
                other => {
                    problems.push(format!(
                        "  {place}: entry `{id}`: `categoriePersonne` is `{other}`, expected one of {} (the profiles of the AAF's second-degree exports); leave this file out of the import",
                        PROFILES.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ));
                    return;
                }
            };
            if let Some(first) = people.get(&id) {
                problems.push(format!(
                    "  {place}: identifier `{id}` ({category}) is already at {}; an AAF export holds each person once: check that no file was given twice, or ask the académie for a new complete export",
                    seen(first.at)
                ));
                return;
            }
            let Some(sn) = request.first("sn").map(str::to_owned) else {
                problems.push(format!(
                    "  {place}: entry `{id}` ({category}), attribute `sn`: missing; expected the person's name"
                ));
                return;
            };
            let responsables = if class == ELEVE {
                let mut r: BTreeSet<String> = BTreeSet::new();
                for name in ["ENTEleveAutoriteParentale", "ENTElevePere", "ENTEleveMere", "ENTEleveParents", "ENTElevePersRelEleve"] {
                    // `ENTElevePersRelEleve` is `id$…`: the identifier comes first.
                    r.extend(
                        request
                            .values(name)
                            .iter()
                            .filter_map(|v| v.split('$').next())
                            .map(str::to_owned),
                    );
                }
                r.into_iter().collect()
            } else {
                Vec::new()
            };
            let birth_date = request.first("ENTPersonDateNaissance").filter(|d| !d.is_empty());
            if let Some(date) = birth_date.filter(|d| !is_sdet_date(d)) {
                problems.push(format!(
                    "  {place}: entry `{id}` ({category}), attribute `ENTPersonDateNaissance`: `{date}` is not a date `JJ/MM/AAAA`, the form of the AAF and the SDET; ask the académie for a new complete export"
                ));
                return;
            }
            // `ENTEleveClasses` is `<établissement's AAF id>$<class>`.
            let classes = request
                .values("ENTEleveClasses")
                .iter()
                .filter_map(|v| v.split_once('$'))
                .filter(|(_, class)| !class.is_empty())
                .map(|(s, class)| (s.to_owned(), class.to_owned()))
                .collect();
            let account = Account {
                id: id.clone(),
                class,
                sn,
                given_name: request.first("givenName").map(str::to_owned),
                mail: request.first("mail").map(str::to_owned),
                birth_date: birth_date.map(str::to_owned),
                uais: Vec::new(),
                classes: Vec::new(),
            };
            let structures = request.values("ENTPersonStructRattach").to_vec();
            people.insert(
                id,
                Person {
                    account,
                    structures,
                    classes,
                    responsables,
                    at,
                },
            );
        }
        "categorieStructure" => problems.push(format!(
            "  {place}: entry `{id}`: `categorieStructure` is `{category}`, expected `{STRUCTURE}`; leave this file out of the import"
        )),
        _ => problems.push(format!(
            "  {place}: entry `{id}` has no `categoriePersonne` nor `categorieStructure` in `<operationalAttributes>`: this is not an AAF entry"
        )),
    }
}

/// `JJ/MM/AAAA`: the AAF's and the SDET's date (`ENTPersonDateNaissance`).
fn is_sdet_date(date: &str) -> bool {
    let b = date.as_bytes();
    b.len() == 10
        && b[2] == b'/'
        && b[5] == b'/'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_birth_date_is_jj_mm_aaaa() {
        assert!(is_sdet_date("14/03/2013"));
        for bad in [
            "2013-03-14",
            "14/3/2013",
            "14/03/13",
            "aa/bb/cccc",
            "14/03/2013 ",
        ] {
            assert!(!is_sdet_date(bad), "{bad}");
        }
    }
}

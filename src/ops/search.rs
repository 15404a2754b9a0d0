//! `oent search WORDS`: the modules of the [`Catalogue`] whose name,
//! summary, description, capabilities or category hold every word, best
//! first. Words match without regard to case or French accents (`ecole`
//! finds `école`); a word in the name weighs most, then a capability, the
//! category, the summary, the description.

use super::info::{BrowseError, Catalogue, newest};
use crate::manifest::module::Module;

/// One module found, with the newest version's manifest.
#[derive(Debug)]
pub struct Found {
    pub registry: String,
    pub module: Module,
    pub score: u32,
}

/// What `oent search` found, and the registries it could not search.
#[derive(Debug)]
pub struct SearchOutcome {
    pub found: Vec<Found>,
    /// Registries that cannot list their modules (static web servers).
    pub unlistable: Vec<String>,
}

/// Every module matching all of `words`, best first (then by name).
pub fn search(catalogue: &Catalogue, words: &[String]) -> Result<SearchOutcome, BrowseError> {
    let words: Vec<String> = words
        .iter()
        .flat_map(|w| w.split_whitespace())
        .map(fold)
        .collect();
    let (modules, unlistable) = catalogue.modules();
    let mut found = Vec::new();
    for (name, owner) in modules {
        let (_, lines) = catalogue.versions(name.as_str())?;
        let Some(line) = newest(&lines) else { continue };
        let module = catalogue.manifest(owner, line)?;
        if let Some(score) = score(&module, &words) {
            found.push(Found {
                registry: owner.name.clone(),
                module,
                score,
            });
        }
    }
    found.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.module.name.cmp(&b.module.name))
    });
    Ok(SearchOutcome { found, unlistable })
}

/// The weight of each field a word can match.
const WEIGHTS: &[(u32, Field)] = &[
    (8, Field::Name),
    (6, Field::Provides),
    (4, Field::Category),
    (3, Field::Summary),
    (1, Field::Description),
];

#[derive(Debug, Clone, Copy)]
enum Field {
    Name,
    Provides,
    Category,
    Summary,
    Description,
}

/// The sum over words of the weights of the fields each matches; `None`
/// when a word matches nothing.
fn score(module: &Module, words: &[String]) -> Option<u32> {
    let text = |field: Field| {
        fold(&match field {
            Field::Name => module.name.as_str().to_owned(),
            Field::Provides => module.provides.join(" "),
            Field::Category => module.category.to_owned(),
            Field::Summary => module.summary.clone(),
            Field::Description => module.description.clone().unwrap_or_default(),
        })
    };
    let fields: Vec<(u32, String)> = WEIGHTS.iter().map(|(w, f)| (*w, text(*f))).collect();
    words.iter().try_fold(0, |total, word| {
        let score: u32 = fields
            .iter()
            .filter(|(_, text)| text.contains(word.as_str()))
            .map(|(w, _)| w)
            .sum();
        (score > 0).then_some(total + score)
    })
}

/// Lower case without the accents of French (`Élève` → `eleve`), so that a
/// word typed without them still matches.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ÿ' => 'y',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_french_accents() {
        assert_eq!(
            fold("Élève, ÉCOLE, Cahier à Noël"),
            "eleve, ecole, cahier a noel"
        );
    }
}

//! `scale:` of distribution.yaml: how big the collectivité's ENT is
//! (`comptes`, `eleves`, `etablissements`), the measure each module's
//! `service.sizing` is computed from. What the file does not state is derived
//! with the documented ratios below (docs/formats.md, "scale").

use super::DistributionChain;
use crate::manifest::fields::Checker;
use crate::manifest::sizing::{MEASURES, Scale, positive};
use crate::manifest::yaml::{Node, Span};

/// Pupils per établissement when only établissements are known: between a
/// collège (about 520 pupils on average) and a lycée (about 900).
pub const ELEVES_PER_ETABLISSEMENT: u64 = 600;

/// Accounts per pupil, as tenths: the pupil, 1.5 parents (legal guardians
/// with an account) and 0.1 staff (teachers, direction, vie scolaire).
pub const COMPTES_PER_ELEVE_TENTHS: u64 = 26;

/// `scale:` as written: each measure the file states, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatedScale {
    pub comptes: Option<u64>,
    pub eleves: Option<u64>,
    pub etablissements: Option<u64>,
}

pub(super) fn parse_scale(checker: &mut Checker, node: &Node, anchor: Span) -> Option<StatedScale> {
    let fields = checker.map(node, "scale", anchor, MEASURES)?;
    let mut read = |key: &str| {
        fields
            .get(key)
            .and_then(|n| positive(checker, n, &format!("scale.{key}")))
    };
    let scale = StatedScale {
        comptes: read("comptes"),
        eleves: read("eleves"),
        etablissements: read("etablissements"),
    };
    if fields.entries().is_empty() {
        checker.report(
            crate::manifest::diagnostic::Code::MissingKey,
            node.span,
            "scale",
            "`scale` states no measure",
            "write `scale: { comptes: 1200000 }` or `scale: { etablissements: 100, eleves: 70000 }`, or remove `scale` to derive it from the établissements",
        );
    }
    Some(scale)
}

impl StatedScale {
    /// Every measure, the missing ones derived: établissements from the
    /// list in force (`listed`), pupils from établissements or accounts,
    /// accounts from pupils.
    pub fn derive(&self, listed: usize) -> Scale {
        let etablissements = self.etablissements.unwrap_or(listed.max(1) as u64);
        let eleves = self.eleves.unwrap_or_else(|| match self.comptes {
            Some(c) => (c * 10).div_ceil(COMPTES_PER_ELEVE_TENTHS),
            None => etablissements * ELEVES_PER_ETABLISSEMENT,
        });
        let comptes = self
            .comptes
            .unwrap_or_else(|| (eleves * COMPTES_PER_ELEVE_TENTHS).div_ceil(10));
        Scale {
            comptes,
            eleves,
            etablissements,
        }
    }
}

impl DistributionChain {
    /// The scale in force: the nearest layer's `scale`, completed; without
    /// one, derived from the établissements in force.
    pub fn scale(&self) -> Scale {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.scale)
            .unwrap_or_default()
            .derive(self.etablissements().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_measures_are_derived_with_the_documented_ratios() {
        let none = StatedScale::default();
        assert_eq!(
            none.derive(100),
            Scale {
                etablissements: 100,
                eleves: 60_000,
                comptes: 156_000
            }
        );
        let essonne = StatedScale {
            etablissements: Some(100),
            eleves: Some(70_000),
            comptes: None,
        };
        assert_eq!(essonne.derive(3).comptes, 182_000);
        let idf = StatedScale {
            comptes: Some(1_200_000),
            ..StatedScale::default()
        };
        assert_eq!(
            idf.derive(471),
            Scale {
                etablissements: 471,
                eleves: 461_539,
                comptes: 1_200_000
            }
        );
        assert_eq!(none.derive(0).etablissements, 1);
    }
}

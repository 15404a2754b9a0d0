//! Checks of a resolved distribution that later stages plug into building
//! and lint (licence policy, forks), and what they see.

use std::collections::BTreeMap;

use crate::manifest::distribution::DistributionChain;
use crate::manifest::names::ModuleName;
use crate::manifest::{Diagnostic, Module};
use crate::registry::cache::Cache;
use crate::resolve::Resolution;
use crate::resolve::sources::SourceSet;

/// What a [`BuildCheck`] sees: the distribution, its resolution, the
/// modules read from their archives, and the registries (to fetch other
/// versions, such as a fork's base).
pub struct ResolvedDistribution<'a> {
    pub chain: &'a DistributionChain,
    pub resolution: &'a Resolution,
    pub modules: &'a BTreeMap<ModuleName, Module>,
    pub sources: &'a SourceSet,
    pub cache: &'a Cache,
}

/// A check of the resolved distribution: errors stop the build before
/// anything is written, warnings are reported with the bundle.
pub trait BuildCheck: std::fmt::Debug + Send + Sync {
    fn check(&self, resolved: &ResolvedDistribution) -> Vec<Diagnostic>;
}

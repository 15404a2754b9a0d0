//! Licences: SPDX expressions checked against the distribution's policy
//! (`licence:` in distribution.yaml, default `cecill-2.1`), the built-in
//! compatibility table and its reasons, and the compliance reports and
//! SBOMs of `oent licences` (Markdown, SPDX 2.3 JSON, CycloneDX 1.5 JSON).
//!
//! - [`compat`]: the table (what may be combined with CeCILL-2.1, and why);
//! - [`policy`]: evaluation of a resolution, with the chain that pulls each module in;
//! - [`report`]: the reports, byte-stable.
//!
//! Uses `manifest`, `resolve`, `workspace` (build checks) and `contribute`
//! (reversal status of forks); `lint` and `ops` use it.

pub mod compat;
pub mod policy;
pub mod report;

use crate::manifest::Diagnostic;
use crate::workspace::{BuildCheck, ResolvedDistribution};

/// The [`BuildCheck`] of the licence policy, run by `oent build`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LicenceCheck;

impl BuildCheck for LicenceCheck {
    fn check(&self, resolved: &ResolvedDistribution) -> Vec<Diagnostic> {
        policy::check(resolved.chain, resolved.resolution, resolved.modules)
    }
}

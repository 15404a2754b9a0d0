//! The built-in table of the `cecill-2.1` policy: which licences a module may
//! carry in a distribution published under CeCILL-2.1, and why. Each verdict
//! has a reason sentence, shown to the collectivité and in docs/licences.md.
//!
//! Sources: the CeCILL-2.1 text (art. 5.3.4, compatibility with the GNU GPL,
//! GNU Affero GPL and EUPL; art. 12.3, later versions of the licence), the
//! EUPL-1.2 appendix of compatible licences, and the FSF's list of licences
//! and their compatibility with the GNU GPL.

/// What the table says of one licence identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed(&'static str),
    Denied(&'static str),
}

impl Verdict {
    pub fn allowed(self) -> bool {
        matches!(self, Verdict::Allowed(_))
    }
    pub fn reason(self) -> &'static str {
        match self {
            Verdict::Allowed(r) | Verdict::Denied(r) => r,
        }
    }
}

const CECILL: &str = "CeCILL is the distribution's own licence family; art. 12.3 of the CeCILL lets software under an earlier version be redistributed under a later one";
const CECILL_B: &str = "CeCILL-B is permissive (BSD-like): it only asks that authors be cited, so the code may be combined into CeCILL-2.1 software";
const CECILL_C: &str = "CeCILL-C covers the component only (as the LGPL does): the component stays CeCILL-C inside a CeCILL-2.1 whole";
const GNU: &str = "CeCILL-2.1 art. 5.3.4 allows combining code under any version of the GNU GPL or GNU Affero GPL, the whole then being distributed under that GNU licence";
const LGPL: &str = "LGPL code may be relicensed under the GNU GPL (LGPL-2.1 §3; LGPL-3.0 is the GPL-3.0 with extra permissions), which CeCILL-2.1 art. 5.3.4 accepts";
const EUPL: &str = "CeCILL-2.1 art. 5.3.4 names the EUPL as compatible, and the EUPL-1.2 appendix lists CeCILL-2.0 and 2.1";
const PERMISSIVE: &str = "permissive: it only asks to keep copyright and licence notices (and, for Apache-2.0, its patent terms), so the code may be combined into CeCILL-2.1 software";
const MPL: &str = "MPL-2.0 §3.3 allows a larger work under the GNU licences (its secondary licences), so under CeCILL-2.1 through art. 5.3.4; the MPL files themselves stay MPL";
const AGGREGATE: &str = "weak copyleft not compatible with the GNU GPL: accepted because oent deploys each module as a separate service (aggregation, not a combined work); its own files keep their licence";
const NOT_FREE: &str = "not a free software licence (it restricts use, field of use or commercial use), so it cannot be redistributed on CeCILL's terms";
const UNKNOWN: &str = "the cecill-2.1 policy's table does not cover this licence: review it, then add it to `licence.allow` (or `licence.deny`) in distribution.yaml";

/// The table: licence ids (exact SPDX spelling) and their verdict.
const TABLE: &[(&[&str], Verdict)] = &[
    (
        &["CECILL-2.1", "CECILL-2.0", "CECILL-1.1", "CECILL-1.0"],
        Verdict::Allowed(CECILL),
    ),
    (&["CECILL-B"], Verdict::Allowed(CECILL_B)),
    (&["CECILL-C"], Verdict::Allowed(CECILL_C)),
    (
        &[
            "GPL-2.0-only",
            "GPL-2.0-or-later",
            "GPL-3.0-only",
            "GPL-3.0-or-later",
            "AGPL-3.0-only",
            "AGPL-3.0-or-later",
        ],
        Verdict::Allowed(GNU),
    ),
    (
        &[
            "LGPL-2.1-only",
            "LGPL-2.1-or-later",
            "LGPL-3.0-only",
            "LGPL-3.0-or-later",
        ],
        Verdict::Allowed(LGPL),
    ),
    (&["EUPL-1.1", "EUPL-1.2"], Verdict::Allowed(EUPL)),
    (
        &[
            "MIT",
            "MIT-0",
            "X11",
            "ISC",
            "0BSD",
            "BSD-2-Clause",
            "BSD-3-Clause",
            "Apache-2.0",
            "Zlib",
            "OLDAP-2.8",
            "PostgreSQL",
            "BSL-1.0",
            "Unlicense",
            "CC0-1.0",
            "Python-2.0",
            "PHP-3.01",
        ],
        Verdict::Allowed(PERMISSIVE),
    ),
    (&["MPL-2.0"], Verdict::Allowed(MPL)),
    (
        &[
            "EPL-1.0", "EPL-2.0", "IPL-1.0", "CDDL-1.0", "CDDL-1.1", "MPL-1.1", "CPL-1.0",
        ],
        Verdict::Allowed(AGGREGATE),
    ),
    (
        &[
            "SSPL-1.0",
            "BUSL-1.1",
            "Elastic-2.0",
            "CC-BY-NC-4.0",
            "CC-BY-NC-SA-4.0",
            "CC-BY-NC-ND-4.0",
            "CC-BY-ND-4.0",
        ],
        Verdict::Denied(NOT_FREE),
    ),
];

/// The table's verdict on one licence id; ids it does not list are denied
/// with a reason that says how to decide.
pub fn verdict(id: &str) -> Verdict {
    TABLE
        .iter()
        .find(|(ids, _)| ids.contains(&id))
        .map_or(Verdict::Denied(UNKNOWN), |(_, v)| *v)
}

/// Every row, for docs/licences.md and its test.
pub fn rows() -> impl Iterator<Item = (&'static [&'static str], Verdict)> {
    TABLE.iter().copied()
}

/// Pairs that may not be combined even though each is allowed alone: a
/// module and a module it requires are a combined work when one links or
/// embeds the other, so their licences must agree with each other.
const CONFLICTS: &[(&[&str], &[&str], &str)] = &[
    (
        &["GPL-2.0-only"],
        &["Apache-2.0"],
        "the FSF holds Apache-2.0's patent termination and indemnity terms to be further restrictions that GPL-2.0 forbids",
    ),
    (
        &["GPL-2.0-only"],
        &[
            "GPL-3.0-only",
            "GPL-3.0-or-later",
            "AGPL-3.0-only",
            "AGPL-3.0-or-later",
            "LGPL-3.0-only",
            "LGPL-3.0-or-later",
        ],
        "GPL-2.0-only code cannot move to version 3 of the GNU licences, and version 3 code cannot be distributed under version 2",
    ),
];

/// Why `a` and `b` cannot be combined, if they cannot (either order).
pub fn conflict(a: &str, b: &str) -> Option<&'static str> {
    CONFLICTS.iter().find_map(|(left, right, reason)| {
        ((left.contains(&a) && right.contains(&b)) || (left.contains(&b) && right.contains(&a)))
            .then_some(*reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_in_the_table_is_a_current_spdx_id() {
        for (ids, _) in rows() {
            for id in ids {
                let known = spdx::license_id(id).unwrap_or_else(|| panic!("{id} is not SPDX"));
                assert!(!known.is_deprecated(), "{id} is deprecated");
            }
        }
    }

    #[test]
    fn verdicts_have_reasons() {
        assert!(verdict("AGPL-3.0-only").allowed());
        assert!(!verdict("SSPL-1.0").allowed());
        assert!(verdict("Beerware").reason().contains("licence.allow"));
        assert!(conflict("Apache-2.0", "GPL-2.0-only").is_some());
        assert!(conflict("GPL-2.0-or-later", "Apache-2.0").is_none());
    }
}

//! The plan of one release: what is released, as which version and tag,
//! established by its first step and read by every later one (its own file
//! so that the steps in `cut` and the comparison in `compare` both read it
//! without reading each other).

use semver::Version;

use super::Kind;
use crate::registry::signing::SecretKey;

/// What the release's first step (`cut::check`) established: what is released, as which version and tag.
pub(super) struct Plan {
    /// The released directory, relative to the work tree's root.
    pub dir: String,
    /// The branch released from (`refs/heads/…`).
    pub branch: String,
    pub kind: Kind,
    pub name: String,
    pub current: Version,
    pub version: Version,
    /// The tag's prefix (`v` or `<name>-v`), to find the previous release.
    pub prefix: String,
    pub tag: String,
    /// The signing key: a module's real release only.
    pub(super) key: Option<SecretKey>,
}

impl Plan {
    pub(super) fn is_module(&self) -> bool {
        matches!(self.kind, Kind::Module(_))
    }

    pub(super) fn branch_name(&self) -> &str {
        self.branch.trim_start_matches("refs/heads/")
    }
}

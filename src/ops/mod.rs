//! Operations: one function per command, over the stages above (cargo's
//! `ops/`). `cli/` parses arguments, calls one of these, and prints what it
//! returns; every decision a library user would need lives here or below.
//!
//! - [`build`]: `oent build`, the workspace rendered into a bundle;
//! - [`values`]: `oent values`, every final value with where it came from, and its option;
//! - [`import`]: `oent import etablissements`, the Annuaire de l'éducation as etablissements.csv;
//! - [`aaf`]: `oent import aaf`, an académie's AAF export as LDIF for the distribution's directory;
//! - [`info`], [`search`]: `oent info` and `oent search`, browsing a distribution's
//!   registries or the catalogue built into oent;
//! - [`licences`]: `oent licences`, the compliance report and its problems;
//! - [`resolve`]: `oent resolve`/`update`, `oent tree`, `oent why`;
//! - [`fetch`]: `oent fetch`, the versions a requirement selects, downloaded and verified;
//! - [`registry`]: `oent registry add|build`, the snapshot signed again after a change;
//! - [`forge`]: the forge assembled from forge.yaml, a mirroring pass, a new token;
//! - [`publish`]: `oent publish` and `oent yank`, to an oent forge or a GitLab project;
//! - [`preview`]: `oent update --dry-run`, `oent build --diff`, an upgrade shown before it is written;
//! - [`new`]: `oent new`, a scaffold in its default directory; [`key`]: `oent key new`;
//! - [`fork`], [`contribute`], [`lint`], [`package`], [`release`], [`verify`]:
//!   the operations of those stages, re-exported so that every command has
//!   its function here.
//!
//! Sits after every stage and before `cli`.

pub mod aaf;
pub mod build;
pub mod fetch;
pub mod forge;
pub mod import;
pub mod info;
pub mod key;
pub mod licences;
pub mod new;
pub mod preview;
pub mod publish;
pub mod registry;
pub mod resolve;
pub mod search;
pub mod values;

pub use crate::contribute::fork::fork;
pub use crate::contribute::upstream::contribute;
pub use crate::lint::lint;
pub use crate::package::pack as package;
pub use crate::release::release;
pub use crate::release::verify::verify;
/// `oent diff`: two bundles compared file by file (no workspace needed).
pub use crate::render::diff::diff;
/// The bounds `oent build` renders within, and the size syntax of its flags.
pub use crate::render::limits::{RenderLimits, parse_size};
pub use build::{BuildError, BuildOptions, BuildOutcome, WriteOptions, build, build_with};
pub use licences::licences;
pub use resolve::{resolve, tree, why};
pub use values::values;

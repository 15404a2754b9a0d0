//! oent: the Open ENT as a software distribution.
//!
//! The crate follows the data flow, one folder per stage; a stage may use the
//! stages above it in this list, never those below:
//!
//! - [`manifest`]: `module.yaml` and `distribution.yaml`, loaded with spans and validated;
//! - [`package`]: deterministic module archives and their safe unpacking;
//! - [`registry`]: static registries (directory or HTTP), their index, cache and snapshots;
//! - [`resolve`]: pubgrub over the registries, the lockfile, conflict explanations;
//! - [`workspace`]: a distribution loaded once: its chain, registries, lock, modules and values;
//! - [`render`]: Tera rendering for every établissement, the deployment target, the bundle;
//! - [`forge`]: the registry server with publishing, federation and catalogue, and its client;
//! - [`release`]: `oent release` and `oent verify`: tagged, signed, reproducible releases,
//!   published through the forge client;
//! - [`contribute`]: forks, their difference from their base, contributions upstream (git2);
//! - [`licence`]: licence policy and compatibility, compliance reports and SBOMs;
//! - [`lint`]: every problem of a tree of manifests, as human, JSON, JUnit or Code Quality reports;
//! - [`ops`]: one function per command over the stages above (`ops::build`, `ops::values`, …).
//!
//! [`fsutil`] holds the atomic file writes every stage uses, and
//! [`transport`] the git program's clones, listings and pushes over the
//! network (https, ssh) that `release` and `contribute` use. The `oent`
//! binary (`src/main.rs`, `src/cli/`) parses arguments, calls one
//! operation of [`ops`] per command, and prints; `cli/report.rs` is the one
//! place that prints a failure and picks its exit status.

pub mod contribute;
pub mod forge;
pub mod fsutil;
pub mod licence;
pub mod lint;
pub mod manifest;
pub mod ops;
pub mod package;
pub mod registry;
pub mod release;
pub mod render;
pub mod resolve;
pub mod transport;
pub mod workspace;

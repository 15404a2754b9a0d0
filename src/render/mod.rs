//! Rendering a distribution into a deployable bundle. Uses `manifest/`,
//! `package/` (safe unpacking), `registry/` (fetching) and `resolve/` (the lock).
//!
//! - [`values`]: every option's final value, typed, with where it came from;
//! - [`context`]: the render context, built once and shared;
//! - [`engine`]: module templates, once or per établissement, strict;
//! - [`deploy`]: compose / Kubernetes / README templates;
//! - [`bundle`]: `bundle.json` and the atomic write;
//! - [`build`]: the whole operation.

pub mod build;
pub mod bundle;
pub mod context;
pub mod deploy;
pub mod diff;
pub mod engine;
pub mod values;

pub use build::{BuildError, BuildOptions, BuildOutcome, build};

//! Rendering a distribution into a deployable bundle. Uses `manifest/`,
//! `package/` (safe unpacking), `registry/` (fetching) and `resolve/` (the lock).
//!
//! - [`values`]: every option's final value, typed, with where it came from;
//! - [`context`]: the render context, built once and shared;
//! - [`engine`]: module templates, once or per établissement, strict;
//! - [`deploy`]: compose / Kubernetes / README templates;
//! - [`limits`]: bounds on what rendering may write, and for how long;
//! - [`out_dir`]: which folder a bundle may replace;
//! - [`bundle`]: streaming files to a staging directory, `bundle.json`, the atomic swap;
//! - [`build`]: the whole operation.

pub mod build;
pub mod bundle;
pub mod context;
pub mod deploy;
pub mod diff;
pub mod engine;
pub mod limits;
pub mod out_dir;
pub mod values;

pub use build::{BuildError, BuildOptions, BuildOutcome, WriteOptions, build, build_with};

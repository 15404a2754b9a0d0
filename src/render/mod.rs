//! Rendering a distribution into a deployable bundle. Uses `manifest/`,
//! `registry/` (progress) and `workspace/` (the distribution loaded, its
//! modules fetched, its values typed).
//!
//! - [`context`]: the render context, built once and shared;
//! - [`engine`]: module templates, once or per établissement, strict;
//! - [`deploy`]: compose / Kubernetes / README templates; [`contract`]: what
//!   they place, from each module's deployment contract;
//! - [`well_formed`]: rendered JSON, YAML, LDIF, PHP… parsed back before the bundle is written;
//! - [`limits`]: bounds on what rendering may write, and for how long;
//! - [`out_dir`]: which folder a bundle may replace;
//! - [`bundle`]: streaming files to a staging directory (a shard per rendering
//!   thread, absorbed in the modules' order), `bundle.json`, the atomic swap;
//! - [`diff`]: two bundles compared, file by file (`oent diff`).
//!
//! Nothing here fetches or resolves: `ops::build` loads the workspace and
//! drives these pieces.

pub mod bundle;
pub mod context;
pub mod contract;
pub mod deploy;
pub mod diff;
pub mod engine;
pub mod limits;
pub mod out_dir;
pub mod well_formed;

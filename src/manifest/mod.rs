//! Manifests: `module.yaml` and `distribution.yaml`, read with source spans and
//! validated into domain types. This is the first stage: it uses no other.
//!
//! - [`source`]: reading files (size cap, UTF-8, BOM, CRLF) and line:column maps;
//! - [`yaml`]: YAML into a tree of spanned nodes (serde-saphyr, with budgets);
//! - [`diagnostic`]: codes and diagnostics shared by every stage;

pub mod diagnostic;
pub mod source;
pub mod yaml;

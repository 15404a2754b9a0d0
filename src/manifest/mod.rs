//! Manifests: `module.yaml` and `distribution.yaml`, read with source spans and
//! validated into domain types. This is the first stage: it uses no other.
//!
//! - [`source`]: reading files (size cap, UTF-8, BOM, CRLF) and line:column maps;
//! - [`yaml`]: YAML into a tree of spanned nodes (serde-saphyr, with budgets);
//! - [`fields`]: typed reads out of that tree, collecting every problem;
//! - [`diagnostic`]: codes and diagnostics shared by every stage, and their drawing
//!   (`diagnostic::render`: source line, caret, `help:`) that every command prints;
//! - [`names`], [`formats`]: module names, versions, requirements, UAI, URLs…;
//! - [`option`]: typed config options and value checks;
//! - [`login`]: `service.login`, and the pairing of a distribution's services with its
//!   SSO provider;
//! - [`module`]: `module.yaml`; [`template_check`] and [`template_vars`] check its templates
//!   against the [`render_context`]; [`template_filters`]: the escaping filters
//!   (`json_string`, `ldif_value`…) a template may use, shared with `render`;
//! - [`distribution`]: `distribution.yaml`, its `extends` chain and établissements.
//!
//! [`yaml`] and [`fields`] are the raw shapes and stay inside the crate:
//! other code (the binary, tests, stages) gets only the validated types.
//!
//! ```compile_fail
//! use oent::manifest::yaml::Node;
//! ```
//!
//! ```compile_fail
//! use oent::manifest::fields::Fields;
//! ```
//!
//! ```
//! use oent::manifest::{Distribution, Module};
//! ```

pub mod diagnostic;
pub mod distribution;
pub mod etablissement;
pub(crate) mod fields;
pub mod formats;
pub mod load;
pub mod lockfile;
pub mod login;
pub mod module;
pub mod names;
pub mod option;
pub mod render_context;
pub mod scaffold;
pub mod security;
pub mod service;
pub mod settings;
pub mod sizing;
pub mod source;
pub mod template_bounds;
pub mod template_check;
pub mod template_filters;
pub mod template_spec;
pub mod template_vars;
pub mod uai;
pub(crate) mod yaml;

pub use diagnostic::{Code, Diagnostic, Severity};
pub use distribution::{Distribution, DistributionChain};
pub use load::{Loaded, ReadError};
pub use module::Module;

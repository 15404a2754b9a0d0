//! Databases a resolution needs and does not deploy: a module whose
//! deployment contract lists a database engine (`service.databases`) needs a
//! module of the same resolution that `provides` that engine (the catalogue's
//! `openent/mariadb`, `openent/postgresql`). Checked once the modules are
//! read: the registry index does not carry contracts.

use std::collections::BTreeMap;
use std::path::Path;

use crate::manifest::names::ModuleName;
use crate::manifest::{Code, Diagnostic, Module};

/// One error per (module, engine) that nothing in `modules` provides,
/// reported against the distribution that chose the modules.
pub fn unmet_databases(
    distribution: &Path,
    modules: &BTreeMap<ModuleName, Module>,
) -> Vec<Diagnostic> {
    let provided = |engine: &str| {
        modules
            .values()
            .any(|m| m.provides.iter().any(|c| c == engine))
    };
    let mut out = Vec::new();
    for (name, module) in modules {
        let Some(service) = &module.service else {
            continue;
        };
        for need in &service.databases {
            if provided(need.engine) {
                continue;
            }
            out.push(
                Diagnostic::error(
                    Code::DatabaseNotProvided,
                    distribution,
                    format!(
                        "`{name}` needs a `{}` database, and no module of the distribution provides `{}`",
                        need.engine, need.engine
                    ),
                )
                .key("modules")
                .help(format!(
                    "add a module that provides `{}` to `modules:`, e.g. the catalogue's `openent/{}`",
                    need.engine, need.engine
                )),
            );
        }
    }
    out
}

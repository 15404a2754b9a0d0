//! `oent values`: the workspace's final values, typed, each with where it
//! came from and the option that takes it (type, bounds, doc), for one
//! module or all, as one établissement gets them or as the distribution
//! sets them.

use std::collections::BTreeMap;

use crate::manifest::names::ModuleName;
use crate::manifest::option::ConfigOption;
use crate::workspace::values::{
    CommandLineValue, FinalValue, Unknown, known_etablissement, known_module, module_values,
};
use crate::workspace::{Workspace, WorkspaceError, WorkspaceOptions};

#[derive(Debug, Clone)]
pub struct ValuesOptions {
    pub workspace: WorkspaceOptions,
    pub sets: Vec<CommandLineValue>,
    /// Only this module (`NS/NAME`, as written: an unknown one is an error).
    pub module: Option<String>,
    /// The values this établissement gets (its UAI).
    pub etablissement: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// Loading failed, or values do not type (`Problems`).
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The module or établissement asked for is not in the distribution.
    #[error(transparent)]
    Unknown(#[from] Unknown),
}

/// Each module shown, sorted, with its options and their final values.
pub type Values = BTreeMap<ModuleName, BTreeMap<String, ShownValue>>;

/// One final value and the declaration of its option.
#[derive(Debug, Clone)]
pub struct ShownValue {
    pub value: FinalValue,
    pub option: ConfigOption,
}

pub fn values(options: &ValuesOptions) -> Result<Values, ValuesError> {
    let workspace = Workspace::load(&options.workspace)?;
    let chain = workspace.chain();
    let values = module_values(chain, &workspace.modules, &options.sets)
        .map_err(WorkspaceError::Problems)?;
    if let Some(asked) = &options.module {
        known_module(chain, &values, asked)?;
    }
    if let Some(uai) = &options.etablissement {
        known_etablissement(chain, uai)?;
    }
    let uai = options.etablissement.as_deref();
    Ok(values
        .into_iter()
        .filter(|(name, _)| options.module.as_deref().is_none_or(|m| m == name.as_str()))
        .map(|(name, module)| {
            let overrides = uai.and_then(|u| module.overrides.get(u));
            let declared = &workspace.modules[&name].config;
            let shown = module
                .values
                .iter()
                .filter_map(|(option, value)| {
                    let value = overrides.and_then(|o| o.get(option)).unwrap_or(value);
                    let shown = ShownValue {
                        value: value.clone(),
                        option: declared.get(option)?.clone(),
                    };
                    Some((option.clone(), shown))
                })
                .collect();
            (name, shown)
        })
        .collect())
}

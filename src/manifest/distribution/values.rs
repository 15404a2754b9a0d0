//! The values a distribution sets, checked against the options of the
//! modules that declare them: one function types a value, so that lint and
//! build can never disagree.

use serde_json::Value;

use super::{DistributionChain, at_origin};
use crate::manifest::diagnostic::{Code, Diagnostic, suggest};
use crate::manifest::etablissement::ValueSetting;
use crate::manifest::module::Module;
use crate::manifest::names::ModuleName;
use crate::manifest::option::{OptionType, Scope, secret_reference};

/// Checks every value a distribution chain sets against the modules that
/// declare the options; `find` looks a module up (the local catalogue at lint
/// time, the resolved modules at build time).
pub fn check_values<'m>(
    chain: &DistributionChain,
    find: impl Fn(&ModuleName) -> Option<&'m Module>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for layer in &chain.layers {
        for (name, request) in &layer.modules {
            let Some(module) = find(name) else {
                diagnostics.push(at_origin(Code::ModuleNotFound, &request.origin, format!("module `{name}` is not in the local catalogue; its values are not checked")).key(format!("modules.{name}")).help("check the name; lint from the repository that holds modules/, or resolve the distribution (oent.lock) so that lint reads its modules from the registries"));
                continue;
            };
            for (feature, origin) in &request.features {
                if !module.features.contains_key(feature) {
                    let help = match suggest(feature, module.features.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "`{name}` has features: {}",
                            module
                                .features
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    diagnostics.push(
                        at_origin(
                            Code::InvalidValue,
                            origin,
                            format!("`{name}` has no feature `{feature}`"),
                        )
                        .key(format!("modules.{name}.features"))
                        .help(help),
                    );
                }
            }
            for (option, value) in &request.config {
                check_value(
                    module,
                    option,
                    value,
                    &format!("modules.{name}.config.{option}"),
                    false,
                    &mut diagnostics,
                );
            }
        }
        for etab in layer.etablissements.iter().flatten() {
            for (name, values) in &etab.config {
                let Some(module) = find(name) else {
                    let origin = values.values().next().map_or(&etab.origin, |v| &v.origin);
                    diagnostics.push(at_origin(Code::ModuleNotFound, origin, format!("module `{name}` is not in the local catalogue; the overrides of {} are not checked", etab.uai)));
                    continue;
                };
                for (option, value) in values {
                    check_value(
                        module,
                        option,
                        value,
                        &format!("{}.{name}.{option}", etab.uai),
                        true,
                        &mut diagnostics,
                    );
                }
            }
        }
    }
    diagnostics
}

fn check_value(
    module: &Module,
    option: &str,
    value: &ValueSetting,
    key: &str,
    per_etablissement: bool,
    out: &mut Vec<Diagnostic>,
) {
    if let Err(d) = typed_value(module, option, value, key, per_etablissement) {
        out.push(*d);
    }
}

/// The value a distribution sets for a module's option, typed by the
/// option's declaration — or the diagnostic that says why it cannot be:
/// undeclared (E027), not overridable per établissement (E032), a secret in
/// clear (E033), or the wrong type or out of bounds (E028). Lint and build
/// share it, so they can never disagree.
pub fn typed_value(
    module: &Module,
    option: &str,
    value: &ValueSetting,
    key: &str,
    per_etablissement: bool,
) -> Result<Value, Box<Diagnostic>> {
    let Some(decl) = module.config.get(option) else {
        let help = match suggest(option, module.config.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if module.config.is_empty() => format!("`{}` declares no options", module.name),
            None => format!(
                "`{}` declares: {}",
                module.name,
                module.config.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(Box::new(
            at_origin(
                Code::UndeclaredValue,
                &value.origin,
                format!("`{}` has no option `{option}`", module.name),
            )
            .key(key)
            .help(help),
        ));
    };
    if per_etablissement && decl.scope != Scope::Etablissement {
        return Err(Box::new(at_origin(Code::NotEtablissementScope, &value.origin, format!("`{}.{option}` cannot be set per établissement", module.name)).key(key).help("set it for the whole distribution under `modules:`, or ask the module to declare `scope: etablissement`")));
    }
    if decl.ty == OptionType::Secret && secret_reference(&value.node).is_none() {
        return Err(Box::new(
            at_origin(
                Code::SecretInClear,
                &value.origin,
                format!(
                    "`{}.{option}` is a secret and must not be written in clear",
                    module.name
                ),
            )
            .key(key)
            .help("write `{ env: VARIABLE_NAME }` and provide the variable at deployment"),
        ));
    }
    decl.check(&value.node).map_err(|e| {
        Box::new(
            at_origin(
                Code::ValueType,
                &value.origin,
                // The position is the diagnostic's own: not repeated in the text.
                format!("{}.{option}: {e}", module.name),
            )
            .key(key)
            .help(decl.doc.as_ref().map_or_else(
                || {
                    format!(
                        "see option `{option}` in the module.yaml of {} {}",
                        module.name, module.version
                    )
                },
                |d| format!("{option}: {d}"),
            )),
        )
    })
}

//! Every option's final value, as NixOS computes module options: the option's
//! default < each distribution of the `extends` chain (base first) < the
//! distribution < `--set` on the command line < the établissement's override.
//! Each value is typed by its option's declaration before anything is
//! rendered, and every problem is reported at once with the file and line
//! that set the value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::manifest::diagnostic::render::Sources;
use crate::manifest::distribution::{DistributionChain, at_origin, typed_value};
use crate::manifest::etablissement::{Origin, ValueSetting};
use crate::manifest::names::ModuleName;
use crate::manifest::yaml::Span;
use crate::manifest::{Code, Diagnostic, Module};

/// Where a final value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// The option's default, in the module (named, not by its cache path).
    Default(String),
    Set(Origin),
    CommandLine(String),
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provenance::Default(module) => write!(f, "default (module.yaml of {module})"),
            Provenance::Set(origin) => write!(f, "{origin}"),
            Provenance::CommandLine(arg) => write!(f, "--set {arg}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinalValue {
    pub value: Value,
    pub from: Provenance,
}

/// One module's values: for the distribution, and per établissement where overridden.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleValues {
    pub values: BTreeMap<String, FinalValue>,
    /// UAI → option → value, only the options the établissement overrides.
    pub overrides: BTreeMap<String, BTreeMap<String, FinalValue>>,
}

impl ModuleValues {
    /// The values as a JSON object, with an établissement's overrides applied.
    pub fn as_object(&self, uai: Option<&str>) -> serde_json::Map<String, Value> {
        let mut out: serde_json::Map<String, Value> = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        if let Some(overrides) = uai.and_then(|u| self.overrides.get(u)) {
            for (k, v) in overrides {
                out.insert(k.clone(), v.value.clone());
            }
        }
        out
    }
}

/// A `--set openent/x.key=value` from the command line, not yet typed.
#[derive(Debug, Clone)]
pub struct CommandLineValue {
    pub module: ModuleName,
    pub option: String,
    pub node: crate::manifest::yaml::Node,
    pub written: String,
}

impl CommandLineValue {
    /// The flag as written, `--set openent/x.key=value`: the one-line text
    /// its diagnostics quote, and the path they name.
    pub fn flag(&self) -> String {
        format!("--set {}", self.written)
    }

    /// Where the value is: in the flag, from after its `=` to the end.
    fn origin(&self) -> Origin {
        let flag = self.flag();
        let start = flag.find('=').map_or(0, |i| i + 1);
        Origin {
            column: flag[..start].chars().count() + 1,
            span: Span::new(start, flag.len()),
            line: 1,
            path: PathBuf::from(flag),
        }
    }

    /// Lets diagnostics of this value quote the flag, located under `command line`.
    pub fn quote_in(&self, sources: &mut Sources) {
        let flag = self.flag();
        sources.insert_named(Path::new(&flag), "command line", flag.clone());
    }
}

/// Parses `NS/NAME.key=value`; the value is read as YAML so that `3`, `true`
/// and `[a, b]` keep their types, then typed by the option (Helm's `--set`
/// loses types; this one does not).
pub fn parse_set(arg: &str) -> Result<CommandLineValue, String> {
    let (left, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("`--set {arg}`: expected NS/NAME.option=value"))?;
    let (module, option) = left
        .rsplit_once('.')
        .ok_or_else(|| format!("`--set {arg}`: expected NS/NAME.option=value"))?;
    let module: ModuleName = module.parse().map_err(|e| format!("`--set {arg}`: {e}"))?;
    let source = crate::manifest::source::SourceFile::new("--set", format!("v: {value}\n"));
    let node = crate::manifest::yaml::parse(&source)
        .map_err(|d| format!("`--set {arg}`: {}", d.message))?;
    let crate::manifest::yaml::NodeKind::Map(mut entries) = node.kind else {
        return Err(format!("`--set {arg}`: unreadable value"));
    };
    Ok(CommandLineValue {
        module,
        option: option.to_owned(),
        node: entries.remove(0).1,
        written: arg.to_owned(),
    })
}

/// Computes the values of every module; `Err` carries every problem found.
pub fn module_values(
    chain: &DistributionChain,
    modules: &BTreeMap<ModuleName, Module>,
    sets: &[CommandLineValue],
) -> Result<BTreeMap<ModuleName, ModuleValues>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut out = BTreeMap::new();
    for (name, module) in modules {
        let (values, mut more) = values_of(chain, name, module, sets);
        problems.append(&mut more);
        out.insert(name.clone(), values);
    }
    // Values set for modules that the resolution did not include.
    for layer in &chain.layers {
        for (name, request) in &layer.modules {
            if !modules.contains_key(name) && !request.config.is_empty() {
                problems.push(
                    at_origin(
                        Code::ModuleNotFound,
                        &request.origin,
                        format!("values are set for `{name}`, which is not part of the resolution"),
                    )
                    .key(format!("modules.{name}")),
                );
            }
        }
    }
    if problems.iter().any(Diagnostic::is_error) {
        Err(problems)
    } else {
        Ok(out)
    }
}

/// One module's values, and every problem of the values the chain (and
/// `sets`) give it: undeclared, mistyped, out of bounds, a required option
/// left without a value. Build and lint both call it, so that lint reports
/// what build would refuse, for every resolved module.
pub fn values_of(
    chain: &DistributionChain,
    name: &ModuleName,
    module: &Module,
    sets: &[CommandLineValue],
) -> (ModuleValues, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let mut values = ModuleValues::default();
    for (option, decl) in &module.config {
        if let Some(default) = &decl.default {
            values.values.insert(
                option.clone(),
                FinalValue {
                    value: default.clone(),
                    from: Provenance::Default(format!("{} {}", module.name, module.version)),
                },
            );
        }
    }
    for layer in &chain.layers {
        let Some(request) = layer.modules.get(name) else {
            continue;
        };
        for (option, setting) in &request.config {
            match typed_value(
                module,
                option,
                setting,
                &format!("modules.{name}.config.{option}"),
                false,
            ) {
                Ok(value) => {
                    values.values.insert(
                        option.clone(),
                        FinalValue {
                            value,
                            from: Provenance::Set(setting.origin.clone()),
                        },
                    );
                }
                Err(d) => problems.push(*d),
            }
        }
    }
    for set in sets.iter().filter(|s| &s.module == name) {
        let setting = ValueSetting {
            node: set.node.clone(),
            origin: set.origin(),
        };
        match typed_value(
            module,
            &set.option,
            &setting,
            &format!("{name}.{}", set.option),
            false,
        ) {
            Ok(value) => {
                values.values.insert(
                    set.option.clone(),
                    FinalValue {
                        value,
                        from: Provenance::CommandLine(set.written.clone()),
                    },
                );
            }
            Err(d) => problems.push(*d),
        }
    }
    for (option, decl) in &module.config {
        if decl.required && !values.values.contains_key(option) {
            let origin = chain.module_requests().get(name).map(|r| r.origin.clone());
            let message = format!("{name}.{option} is required and has no value");
            let help = format!(
                "set it under `modules.{name}.config.{option}` in the distribution{}",
                decl.doc
                    .as_ref()
                    .map_or(String::new(), |d| format!(" ({d})"))
            );
            let d = match &origin {
                Some(o) => at_origin(Code::MissingKey, o, message),
                None => Diagnostic::new(Code::MissingKey, &chain.top().manifest_path, message),
            };
            problems.push(d.key(format!("modules.{name}.config.{option}")).help(help));
        }
    }
    for etab in chain.etablissements() {
        let Some(settings) = etab.config.get(name) else {
            continue;
        };
        let mut overrides = BTreeMap::new();
        for (option, setting) in settings {
            match typed_value(
                module,
                option,
                setting,
                &format!("{}.{name}.{option}", etab.uai),
                true,
            ) {
                Ok(value) => {
                    overrides.insert(
                        option.clone(),
                        FinalValue {
                            value,
                            from: Provenance::Set(setting.origin.clone()),
                        },
                    );
                }
                Err(d) => problems.push(*d),
            }
        }
        values.overrides.insert(etab.uai.clone(), overrides);
    }
    (values, problems)
}

/// A module or établissement asked for by name (`oent values --module`,
/// `--etablissement`) that the distribution does not have: an error, never
/// an empty or unfiltered answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\nhelp: {help}")]
pub struct Unknown {
    pub message: String,
    pub help: String,
}

/// `Err` when `asked` is not a module of the resolution, with the module
/// meant when it is close (`openent/cahier` for `openent/cahier-de-textes`).
pub fn known_module(
    chain: &DistributionChain,
    values: &BTreeMap<ModuleName, ModuleValues>,
    asked: &str,
) -> Result<(), Unknown> {
    if values.keys().any(|name| name.as_str() == asked) {
        return Ok(());
    }
    let names: Vec<&str> = values.keys().map(ModuleName::as_str).collect();
    Err(Unknown {
        message: format!("`{asked}` is not a module of {}", chain.top().name),
        help: did_you_mean(asked, &names)
            .unwrap_or_else(|| format!("its modules are: {}", names.join(", "))),
    })
}

/// `Err` when the distribution has no établissement `uai`, with the UAI
/// meant when it is close (one digit or the check letter off).
pub fn known_etablissement(chain: &DistributionChain, uai: &str) -> Result<(), Unknown> {
    let etabs = chain.etablissements();
    if etabs.iter().any(|e| e.uai == uai) {
        return Ok(());
    }
    let uais: Vec<&str> = etabs.iter().map(|e| e.uai.as_str()).collect();
    let listed = etabs.first().map_or_else(
        || "it lists no établissements".to_owned(),
        |e| {
            format!(
                "its établissements are listed in {}",
                e.origin.path.display()
            )
        },
    );
    Err(Unknown {
        message: format!("{} has no établissement `{uai}`", chain.top().name),
        help: did_you_mean(uai, &uais).unwrap_or(listed),
    })
}

/// `did you mean `x`?` for a name within two edits, or the only one that
/// starts with what was written.
fn did_you_mean(asked: &str, names: &[&str]) -> Option<String> {
    let close = crate::manifest::diagnostic::suggest(asked, names.iter().copied()).or_else(|| {
        let mut starting = names.iter().filter(|n| n.starts_with(asked));
        match (starting.next(), starting.next()) {
            (Some(only), None) => Some(*only),
            _ => None,
        }
    });
    close.map(|name| format!("did you mean `{name}`?"))
}

/// The settings of the chain, merged key by key (nested groups too), with
/// the documented defaults filled in.
pub fn merged_settings(chain: &DistributionChain) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    out.insert("fuseau_horaire".into(), Value::from("Europe/Paris"));
    out.insert("langue".into(), Value::from("fr"));
    for layer in &chain.layers {
        for (k, v) in &layer.settings {
            match (out.get_mut(k), v) {
                (Some(Value::Object(existing)), Value::Object(new)) => {
                    for (nk, nv) in new {
                        existing.insert(nk.clone(), nv.clone());
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if let Some(Value::Object(smtp)) = out.get_mut("smtp") {
        smtp.entry("port").or_insert(Value::from(587));
    }
    out
}

//! `oent values`.

use std::path::PathBuf;

use clap::Args;

use super::build::{command_line, parse_sets};
use super::exit;
use super::output::{Format, JSON_VERSION, print_json};
use oent::ops::info::option_kind;
use oent::ops::values::{ValuesError, ValuesOptions};
use oent::workspace::WorkspaceOptions;
use oent::workspace::values::Provenance;

#[derive(Debug, Args)]
pub struct ValuesArgs {
    #[arg(default_value = ".")]
    distribution: PathBuf,
    /// Only this module.
    #[arg(long = "module", value_name = "NS/NAME")]
    module: Option<String>,
    /// Show the values one établissement gets.
    #[arg(long, value_name = "UAI")]
    etablissement: Option<String>,
    #[arg(long = "set", value_name = "NS/NAME.OPTION=VALUE")]
    sets: Vec<String>,
    #[arg(long)]
    offline: bool,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn run(args: ValuesArgs) -> anyhow::Result<u8> {
    // Values need the resolved modules: build's first steps, without rendering.
    let options = ValuesOptions {
        workspace: WorkspaceOptions::new(args.distribution, false, args.offline)?,
        sets: parse_sets(&args.sets)?,
        module: args.module,
        etablissement: args.etablissement.clone(),
    };
    let values = match oent::ops::values(&options) {
        Ok(values) => values,
        Err(ValuesError::Workspace(e)) => {
            return super::report::workspace_failure(e, command_line(&options.sets));
        }
        Err(ValuesError::Unknown(unknown)) => {
            // As `oent why` for a module outside the resolution: exit 1.
            eprintln!("error: {unknown}");
            return Ok(exit::PROBLEMS);
        }
    };
    if args.format.is_json() {
        let modules: serde_json::Map<String, serde_json::Value> = values
            .iter()
            .map(|(name, options)| {
                let options: serde_json::Map<String, serde_json::Value> = options
                    .iter()
                    .map(|(option, shown)| {
                        let value = serde_json::json!({
                            "value": shown.value.value,
                            "from": shown.value.from.to_string(),
                            "default": matches!(shown.value.from, Provenance::Default(_)),
                            "type": option_kind(&shown.option),
                            "doc": shown.option.doc,
                        });
                        (option.clone(), value)
                    })
                    .collect();
                (name.to_string(), options.into())
            })
            .collect();
        print_json(&serde_json::json!({
            "version": JSON_VERSION,
            "etablissement": args.etablissement,
            "modules": modules,
        }))?;
        return Ok(exit::OK);
    }
    for (name, module_values) in &values {
        println!("{name}");
        for (option, shown) in module_values {
            println!(
                "  {option} = {}    # {}",
                shown.value.value, shown.value.from
            );
            // What the value may be and means, as the module declares it.
            match &shown.option.doc {
                Some(doc) => println!("      {} — {doc}", option_kind(&shown.option)),
                None => println!("      {}", option_kind(&shown.option)),
            }
        }
    }
    Ok(exit::OK)
}

//! `oent search WORDS`.

use clap::Args;

use super::exit;
use super::info::BrowseArgs;
use super::output::Format;
use oent::ops::search::search;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find in a module's name, summary, description, capabilities
    /// or category (all of them; case and accents do not matter).
    #[arg(required = true)]
    words: Vec<String>,
    #[command(flatten)]
    browse: BrowseArgs,
}

pub fn run(args: SearchArgs) -> anyhow::Result<u8> {
    let catalogue = args.browse.open()?;
    let outcome = search(&catalogue, &args.words)?;
    for registry in &outcome.unlistable {
        eprintln!(
            "warning: registry `{registry}` cannot list its modules (a static web server): not searched; `oent info NS/NAME` still reads it"
        );
    }
    match args.browse.format {
        Format::Json => {
            let found: Vec<_> = outcome
                .found
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "name": f.module.name.as_str(),
                        "version": f.module.version.to_string(),
                        "registry": f.registry,
                        "category": f.module.category,
                        "summary": f.module.summary,
                        "provides": f.module.provides,
                        "licence": f.module.licence,
                        "score": f.score,
                    })
                })
                .collect();
            super::output::print_json(&serde_json::json!({
                "version": super::output::JSON_VERSION,
                "modules": found,
            }))?;
        }
        Format::Human => {
            let width = outcome
                .found
                .iter()
                .map(|f| f.module.name.as_str().len() + 1 + f.module.version.to_string().len())
                .max()
                .unwrap_or(0);
            for f in &outcome.found {
                let title = format!("{} {}", f.module.name, f.module.version);
                println!("{title:<width$}  {}", f.module.summary);
            }
            if outcome.found.is_empty() {
                eprintln!(
                    "no module matches `{}` in {}",
                    args.words.join(" "),
                    catalogue.searched
                );
            }
        }
    }
    Ok(match outcome.found.is_empty() {
        true => exit::PROBLEMS,
        false => exit::OK,
    })
}

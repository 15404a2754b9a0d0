//! `oent info NS/NAME[@VERSION]`.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use super::output::Format;
use oent::ops::info::{
    BrowseOptions, Catalogue, ModuleInfo, deploys, info, info_json, option_kind,
};
use oent::registry::cache::Cache;

/// Where `oent info` and `oent search` look.
#[derive(Debug, Args)]
pub struct BrowseArgs {
    /// A distribution (file or directory) whose registries to browse
    /// (default: the current directory's, else the catalogue built into oent).
    #[arg(long = "dist", value_name = "DIST")]
    distribution: Option<PathBuf>,
    /// Use only what is cached: no network.
    #[arg(long)]
    offline: bool,
    #[arg(long, default_value = "human")]
    pub format: Format,
}

impl BrowseArgs {
    pub fn open(&self) -> anyhow::Result<Catalogue> {
        Ok(Catalogue::open(&BrowseOptions {
            distribution: self.distribution.clone(),
            cache: Cache::default_location()?,
            offline: self.offline,
        })?)
    }
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// `NS/NAME`, or `NS/NAME@VERSION` for a version other than the newest.
    module: String,
    #[command(flatten)]
    browse: BrowseArgs,
}

pub fn run(args: InfoArgs) -> anyhow::Result<u8> {
    let catalogue = args.browse.open()?;
    let shown = match info(&catalogue, &args.module) {
        Ok(shown) => shown,
        Err(
            e @ (oent::ops::info::BrowseError::UnknownModule { .. }
            | oent::ops::info::BrowseError::UnknownVersion { .. }),
        ) => {
            eprintln!("error: {e}");
            return Ok(exit::PROBLEMS);
        }
        Err(e) => return Err(e.into()),
    };
    match args.browse.format {
        Format::Json => println!("{:#}", info_json(&shown)),
        Format::Human => print!("{}", human(&shown)),
    }
    Ok(exit::OK)
}

/// The text of `oent info`: the module in a few lines, then each option.
fn human(shown: &ModuleInfo) -> String {
    use std::fmt::Write as _;
    let m = &shown.module;
    let mut out = format!(
        "{} {}, from {}\n{}\n",
        m.name, m.version, shown.registry, m.summary
    );
    if let Some(description) = &m.description {
        let _ = writeln!(out, "\n{}", description.trim_end());
    }
    out.push('\n');
    let versions: Vec<String> = shown
        .versions
        .iter()
        .map(|l| format!("{}{}", l.version, if l.yanked { " (yanked)" } else { "" }))
        .collect();
    let mut field = |key: &str, value: String| {
        if !value.is_empty() {
            let _ = writeln!(out, "{key:<12} {value}");
        }
    };
    field("versions:", versions.join(", "));
    field("licence:", m.licence.clone());
    field("category:", m.category.to_owned());
    field("repository:", m.repository.clone().unwrap_or_default());
    field(
        "deploys:",
        m.service
            .as_ref()
            .map(deploys)
            .unwrap_or_else(|| "configuration only (no service)".to_owned()),
    );
    field("provides:", m.provides.join(", "));
    let deps = |deps: &std::collections::BTreeMap<_, oent::manifest::module::Dependency>| {
        deps.values()
            .map(|d| format!("{} {}", d.name, d.req))
            .collect::<Vec<_>>()
            .join(", ")
    };
    field("requires:", deps(&m.requires));
    field("optional:", deps(&m.optional));
    field("conflicts:", deps(&m.conflicts));
    if !m.config.is_empty() {
        out.push_str("\noptions:\n");
    }
    for option in m.config.values() {
        let default = match &option.default {
            Some(value) => format!(" = {value}"),
            None => String::new(),
        };
        let _ = writeln!(out, "  {}{default}", option.name);
        let _ = writeln!(out, "      {}", option_kind(option));
        if let Some(doc) = &option.doc {
            let _ = writeln!(out, "      {doc}");
        }
    }
    out
}

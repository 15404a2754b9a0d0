//! `oent fetch NS/NAME[@REQ] --registry URL_OR_DIR`: downloads and verifies
//! module archives into the cache, and prints where they are. Also home of
//! the terminal progress bar ([`progress`]), the only user of indicatif.

use clap::Args;

use super::exit;
use oent::manifest::names::{ModuleName, parse_requirement};
use oent::ops::fetch::FetchOptions;
use oent::ops::key::public_key;
use oent::registry::cache::Cache;
use oent::registry::fetch::DEFAULT_JOBS;

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// `namespace/name`, optionally with a requirement: `openent/portail@^1.4`.
    module: String,
    /// The registry: a directory, or an http:// or https:// URL.
    #[arg(long, value_name = "URL_OR_DIR")]
    registry: String,
    /// Require the registry's snapshot to be signed by this key: an OpenSSH
    /// public key line (`ssh-ed25519 AAAA…`) or a .pub file (repeatable).
    #[arg(long = "key", value_name = "KEY")]
    keys: Vec<String>,
    /// Use the cache only; fail on anything not downloaded before.
    #[arg(long)]
    offline: bool,
    /// Downloads in flight at once.
    #[arg(long, default_value_t = DEFAULT_JOBS as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Every version matching the requirement, yanked ones too, instead of the newest.
    #[arg(long)]
    all: bool,
}

pub fn run(args: FetchArgs) -> anyhow::Result<u8> {
    let (module, requirement) = parse_spec(&args.module)?;
    let cache = Cache::default_location()?;
    let keys = args
        .keys
        .iter()
        .map(|k| public_key(k).map(|key| key.to_openssh()))
        .collect::<Result<Vec<_>, _>>()?;
    let options = FetchOptions {
        module,
        requirement,
        registry: args.registry,
        keys,
        cache,
        offline: args.offline,
        jobs: usize::from(args.jobs),
        all: args.all,
    };
    let bar = super::progress::bar("fetching", "archives");
    for (line, path) in oent::ops::fetch::fetch(&options, bar.as_ref())? {
        println!("fetched {} {} {}", line.name, line.version, path.display());
    }
    Ok(exit::OK)
}

/// `ns/name` or `ns/name@req` (`*` when absent).
fn parse_spec(spec: &str) -> anyhow::Result<(ModuleName, semver::VersionReq)> {
    let (name, req) = spec.split_once('@').unwrap_or((spec, "*"));
    let name: ModuleName = name.parse().map_err(anyhow::Error::msg)?;
    let req = parse_requirement(req).map_err(anyhow::Error::msg)?;
    Ok((name, req))
}

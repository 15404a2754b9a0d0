//! `oent forge serve|token|sync`, `oent publish`, `oent yank`: the
//! arguments parsed, one operation of `ops::forge` or `ops::publish` called,
//! what it returns printed.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::exit;
use super::output::{Format, JSON_VERSION, print_json};
use oent::forge::ForgeError;
use oent::forge::client::Published;
use oent::forge::config::ForgeConfig;
use oent::forge::gitlab::{self, Step};
use oent::ops::publish::{PublishOptions, Report};

#[derive(Debug, Subcommand)]
pub enum ForgeCommand {
    /// Serve a registry directory with publishing, federation and the catalogue.
    Serve(ServeArgs),
    /// Create a publish token: prints the token once, and the line for forge.yaml.
    Token(TokenArgs),
    /// Mirror the peers' namespaces once (`serve` also does it periodically).
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The forge's configuration.
    #[arg(long, default_value = "forge.yaml")]
    config: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The forge's configuration.
    #[arg(long, default_value = "forge.yaml")]
    config: PathBuf,
    /// Log lines as text or as JSON objects (for a log collector).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// A name for the token, shown in the forge's logs.
    #[arg(long)]
    name: String,
    /// Namespaces the token may publish into (repeat the option for several).
    #[arg(long = "namespace", required = true)]
    namespaces: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Module directories, directories of modules, or .tar.gz archives.
    #[arg(default_value = ".")]
    inputs: Vec<PathBuf>,
    /// The forge: its registry's base URL; or a GitLab project,
    /// gitlab:https://HOST/api/v4/projects/ID (see docs/gitlab.md).
    #[arg(long, value_name = "URL")]
    to: String,
    /// The publish token (prefer the environment variable: it stays out of shell history).
    /// On GitLab: an access token with the `api` scope, sent as PRIVATE-TOKEN.
    #[arg(long, env = "OENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// GitLab only: a CI/CD job token, sent as JOB-TOKEN when no --token is set.
    #[arg(long, env = "CI_JOB_TOKEN", hide_env_values = true)]
    job_token: Option<String>,
    /// GitLab only: each module's release tag; {namespace}, {name} and {version} are replaced.
    #[arg(long, default_value = gitlab::DEFAULT_TAG_FORMAT)]
    tag_format: String,
    /// GitLab only: the branch or commit GitLab creates a missing tag from
    /// (without it, each module's tag must already be pushed).
    #[arg(long = "ref", value_name = "REF")]
    git_ref: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Args)]
pub struct YankArgs {
    /// `namespace/name@version`.
    module: String,
    /// The forge: its registry's base URL.
    #[arg(long, value_name = "URL")]
    to: String,
    /// Undo a yank.
    #[arg(long)]
    undo: bool,
    #[arg(long, env = "OENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

pub fn run(command: ForgeCommand) -> anyhow::Result<u8> {
    match command {
        ForgeCommand::Serve(args) => serve(args),
        ForgeCommand::Token(args) => token(args),
        ForgeCommand::Sync(args) => sync(args),
    }
}

/// forge.yaml, its problems printed as diagnostics.
fn load_config(path: &std::path::Path) -> anyhow::Result<Option<ForgeConfig>> {
    match ForgeConfig::load(path) {
        Ok(config) => Ok(Some(config)),
        Err(ForgeError::InvalidConfig { diagnostics, .. }) => {
            super::report::print_diagnostics(&diagnostics, Default::default());
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let Some(config) = load_config(&args.config)? else {
        return Ok(exit::FAILURE);
    };
    init_logging(args.log_format);
    let forge = oent::ops::forge::forge(config)?;
    oent::ops::forge::serve(forge, |address| {
        println!("oent forge: serving http://{address}");
    })?;
    Ok(exit::OK)
}

fn sync(args: SyncArgs) -> anyhow::Result<u8> {
    let Some(config) = load_config(&args.config)? else {
        return Ok(exit::FAILURE);
    };
    let bar = super::progress::bar_for(args.format, "syncing", "peers");
    let synced = oent::ops::forge::sync(&config, bar.as_ref())?;
    let mut failed = false;
    let mut peers = Vec::new();
    for (peer, outcome) in config.peers.iter().zip(synced.peers) {
        let shown = match outcome {
            Ok(report) => {
                let snapshots: serde_json::Map<String, serde_json::Value> = report
                    .snapshots
                    .iter()
                    .map(|(origin, v)| (origin.to_string(), serde_json::json!(v)))
                    .collect();
                if !args.format.is_json() {
                    println!("{}", sync_line(&peer.name, &report));
                }
                serde_json::json!({
                    "name": peer.name,
                    "ok": true,
                    "not_modified": report.not_modified,
                    "index_files": report.index_files,
                    "archives": report.archives,
                    "bytes": report.bytes,
                    "snapshots": snapshots,
                    "error": null,
                })
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
                serde_json::json!({"name": peer.name, "ok": false, "error": e.to_string()})
            }
        };
        peers.push(shown);
    }
    synced.signed?;
    if args.format.is_json() {
        print_json(&serde_json::json!({"version": JSON_VERSION, "peers": peers}))?;
    }
    Ok(if failed { exit::PROBLEMS } else { exit::OK })
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("OENT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn token(args: TokenArgs) -> anyhow::Result<u8> {
    let new = oent::ops::forge::new_token()?;
    println!("{}", new.token);
    eprintln!("Keep the token above secret: it is shown once. Add this to forge.yaml's `tokens:`");
    eprintln!(
        "  - {{ name: {}, sha256: \"{}\", namespaces: [{}] }}",
        args.name,
        new.sha256,
        args.namespaces.join(", ")
    );
    Ok(exit::OK)
}

pub fn run_publish(args: PublishArgs) -> anyhow::Result<u8> {
    let options = PublishOptions {
        inputs: args.inputs,
        to: args.to,
        token: args.token,
        job_token: args.job_token,
        tag_format: args.tag_format,
        git_ref: args.git_ref,
    };
    let json = args.format.is_json();
    let bar = super::progress::bar_for(args.format, "publishing", "modules");
    let mut modules = Vec::new();
    let summary = oent::ops::publish::publish(options, bar.as_ref(), |report| {
        let (line, value) = published(report);
        if !json {
            println!("{line}");
        }
        modules.push(value);
    })?;
    if json {
        print_json(&serde_json::json!({
            "version": JSON_VERSION,
            "place": summary.place,
            "created": summary.created,
            "already_there": summary.already_there,
            "modules": modules,
        }))?;
    } else {
        println!(
            "{} published, {} already there, on {}",
            summary.created, summary.already_there, summary.place
        );
    }
    Ok(exit::OK)
}

/// One module sent, as the forge or GitLab answered: its line, and its
/// object in `--format json`.
fn published(report: Report<'_>) -> (String, serde_json::Value) {
    match report {
        Report::Forge(upload, outcome) => {
            let what = match outcome {
                Published::Created => "published",
                Published::AlreadyThere => "already published",
            };
            let line = format!(
                "{what:>17} {} {} (sha256 {})",
                upload.module.name,
                upload.module.version,
                &upload.sha256[..12]
            );
            (line, upload_json(upload, what, None))
        }
        Report::GitLab(upload, outcome) => {
            let what = match (outcome.archive, outcome.checksum, outcome.release) {
                (Step::Created, _, _) => "published",
                (_, Step::AlreadyThere, Step::AlreadyThere) => "already published",
                _ => "completed",
            };
            let release = match outcome.release {
                Step::Created => "created",
                Step::AlreadyThere => "already there",
            };
            let line = format!(
                "{what:>17} {} {} (sha256 {}) as {} {}, release {} {release}",
                upload.module.name,
                upload.module.version,
                &upload.sha256[..12],
                outcome.names.package,
                outcome.names.version,
                outcome.names.tag,
            );
            let gitlab = serde_json::json!({
                "package": outcome.names.package,
                "package_version": outcome.names.version,
                "tag": outcome.names.tag,
                "release": release,
            });
            (line, upload_json(upload, what, Some(gitlab)))
        }
    }
}

fn upload_json(
    upload: &oent::forge::client::Upload,
    outcome: &str,
    gitlab: Option<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "name": upload.module.name.as_str(),
        "version": upload.module.version.to_string(),
        "sha256": upload.sha256,
        "outcome": outcome,
        "gitlab": gitlab,
    })
}

pub fn run_yank(args: YankArgs) -> anyhow::Result<u8> {
    let line = oent::ops::publish::yank(&args.to, args.token, &args.module, args.undo)?;
    println!(
        "{} {} {} on {}",
        if line.yanked { "yanked" } else { "unyanked" },
        line.name,
        line.version,
        args.to
    );
    Ok(exit::OK)
}

/// What `oent forge sync` says of a peer it synced.
fn sync_line(peer: &str, report: &oent::forge::sync::SyncReport) -> String {
    if report.not_modified {
        return format!(
            "{peer}: unchanged since the last round (its snapshot.json answered 304 Not Modified)"
        );
    }
    let snapshots: Vec<String> = report
        .snapshots
        .iter()
        .map(|(origin, v)| format!("{origin} v{v}"))
        .collect();
    format!(
        "{peer}: {} index files, {} archives ({} bytes) mirrored; snapshots {}",
        report.index_files,
        report.archives,
        report.bytes,
        snapshots.join(", ")
    )
}

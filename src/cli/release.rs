//! `oent release` and `oent verify`: flags in, one library call, steps out.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use super::output::{Format, JSON_VERSION, print_json};
use oent::ops::key::public_key;
use oent::ops::{release, verify};
use oent::release::verify::{Target, VerifyOptions};
use oent::release::{Bump, ReleaseOptions, Reporter, STEPS};

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The module directory (module.yaml) or distribution directory (distribution.yaml).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// patch, minor, major, or an exact version.
    #[arg(
        long,
        value_name = "patch|minor|major|VERSION",
        required_unless_present = "resume"
    )]
    bump: Option<Bump>,
    /// A forge to publish to (its registry's base URL), or a GitLab project
    /// (gitlab:https://HOST/api/v4/projects/ID: the release notes become the
    /// GitLab release's description); repeat for several.
    #[arg(long = "to", value_name = "URL")]
    to: Vec<String>,
    /// The publish token (prefer the environment variable). On GitLab: an
    /// access token with the `api` scope.
    #[arg(long, env = "OENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// GitLab only: a CI/CD job token, used when no --token is set.
    #[arg(long, env = "CI_JOB_TOKEN", hide_env_values = true)]
    job_token: Option<String>,
    /// The secret key that signs the archive (OpenSSH Ed25519).
    #[arg(long, env = "OENT_SIGNING_KEY", value_name = "KEY")]
    key: Option<PathBuf>,
    /// The git remote to push the commit and tag to.
    #[arg(long, default_value = "origin")]
    remote: String,
    /// Where the archive, its .sha256 and .sig are written.
    #[arg(
        long,
        short = 'o',
        value_name = "DIR",
        default_value = "target/oent/release"
    )]
    out: PathBuf,
    /// Run the checks and print every step without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Finish a release whose tag exists: rebuild from the tag, push, publish.
    #[arg(long, conflicts_with_all = ["bump", "dry_run"])]
    resume: bool,
    /// human: one line per step as it runs; json: one document at the end.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A .tar.gz archive, or NS/NAME@VERSION to fetch from `--registry`.
    archive: String,
    /// The registry (URL or directory) to fetch NS/NAME@VERSION from.
    #[arg(long, value_name = "URL|DIR")]
    registry: Option<String>,
    /// The registry's snapshot key (OpenSSH public key line or .pub file), to check its signed snapshot.
    #[arg(long, value_name = "KEY")]
    registry_key: Vec<String>,
    /// The module's git repository (with its tags).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The maintainers' public key (line or .pub file) that signs release archives.
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
}

/// Prints each step as it runs, or keeps it for the JSON document.
struct Printer {
    json: bool,
    steps: std::cell::RefCell<Vec<serde_json::Value>>,
}

impl Reporter for Printer {
    fn step(&self, name: &str, detail: &str) {
        if self.json {
            self.steps
                .borrow_mut()
                .push(serde_json::json!({"step": name, "detail": detail}));
            return;
        }
        let n = STEPS.iter().position(|s| *s == name).map_or(0, |i| i + 1);
        println!("[{n}/{}] {name}: {detail}", STEPS.len());
    }
}

pub fn run_release(args: ReleaseArgs) -> anyhow::Result<u8> {
    let options = ReleaseOptions {
        path: args.path,
        bump: args.bump,
        forges: args.to,
        token: args.token,
        job_token: args.job_token,
        key: args.key,
        remote: args.remote,
        out_dir: args.out,
        dry_run: args.dry_run,
        resume: args.resume,
    };
    let printer = Printer {
        json: args.format.is_json(),
        steps: Default::default(),
    };
    match release(&options, &printer) {
        Ok(released) if printer.json => {
            print_json(&serde_json::json!({
                "version": JSON_VERSION,
                "dry_run": options.dry_run,
                "name": released.name.to_string(),
                "module_version": released.version.to_string(),
                "tag": released.tag,
                "archive": released.archive,
                "steps": printer.steps.take(),
            }))?;
            Ok(exit::OK)
        }
        Ok(released) => {
            let verb = if options.dry_run {
                "would release"
            } else {
                "released"
            };
            println!(
                "{verb} {} {} as {}",
                released.name, released.version, released.tag
            );
            if let Some(archive) = &released.archive {
                println!("{}", archive.display());
            }
            Ok(exit::OK)
        }
        Err(err) => Ok(super::report::release_failure(err)),
    }
}

pub fn run_verify(args: VerifyArgs) -> anyhow::Result<u8> {
    let registry_keys = args
        .registry_key
        .iter()
        .map(|k| public_key(k).map(|key| key.to_openssh()))
        .collect::<Result<_, _>>()?;
    let target = Target::from_spec(&args.archive, args.registry, registry_keys)?;
    let key = args.key.as_deref().map(public_key).transpose()?;
    let options = VerifyOptions {
        target,
        repo: args.repo,
        key,
    };
    match verify(&options) {
        Ok(v) => {
            println!("{} {}: {}", v.name, v.version, v.origin);
            println!(
                "reproducible: rebuilt from tag {} (SOURCE_DATE_EPOCH={}), byte-identical, sha256 {}",
                v.tag, v.source_date_epoch, v.sha256
            );
            match &v.signed_by {
                Some(fp) => println!("signature: good, by {fp}"),
                None => {
                    println!("signature: not checked (pass --key with the maintainers' public key)")
                }
            }
            Ok(exit::OK)
        }
        Err(err) => Ok(super::report::release_failure(err)),
    }
}

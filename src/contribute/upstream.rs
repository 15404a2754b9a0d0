//! `oent contribute NS/NAME [--push | --bundle FILE | --patches DIR]`: turns
//! a fork's difference into one commit on its base's upstream repository.
//!
//! 1. the base's `repository` (or `--upstream`) is cloned into a temporary
//!    directory by the git program ([`crate::transport`]: https and ssh with
//!    the user's own credentials), then worked on with git2;
//! 2. the base's tag is checked out: `<name>-v<version>`, else `v<version>`;
//! 3. the module's directory is found: the one whose module.yaml names the
//!    base, else the repository's root;
//! 4. every file the fork changed must still be, at that tag, what the
//!    published base holds: otherwise the changes do not apply, and oent
//!    says which files differ (it never forces anything);
//! 5. the fork's files are written (module.yaml keeps upstream's `name`
//!    and `version`, and loses `fork-of`), and committed with the message
//!    `<collectivité> : reversement de <fork> basé sur <base>@<version>`
//!    and a `Signed-off-by` trailer, on branch
//!    `oent/<collectivité slug>/<name>-<version>`;
//! 6. the branch is pushed to the upstream remote without force by the git
//!    program (a non-fast-forward, or a refusal and what the server's hooks
//!    said, is reported, never forced), or written as a git
//!    bundle (`git bundle create`: libgit2 has no bundle writer, so the
//!    system's git is run on the temporary clone), or as a patch series
//!    (one mbox patch per commit, git2's `Email`), for upstreams that take
//!    contributions by mail;
//! 7. the contribution is recorded in the distribution's contributions.yaml.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature};

use super::ContributeError;
use super::diff::{ChangeKind, without_identity};
use super::merge_request::{self, MergeRequest, Opened};
use super::pull_request;
use super::record::{Contribution, Contributions, Method};
use super::status::{ForkStatus, fork_statuses};
use crate::forge::gitlab::{Auth, Target};
use crate::manifest::Module;
use crate::manifest::module::MODULE_FILE;
use crate::manifest::names::ModuleName;
use crate::transport::{self, PushError, TransportError};
use crate::workspace::{Workspace, WorkspaceOptions};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Push,
    Bundle(PathBuf),
    Patches(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ContributeOptions {
    pub workspace: WorkspaceOptions,
    pub fork: ModuleName,
    pub delivery: Delivery,
    /// `Name <email>`; default: the upstream clone's git configuration
    /// (`user.name`, `user.email`).
    pub author: Option<String>,
    /// The repository to contribute to instead of the base's `repository`
    /// (a mirror, a fork on the collectivité's own forge).
    pub upstream: Option<String>,
    /// After the push, open (or update) a merge request on the upstream's GitLab.
    pub merge_request: Option<MergeRequestOptions>,
    /// Contribute binary files too (refused by default: reviewers cannot read them in a patch).
    pub allow_binary: bool,
}

/// `--merge-request`: where and how the merge request is opened.
#[derive(Debug, Clone, Default)]
pub struct MergeRequestOptions {
    /// `gitlab:https://HOST/api/v4/projects/ID`; default: the upstream's project.
    pub project: Option<String>,
    /// Default: the upstream's default branch (its `HEAD`).
    pub target_branch: Option<String>,
    pub labels: Vec<String>,
    /// An access token with the `api` scope (`OENT_TOKEN`).
    pub token: Option<String>,
    pub job_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ContributeOutcome {
    pub contribution: Contribution,
    pub status: ForkStatus,
    pub merge_request: Option<Opened>,
}

fn git_error(what: &str) -> impl Fn(git2::Error) -> ContributeError + '_ {
    move |e| ContributeError::Upstream(format!("{what}: {}", e.message()))
}

/// `Région Île-de-France` → `region-ile-de-france`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' => 'e',
            'î' | 'ï' | 'Î' => 'i',
            'ô' | 'ö' | 'Ô' => 'o',
            'ù' | 'û' | 'ü' | 'Û' => 'u',
            'ç' | 'Ç' => 'c',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

pub fn contribute(options: &ContributeOptions) -> Result<ContributeOutcome, ContributeError> {
    let workspace = Workspace::load(&options.workspace)?;
    let module =
        workspace
            .modules
            .get(&options.fork)
            .ok_or_else(|| ContributeError::NotResolved {
                module: options.fork.to_string(),
                hint: String::new(),
            })?;
    if module.fork_of.is_none() {
        return Err(ContributeError::NotAFork {
            module: options.fork.to_string(),
        });
    }
    let status = fork_statuses(&workspace.resolved())?
        .into_iter()
        .find(|s| s.fork == options.fork)
        .expect("a fork of the resolution has a status");
    if status.diff.is_empty() {
        return Err(ContributeError::Upstream(format!(
            "{} has no difference from {}: nothing to contribute",
            status.fork,
            status.base_label()
        )));
    }
    let binary = status.diff.binary_files();
    if !binary.is_empty() && !options.allow_binary {
        return Err(ContributeError::Upstream(format!(
            "{} changes binary files, which a reviewer cannot read in a patch: {}\nhelp: contribute them another way and remove them from the fork, or pass --allow-binary",
            status.fork,
            binary.join(", ")
        )));
    }
    let base_module = Module::load(&status.base_dir.join(MODULE_FILE))
        .ok()
        .and_then(|l| l.into_valid());
    let upstream =
        match &options.upstream {
            Some(url) => url.clone(),
            None => base_module.and_then(|m| m.repository).ok_or_else(|| {
                ContributeError::NoRepository {
                    module: status.base_label(),
                }
            })?,
        };
    // Before anything is cloned: the URL is recorded in contributions.yaml.
    transport::check_url(&upstream).map_err(|e| ContributeError::Upstream(e.to_string()))?;
    // The merge request's project and token, checked before anything is pushed.
    let merge_request = match &options.merge_request {
        Some(mr) => Some((mr, review_forge(mr, &upstream)?)),
        None => None,
    };
    let top = workspace.chain.top();
    let collectivite = workspace
        .chain
        .layers
        .iter()
        .rev()
        .find_map(|l| l.collectivite.as_ref())
        .map(|c| c.nom.clone())
        .unwrap_or_else(|| top.name.to_string());

    let temp = tempfile::Builder::new()
        .prefix("oent-contribute-")
        .tempdir()
        .map_err(|source| ContributeError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let work = temp.path().join("upstream");
    transport::clone(&upstream, &work).map_err(|e| match e {
        TransportError::Failed { detail, .. } => ContributeError::Upstream(format!(
            "cannot clone the upstream repository {upstream}: {detail}\nhelp: check the base's `repository:` (or --upstream) and that the forge is reachable"
        )),
        other => ContributeError::Upstream(format!(
            "cannot clone the upstream repository: {other}"
        )),
    })?;
    let repo = Repository::open(&work).map_err(git_error("opening the clone"))?;
    let short = status.base.short_name();
    let version = &status.base_version;
    let tags = [format!("{short}-v{version}"), format!("v{version}")];
    let tag_commit = tags
        .iter()
        .find_map(|t| {
            repo.revparse_single(&format!("refs/tags/{t}"))
                .ok()?
                .peel_to_commit()
                .ok()
        })
        .ok_or_else(|| {
            ContributeError::Upstream(format!(
                "{upstream} has no tag `{}` nor `{}` for {}: the fork's base cannot be found upstream\nhelp: ask upstream to tag the release the module was published from",
                tags[0],
                tags[1],
                status.base_label()
            ))
        })?;
    let tag_tree = tag_commit.tree().map_err(git_error("reading the tag"))?;
    let module_dir = find_module_dir(&repo, &tag_tree, &status.base)?;

    // The fork's changes must apply on the tag: each changed file is, at the
    // tag, what the published base holds.
    let mut conflicts = Vec::new();
    for change in &status.diff.files {
        let inside = module_dir.join(&change.path);
        let upstream_bytes = tag_tree
            .get_path(&inside)
            .ok()
            .and_then(|e| e.to_object(&repo).ok())
            .and_then(|o| o.as_blob().map(|b| b.content().to_vec()));
        let base_bytes = std::fs::read(status.base_dir.join(&change.path)).ok();
        let same = match (&upstream_bytes, &base_bytes) {
            (Some(u), Some(b)) if change.path == MODULE_FILE => {
                without_identity(&String::from_utf8_lossy(u))
                    == without_identity(&String::from_utf8_lossy(b))
            }
            (u, b) => u == b,
        };
        if !same {
            conflicts.push(inside.display().to_string());
        }
    }
    if !conflicts.is_empty() {
        return Err(ContributeError::Upstream(format!(
            "upstream's {} differs from the published {} in {}: the fork's changes do not apply there, and oent never forces them\nhelp: compare the fork with upstream by hand, or contribute with --patches for the maintainers to merge",
            tags.iter()
                .find(|t| repo.revparse_single(&format!("refs/tags/{t}")).is_ok())
                .map(String::as_str)
                .unwrap_or("tag"),
            status.base_label(),
            conflicts.join(", ")
        )));
    }

    // The commit, on a branch from the tag.
    repo.set_head_detached(tag_commit.id())
        .map_err(git_error("checking out the tag"))?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .map_err(git_error("checking out the tag"))?;
    let mut index = repo.index().map_err(git_error("opening the index"))?;
    for change in &status.diff.files {
        let inside = module_dir.join(&change.path);
        let on_disk = work.join(&inside);
        match change.kind {
            ChangeKind::Removed => {
                let _ = std::fs::remove_file(&on_disk);
                index
                    .remove_path(&inside)
                    .map_err(git_error("removing a file"))?;
            }
            ChangeKind::Added | ChangeKind::Modified => {
                let mut bytes =
                    std::fs::read(status.fork_dir.join(&change.path)).map_err(|source| {
                        ContributeError::Io {
                            path: status.fork_dir.join(&change.path),
                            source,
                        }
                    })?;
                if change.path == MODULE_FILE {
                    let upstream_text = std::fs::read_to_string(&on_disk).unwrap_or_default();
                    bytes = restore_identity(&String::from_utf8_lossy(&bytes), &upstream_text)
                        .into_bytes();
                }
                if let Some(parent) = on_disk.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| ContributeError::Io {
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                std::fs::write(&on_disk, bytes).map_err(|source| ContributeError::Io {
                    path: on_disk.clone(),
                    source,
                })?;
                index
                    .add_path(&inside)
                    .map_err(git_error("adding a file"))?;
            }
        }
    }
    index.write().map_err(git_error("writing the index"))?;
    let tree_id = index.write_tree().map_err(git_error("writing the tree"))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(git_error("reading the tree"))?;
    let signature = match &options.author {
        Some(author) => parse_author(author)?,
        None => repo.signature().map_err(|e| {
            ContributeError::Upstream(format!(
                "no author: {}\nhelp: pass --author \"Name <email>\" or set git's user.name and user.email",
                e.message()
            ))
        })?,
    };
    let branch = format!("oent/{}/{}-{}", slug(&collectivite), short, version);
    let message = format!(
        "{collectivite} : reversement de {} basé sur {}\n\n{} — {}.\nDifférence publiée dans {} {}.\n\nSigned-off-by: {} <{}>\n",
        status.fork,
        status.base_label(),
        top.name,
        status.diff.summary(),
        status.fork,
        status.version,
        signature.name().unwrap_or_default(),
        signature.email().unwrap_or_default()
    );
    let commit_id = repo
        .commit(
            None,
            &signature,
            &signature,
            &message,
            &tree,
            &[&tag_commit],
        )
        .map_err(git_error("committing"))?;
    repo.reference(
        &format!("refs/heads/{branch}"),
        commit_id,
        true,
        "oent contribute",
    )
    .map_err(git_error("creating the branch"))?;

    let mut commit_id = commit_id;
    let file = match &options.delivery {
        Delivery::Push => {
            commit_id = push(&repo, &work, &branch, commit_id, &upstream)?;
            None
        }
        Delivery::Bundle(path) => {
            bundle(&work, &branch, tag_commit.id(), path)?;
            Some(path.display().to_string())
        }
        Delivery::Patches(dir) => {
            patches(&repo, commit_id, dir)?;
            Some(dir.display().to_string())
        }
    };
    let contribution = Contribution {
        base: status.base_label(),
        diff: status.diff.hash.clone(),
        upstream: upstream.clone(),
        method: match options.delivery {
            Delivery::Push => Method::Push,
            Delivery::Bundle(_) => Method::Bundle,
            Delivery::Patches(_) => Method::Patches,
        },
        branch: branch.clone(),
        commit: commit_id.to_string(),
        date: crate::registry::time::now_rfc3339(),
        file,
    };
    let dist_dir = top.dir();
    let mut record = Contributions::read(dist_dir)?;
    // A rerun that found its branch already upstream records nothing new:
    // the same contribution, but for its date, is there.
    let recorded = record.forks.get(status.fork.as_str()).is_some_and(|list| {
        list.iter().any(|c| {
            *c == Contribution {
                date: c.date.clone(),
                ..contribution.clone()
            }
        })
    });
    if !recorded {
        record.add(status.fork.as_str(), contribution.clone());
        record.write(dist_dir)?;
    }
    let merge_request = match merge_request {
        Some((mr, forge)) => {
            let request = MergeRequest {
                target_branch: match &mr.target_branch {
                    Some(b) => b.clone(),
                    None => default_branch(&repo, &upstream)?,
                },
                source_branch: branch.clone(),
                title: message.lines().next().unwrap_or_default().to_owned(),
                description: message
                    .split_once("\n\n")
                    .map(|(_, rest)| rest.trim_end().to_owned())
                    .unwrap_or_default(),
                labels: mr.labels.clone(),
            };
            let opened = match forge {
                Review::GitLab(target, auth) => {
                    merge_request::open(&target, &auth, &request).map_err(|e| e.to_string())
                }
                Review::GitHub(repo, token) => {
                    pull_request::open(&repo, &token, &request).map_err(|e| e.to_string())
                }
            };
            Some(opened.map_err(|e| {
                ContributeError::Upstream(format!(
                    "`{branch}` is pushed to {upstream} and recorded in contributions.yaml, but the merge request was not opened: {e}\nthen: run the same command again: the branch is not pushed twice, the merge request is created or updated"
                ))
            })?)
        }
        None => None,
    };
    Ok(ContributeOutcome {
        contribution,
        status,
        merge_request,
    })
}

/// Where the review is opened: a GitLab project or a GitHub repository.
enum Review {
    GitLab(Target, Auth),
    GitHub(pull_request::Repo, String),
}

/// The forge of `--merge-request`, and its token: GitHub when named so or
/// when upstream is on github.com, GitLab otherwise.
fn review_forge(mr: &MergeRequestOptions, upstream: &str) -> Result<Review, ContributeError> {
    let refused = |e: String| ContributeError::Upstream(format!("--merge-request: {e}"));
    if let Some(repo) = pull_request::repo(mr.project.as_deref(), upstream) {
        let repo = repo.map_err(|e| refused(e.to_string()))?;
        let token = mr
            .token
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| refused(pull_request::PullRequestError::NoToken.to_string()))?;
        return Ok(Review::GitHub(repo, token));
    }
    let target = merge_request::target(mr.project.as_deref(), upstream)
        .map_err(|e| refused(e.to_string()))?;
    let auth =
        Auth::choose(mr.token.clone(), mr.job_token.clone()).map_err(|e| refused(e.to_string()))?;
    Ok(Review::GitLab(target, auth))
}

/// The upstream's default branch, from the clone's `origin/HEAD`.
fn default_branch(repo: &Repository, upstream: &str) -> Result<String, ContributeError> {
    repo.find_reference("refs/remotes/origin/HEAD")
        .ok()
        .and_then(|r| r.symbolic_target().map(str::to_owned))
        .and_then(|t| t.strip_prefix("refs/remotes/origin/").map(str::to_owned))
        .ok_or_else(|| {
            ContributeError::Upstream(format!(
                "{upstream} advertises no default branch to target\nhelp: name it with --target-branch"
            ))
        })
}

/// The directory (relative to the repository) whose module.yaml names
/// `base`, or the root.
fn find_module_dir(
    repo: &Repository,
    tree: &git2::Tree,
    base: &ModuleName,
) -> Result<PathBuf, ContributeError> {
    let mut found = None;
    let wanted = format!("name: {base}");
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.name() == Some(MODULE_FILE)
            && let Ok(object) = entry.to_object(repo)
            && let Some(blob) = object.as_blob()
            && String::from_utf8_lossy(blob.content()).lines().any(|l| {
                l.trim_end() == wanted || l.split('#').next().unwrap_or("").trim_end() == wanted
            })
        {
            found = Some(PathBuf::from(dir));
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    })
    .or_else(|e| {
        if e.code() == git2::ErrorCode::User {
            Ok(())
        } else {
            Err(e)
        }
    })
    .map_err(git_error("reading the tag's files"))?;
    Ok(found.unwrap_or_default())
}

/// The fork's module.yaml with upstream's identity: its `name` and
/// `version` lines, and no `fork-of`.
pub fn restore_identity(fork_text: &str, upstream_text: &str) -> String {
    let upstream_line = |key: &str| {
        upstream_text
            .split_inclusive('\n')
            .find(|l| l.starts_with(key))
            .map(str::to_owned)
    };
    let mut out = String::new();
    for line in fork_text.split_inclusive('\n') {
        if line.starts_with("fork-of:") {
            continue;
        }
        let replaced = ["name:", "version:"]
            .iter()
            .find(|k| line.starts_with(*k))
            .and_then(|k| upstream_line(k));
        out.push_str(replaced.as_deref().unwrap_or(line));
    }
    out
}

fn parse_author(author: &str) -> Result<Signature<'static>, ContributeError> {
    let parsed = author
        .split_once('<')
        .and_then(|(n, rest)| Some((n.trim(), rest.strip_suffix('>')?.trim())))
        .filter(|(n, e)| !n.is_empty() && e.contains('@'));
    let Some((name, email)) = parsed else {
        return Err(ContributeError::Upstream(format!(
            "`{author}` is not `Name <email>`"
        )));
    };
    Signature::now(name, email).map_err(git_error("the author"))
}

/// Pushes `branch` without force, and returns the commit upstream then
/// has: ours, or the one already there with the same files (a rerun, e.g.
/// after a merge request failed). A branch that exists upstream with other
/// content, or a refused update, is reported.
fn push(
    repo: &Repository,
    work: &Path,
    branch: &str,
    commit: Oid,
    upstream: &str,
) -> Result<Oid, ContributeError> {
    if let Ok(existing) = repo.find_reference(&format!("refs/remotes/origin/{branch}"))
        && let Ok(theirs) = existing.peel_to_commit()
    {
        let ours = repo.find_commit(commit).ok().map(|c| c.tree_id());
        if Some(theirs.tree_id()) == ours {
            return Ok(theirs.id());
        }
        return Err(ContributeError::Upstream(format!(
            "{upstream} already has a branch `{branch}` with other content: oent never forces a push\nhelp: ask the maintainers about that branch, or contribute with --bundle or --patches"
        )));
    }
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let never = "oent never forces a push";
    transport::push(work, "origin", upstream, &[refspec]).map_err(|e| match &e {
        // The client compares with the references the server advertises
        // when the push connects: the branch appeared or moved upstream
        // after the clone (another push in between).
        PushError::Rejected { rejected, .. } if rejected.iter().any(|r| r.not_fast_forward) => {
            ContributeError::Upstream(format!(
                "{upstream} rejected the push of `{branch}`: not a fast-forward, the branch appeared or moved upstream after oent cloned it ({}): {never}\nhelp: ask the maintainers about that branch, or contribute with --bundle or --patches",
                rejected[0].reason
            ))
        }
        PushError::Rejected { rejected, .. } => ContributeError::Upstream(format!(
            "{upstream} refused the push ({}: {}): {never}{}\nhelp: do what the server asks, or contribute with --bundle or --patches; nothing was recorded",
            rejected[0].reference,
            rejected[0].reason,
            e.server_said()
        )),
        PushError::Transport(TransportError::Failed { detail, .. }) => {
            ContributeError::Upstream(format!(
                "pushing `{branch}` to {upstream} failed: {detail}\nhelp: nothing was recorded; check write access and the network, then run oent contribute again, or contribute with --bundle or --patches"
            ))
        }
        PushError::Transport(other) => ContributeError::Upstream(format!(
            "pushing `{branch}` failed: {other}"
        )),
    })?;
    Ok(commit)
}

/// `git bundle create FILE <tag>..<branch>`: what upstream needs on top of the tag.
fn bundle(work: &Path, branch: &str, tag: Oid, file: &Path) -> Result<(), ContributeError> {
    let file = std::path::absolute(file).map_err(|source| ContributeError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(work)
        .args(["bundle", "create", "--quiet"])
        .arg(&file)
        .arg(format!("{tag}..refs/heads/{branch}"))
        .arg(format!("refs/heads/{branch}"))
        .output()
        .map_err(|e| {
            ContributeError::Upstream(format!(
                "`git bundle create` does not start ({e}): a bundle needs the git command (libgit2 cannot write bundles)"
            ))
        })?;
    if !output.status.success() {
        return Err(ContributeError::Upstream(format!(
            "`git bundle create` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// One mbox patch per commit (here one), `0001-<subject>.patch`, for `git am`.
fn patches(repo: &Repository, commit: Oid, dir: &Path) -> Result<(), ContributeError> {
    let commit = repo.find_commit(commit).map_err(git_error("the commit"))?;
    let mut options = git2::EmailCreateOptions::new();
    options.always_number(true);
    let email =
        git2::Email::from_commit(&commit, &mut options).map_err(git_error("writing the patch"))?;
    std::fs::create_dir_all(dir).map_err(|source| ContributeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let subject = slug(commit.summary().unwrap_or("contribution"));
    let subject: String = subject.chars().take(52).collect();
    let path = dir.join(format!("0001-{}.patch", subject.trim_end_matches('-')));
    crate::fsutil::write_atomic(&path, email.as_slice())
        .map_err(|source| ContributeError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_identity() {
        assert_eq!(slug("Région Île-de-France"), "region-ile-de-france");
        let fork =
            "schema: x\nname: idf/a\nversion: 1.0.1\nfork-of: openent/a@1.0.0\nlicence: MIT\n";
        let up = "schema: x\nname: openent/a\nversion: 1.0.0\nlicence: MIT\n";
        assert_eq!(
            restore_identity(fork, up),
            "schema: x\nname: openent/a\nversion: 1.0.0\nlicence: MIT\n"
        );
    }
}

//! The git side of a release: the work tree's state, tags, the release
//! commit and reading a module's files as they are at a tag through git2;
//! listing the remote and pushing through the git program
//! ([`crate::transport`]: https and ssh with the user's own credentials).

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Sort, StatusOptions, TreeWalkMode, TreeWalkResult};

use super::ReleaseError;
use crate::transport;

/// A repository and where the released directory sits in it.
pub struct Git {
    pub repo: Repository,
    /// The work tree's root.
    pub root: PathBuf,
}

/// What the remote has, as `git ls-remote` shows it.
#[derive(Debug, Clone, Default)]
pub struct RemoteRefs {
    pub refs: Vec<(String, Oid)>,
}

impl RemoteRefs {
    pub fn get(&self, name: &str) -> Option<Oid> {
        self.refs.iter().find(|(n, _)| n == name).map(|(_, o)| *o)
    }
}

pub(crate) fn git_error(what: &str) -> impl FnOnce(git2::Error) -> ReleaseError + '_ {
    move |e| ReleaseError::Git {
        what: what.to_owned(),
        message: e.message().to_owned(),
    }
}

impl Git {
    /// The repository holding `path`.
    pub fn discover(path: &Path) -> Result<Git, ReleaseError> {
        let repo = Repository::discover(path).map_err(|_| ReleaseError::NotARepository {
            path: path.to_path_buf(),
        })?;
        let root = repo
            .workdir()
            .ok_or_else(|| ReleaseError::NotARepository {
                path: path.to_path_buf(),
            })?
            .canonicalize()
            .map_err(|source| ReleaseError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Git { repo, root })
    }

    /// `path` relative to the work tree's root, `/`-separated (`""` for the root).
    pub fn relative(&self, path: &Path) -> Result<String, ReleaseError> {
        let canonical = path.canonicalize().map_err(|source| ReleaseError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let relative =
            canonical
                .strip_prefix(&self.root)
                .map_err(|_| ReleaseError::NotARepository {
                    path: path.to_path_buf(),
                })?;
        Ok(relative.to_string_lossy().replace('\\', "/"))
    }

    /// Paths that are modified, staged, deleted or untracked (ignored files
    /// do not count), except those under `except` (the release output).
    pub fn dirty_paths(&self, except: Option<&str>) -> Result<Vec<String>, ReleaseError> {
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(git_error("reading the work tree's status"))?;
        let mut paths: Vec<String> = statuses
            .iter()
            .filter(|e| !e.status().is_ignored())
            .filter_map(|e| e.path().map(str::to_owned))
            .filter(|p| except.is_none_or(|x| !x.is_empty() && !p.starts_with(x)))
            .collect();
        paths.sort();
        Ok(paths)
    }

    /// The checked-out branch (`refs/heads/…`), or an error on a detached HEAD.
    pub fn branch(&self) -> Result<String, ReleaseError> {
        let head = self
            .repo
            .head()
            .map_err(|_| ReleaseError::NoBranch("the repository has no commit yet".into()))?;
        if !head.is_branch() {
            return Err(ReleaseError::NoBranch("HEAD is detached".into()));
        }
        Ok(head.name().unwrap_or_default().to_owned())
    }

    pub fn head_commit(&self) -> Result<git2::Commit<'_>, ReleaseError> {
        self.repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(git_error("reading HEAD"))
    }

    /// The remote's URL, refused when it holds credentials.
    pub fn remote_url(&self, remote: &str) -> Result<String, ReleaseError> {
        let found = self
            .repo
            .find_remote(remote)
            .map_err(|_| ReleaseError::MissingRemote {
                remote: remote.to_owned(),
            })?;
        let url = found.url().unwrap_or_default().to_owned();
        transport::check_url(&url).map_err(|e| ReleaseError::Transport {
            remote: remote.to_owned(),
            message: e.to_string(),
        })?;
        Ok(url)
    }

    /// Lists the remote's references (`git ls-remote`, the git program:
    /// see [`crate::transport`]).
    pub fn ls_remote(&self, remote: &str) -> Result<RemoteRefs, ReleaseError> {
        let url = self.remote_url(remote)?;
        let listed = transport::ls_remote(&self.root, remote, &url).map_err(|e| {
            ReleaseError::RemoteUnreachable {
                remote: remote.to_owned(),
                url: url.clone(),
                message: e.to_string(),
            }
        })?;
        let refs = listed
            .into_iter()
            .filter_map(|(name, oid)| Some((name, Oid::from_str(&oid).ok()?)))
            .collect();
        Ok(RemoteRefs { refs })
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors (known locally).
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> bool {
        ancestor == descendant
            || self
                .repo
                .graph_descendant_of(descendant, ancestor)
                .unwrap_or(false)
    }

    /// The commit a tag points to, if the tag exists.
    pub fn tag_commit(&self, tag: &str) -> Option<git2::Commit<'_>> {
        self.repo
            .find_reference(&format!("refs/tags/{tag}"))
            .ok()?
            .peel_to_commit()
            .ok()
    }

    /// The message of an annotated tag.
    pub fn tag_message(&self, tag: &str) -> Option<String> {
        let reference = self.repo.find_reference(&format!("refs/tags/{tag}")).ok()?;
        let tag = reference.peel_to_tag().ok()?;
        tag.message().map(str::to_owned)
    }

    /// Every tag name starting with `prefix`.
    pub fn tags_with_prefix(&self, prefix: &str) -> Result<Vec<String>, ReleaseError> {
        let names = self
            .repo
            .tag_names(None)
            .map_err(git_error("listing tags"))?;
        Ok(names
            .iter()
            .flatten()
            .filter(|n| n.starts_with(prefix))
            .map(str::to_owned)
            .collect())
    }

    /// Subjects and bodies of the commits reachable from HEAD but not from
    /// `since`, newest first, keeping those that touch `dir` (all when `dir`
    /// is the root).
    pub fn commits_since(
        &self,
        since: Option<Oid>,
        dir: &str,
    ) -> Result<Vec<String>, ReleaseError> {
        let mut walk = self.repo.revwalk().map_err(git_error("walking history"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(git_error("walking history"))?;
        walk.push_head().map_err(git_error("walking history"))?;
        if let Some(since) = since {
            walk.hide(since).map_err(git_error("walking history"))?;
        }
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(git_error("walking history"))?;
            let commit = self
                .repo
                .find_commit(oid)
                .map_err(git_error("reading a commit"))?;
            let touches = dir.is_empty()
                || self
                    .touches(&commit, dir)
                    .map_err(git_error("listing the commits since the last tag"))?;
            if !touches {
                continue;
            }
            out.push(commit.message().unwrap_or_default().to_owned());
        }
        Ok(out)
    }

    fn touches(&self, commit: &git2::Commit<'_>, dir: &str) -> Result<bool, git2::Error> {
        let tree = commit.tree()?;
        let parent_tree = match commit.parent(0) {
            Ok(parent) => Some(parent.tree()?),
            Err(_) => None,
        };
        let mut options = git2::DiffOptions::new();
        options.pathspec(format!("{dir}/"));
        let diff =
            self.repo
                .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))?;
        Ok(diff.deltas().len() > 0)
    }

    /// Commits the given work-tree files (relative paths) on the current branch.
    pub fn commit_files(&self, files: &[String], message: &str) -> Result<Oid, ReleaseError> {
        let err = "committing the release";
        let mut index = self.repo.index().map_err(git_error(err))?;
        for file in files {
            index.add_path(Path::new(file)).map_err(git_error(err))?;
        }
        index.write().map_err(git_error(err))?;
        let tree_id = index.write_tree().map_err(git_error(err))?;
        let tree = self.repo.find_tree(tree_id).map_err(git_error(err))?;
        let signature = self.signature()?;
        let parent = self.head_commit()?;
        self.repo
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &[&parent],
            )
            .map_err(git_error(err))
    }

    fn signature(&self) -> Result<git2::Signature<'static>, ReleaseError> {
        self.repo.signature().map_err(|_| ReleaseError::NoIdentity)
    }

    /// Creates an annotated tag on `commit`; refuses to move an existing one.
    pub fn create_tag(&self, name: &str, commit: Oid, message: &str) -> Result<(), ReleaseError> {
        let object = self
            .repo
            .find_object(commit, Some(ObjectType::Commit))
            .map_err(git_error("finding the release commit"))?;
        let tagger = self.signature()?;
        self.repo
            .tag(name, &object, &tagger, message, false)
            .map_err(git_error("creating the tag"))?;
        Ok(())
    }

    pub fn delete_tag(&self, name: &str) -> Result<(), ReleaseError> {
        self.repo
            .tag_delete(name)
            .map_err(git_error("deleting the local tag"))
    }

    /// Pushes `refspecs` to the remote, never forced; every reference must
    /// be accepted (what the server's hooks said comes with a refusal).
    pub fn push(&self, remote: &str, refspecs: &[String]) -> Result<(), ReleaseError> {
        let url = self.remote_url(remote)?;
        transport::push(&self.root, remote, &url, refspecs).map_err(|e| {
            ReleaseError::PushRejected {
                remote: remote.to_owned(),
                reason: format!("{e}{}", e.server_said()),
                url,
            }
        })
    }

    /// The text of `path` (relative to the root) in `commit`'s tree.
    pub fn file_at(&self, commit: &git2::Commit<'_>, path: &str) -> Option<Vec<u8>> {
        let tree = commit.tree().ok()?;
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = self.repo.find_blob(entry.id()).ok()?;
        Some(blob.content().to_vec())
    }

    /// Writes the files of `dir` (relative to the root) as they are in
    /// `commit` into `dest`, executable bits kept. Symbolic links and
    /// submodules are written as what they are not (refused), so that the
    /// archive built from the copy fails as packing the work tree would.
    pub fn export(
        &self,
        commit: &git2::Commit<'_>,
        dir: &str,
        dest: &Path,
    ) -> Result<usize, ReleaseError> {
        use std::os::unix::fs::PermissionsExt;
        let err = "reading the tagged tree";
        let root_tree = commit.tree().map_err(git_error(err))?;
        let tree = if dir.is_empty() {
            root_tree
        } else {
            let entry =
                root_tree
                    .get_path(Path::new(dir))
                    .map_err(|_| ReleaseError::NotInCommit {
                        path: dir.to_owned(),
                        commit: commit.id().to_string(),
                    })?;
            self.repo
                .find_tree(entry.id())
                .map_err(|_| ReleaseError::NotInCommit {
                    path: dir.to_owned(),
                    commit: commit.id().to_string(),
                })?
        };
        let mut failure: Option<ReleaseError> = None;
        let mut count = 0;
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            let name = entry.name().unwrap_or_default();
            let path = dest.join(parent).join(name);
            let result = match entry.kind() {
                Some(ObjectType::Tree) => {
                    std::fs::create_dir_all(&path).map_err(|source| ReleaseError::Io {
                        path: path.clone(),
                        source,
                    })
                }
                Some(ObjectType::Blob) if entry.filemode() == 0o120000 => {
                    Err(ReleaseError::Unpackable {
                        path: format!("{parent}{name}"),
                        reason: "a symbolic link",
                    })
                }
                Some(ObjectType::Blob) => self
                    .repo
                    .find_blob(entry.id())
                    .map_err(git_error(err))
                    .and_then(|blob| {
                        let io = |source| ReleaseError::Io {
                            path: path.clone(),
                            source,
                        };
                        std::fs::write(&path, blob.content()).map_err(io)?;
                        let mode = if entry.filemode() & 0o111 != 0 {
                            0o755
                        } else {
                            0o644
                        };
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                            .map_err(io)?;
                        count += 1;
                        Ok(())
                    }),
                _ => Err(ReleaseError::Unpackable {
                    path: format!("{parent}{name}"),
                    reason: "a submodule",
                }),
            };
            match result {
                Ok(()) => TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(e);
                    TreeWalkResult::Abort
                }
            }
        })
        .or_else(|e| if failure.is_some() { Ok(()) } else { Err(e) })
        .map_err(git_error(err))?;
        match failure {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    /// Paths of every `module.yaml` and `distribution.yaml` tracked at HEAD.
    pub fn manifests(&self) -> Result<Vec<String>, ReleaseError> {
        let index = self.repo.index().map_err(git_error("reading the index"))?;
        Ok(index
            .iter()
            .filter_map(|e| String::from_utf8(e.path).ok())
            .filter(|p| {
                let file = p.rsplit('/').next().unwrap_or(p);
                file == "module.yaml" || file == "distribution.yaml"
            })
            .collect())
    }
}

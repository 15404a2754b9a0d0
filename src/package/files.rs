//! The files of a module that go into its archive: everything under the
//! module directory except version-control metadata and what `.gitignore` or
//! `.oentignore` exclude. Symlinks and special files are refused by name.

use std::path::{Path, PathBuf};

use super::PackageError;

/// A file to pack: its path inside the module (`/`-separated, UTF-8) and on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleFile {
    pub relative: String,
    pub path: PathBuf,
    pub executable: bool,
    pub size: u64,
}

const VCS_DIRS: &[&str] = &[".git", ".hg", ".svn", ".bzr", "_darcs", ".jj"];

/// Lists the module's files, sorted bytewise by relative path.
pub fn module_files(dir: &Path) -> Result<Vec<ModuleFile>, PackageError> {
    use std::os::unix::fs::PermissionsExt;

    let root = dir.canonicalize().map_err(super::io_error(dir))?;
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .git_ignore(true)
        .require_git(false)
        .add_custom_ignore_filename(".oentignore")
        .follow_links(false)
        .filter_entry(|e| {
            !(e.depth() > 0
                && e.file_type().is_some_and(|t| t.is_dir())
                && VCS_DIRS.iter().any(|v| e.file_name() == *v))
        })
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| PackageError::Walk {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let path = entry.path().to_path_buf();
        let file_type = entry
            .file_type()
            .ok_or_else(|| PackageError::SpecialFile(path.clone()))?;
        if file_type.is_dir() {
            continue;
        }
        if file_type.is_symlink() {
            return Err(PackageError::Symlink(path));
        }
        if !file_type.is_file() {
            return Err(PackageError::SpecialFile(path));
        }
        let canonical = path.canonicalize().map_err(super::io_error(&path))?;
        let relative = canonical
            .strip_prefix(&root)
            .map_err(|_| PackageError::Outside {
                path: path.clone(),
                module: dir.to_path_buf(),
            })?;
        let relative = relative
            .to_str()
            .ok_or_else(|| PackageError::NonUtf8Name(path.clone()))?
            .to_owned();
        let metadata = entry.metadata().map_err(|e| PackageError::Walk {
            path: path.clone(),
            message: e.to_string(),
        })?;
        files.push(ModuleFile {
            relative,
            path,
            executable: metadata.permissions().mode() & 0o111 != 0,
            size: metadata.len(),
        });
    }
    files.sort_by(|a, b| a.relative.as_bytes().cmp(b.relative.as_bytes()));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_vcs_and_ignored_files_and_sorts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "b.txt",
            "a/z.txt",
            "a/b.txt",
            ".git/config",
            "build/out.bin",
            "notes.tmp",
            "templates/x.tera",
        ] {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::write(d.join(f), f).unwrap();
        }
        std::fs::write(d.join(".gitignore"), "build/\n").unwrap();
        std::fs::write(d.join(".oentignore"), "*.tmp\n").unwrap();
        let names: Vec<_> = module_files(d)
            .unwrap()
            .into_iter()
            .map(|f| f.relative)
            .collect();
        assert_eq!(
            names,
            [
                ".gitignore",
                ".oentignore",
                "a/b.txt",
                "a/z.txt",
                "b.txt",
                "templates/x.tera"
            ]
        );
    }

    #[test]
    fn refuses_symlinks_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
        let err = module_files(dir.path()).unwrap_err();
        assert!(matches!(err, PackageError::Symlink(p) if p.ends_with("passwd")));
    }
}

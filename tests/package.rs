//! `oent package`: archives whose bytes depend only on the module's content,
//! that GNU tar and gzip read as they are, and that `oent registry add`
//! accepts and unpacks back to the module's files.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

mod support;

use support::Test;

/// A file of the test module: path, content, executable.
const FILES: &[(&str, &str, bool)] = &[
    ("README.md", "# x\n\nModule de test.\n", false),
    ("docs/notes.md", "Notes.\n", false),
    ("scripts/migrate.sh", "#!/bin/sh\necho migrate\n", true),
    ("templates/extra/a.tera", "a = 1\n", false),
    ("templates/extra/b.tera", "b = 2\n", false),
];

/// The archive root for the module `openent/x` at the version `oent new` writes.
const ROOT: &str = "x-0.1.0";

/// `oent` in a scratch directory (every path the tests pass is absolute),
/// with no `SOURCE_DATE_EPOCH` unless the test sets one.
fn oent() -> Test {
    Test::new()
}

/// A command-line tool the test needs, failing the test clearly when it is missing.
fn tool(name: &str) -> Command {
    if let Err(e) = Command::new(name).arg("--version").output() {
        panic!("`{name}` is needed by this test and could not be run: {e}; install it");
    }
    Command::new(name)
}

/// Runs a command, asserts success, returns stdout.
fn run(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn write(path: &Path, contents: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `oent new module openent/x` in `dir`, plus FILES.
fn new_module(dir: &Path) {
    oent()
        .args(["new", "module", "openent/x", "--dir"])
        .arg(dir)
        .run()
        .status(0);
    for (path, contents, executable) in FILES {
        write(
            &dir.join(path),
            contents,
            if *executable { 0o755 } else { 0o644 },
        );
    }
}

/// Every file under `dir`: relative path → (content, executable).
fn files(dir: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let metadata = std::fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
                let executable = metadata.permissions().mode() & 0o111 != 0;
                out.insert(relative, (std::fs::read(&path).unwrap(), executable));
            }
        }
    }
    out
}

/// Packs `module` into `out`; returns the archive's path.
fn package(module: &Path, out: &Path, source_date_epoch: Option<&str>) -> PathBuf {
    let mut test = oent();
    if let Some(epoch) = source_date_epoch {
        test = test.env("SOURCE_DATE_EPOCH", epoch);
    }
    test.arg("package")
        .arg(module)
        .arg("-o")
        .arg(out)
        .run()
        .status(0)
        .stdout_contains("packed openent/x 0.1.0");
    let archive = out.join("openent").join(format!("{ROOT}.tar.gz"));
    assert!(archive.is_file(), "{} was not written", archive.display());
    archive
}

fn checksum_file(archive: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sha256", archive.display()))
}

/// `tar -tzf`: the entry names, in archive order.
fn tar_names(archive: &Path) -> Vec<String> {
    run(tool("tar").arg("-tzf").arg(archive))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The expected entries: the module's files under ROOT, sorted bytewise.
fn expected_names(module: &Path) -> Vec<String> {
    let mut names: Vec<String> = files(module)
        .into_keys()
        .map(|f| format!("{ROOT}/{f}"))
        .collect();
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    names
}

#[test]
fn archives_depend_only_on_content() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    new_module(&source);
    let content = files(&source);

    // Copy one: files created in sorted order, modes 0644 / 0755.
    let a = dir.path().join("a");
    for (path, (bytes, executable)) in &content {
        write(
            &a.join(path),
            std::str::from_utf8(bytes).unwrap(),
            if *executable { 0o755 } else { 0o644 },
        );
    }
    // Copy two: created in the reverse order, with other modes (as under a
    // umask of 077 or 027) and mtimes spread over twenty years.
    let b = dir.path().join("b");
    for (i, (path, (bytes, executable))) in content.iter().rev().enumerate() {
        let mode = match (executable, i % 2) {
            (true, 0) => 0o700,
            (true, _) => 0o750,
            (false, 0) => 0o600,
            (false, _) => 0o640,
        };
        write(&b.join(path), std::str::from_utf8(bytes).unwrap(), mode);
    }
    let mut i = 0;
    for path in files(&b).keys() {
        let mut path = b.join(path);
        while path != b {
            let time =
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000 + i * 86_400 * 31);
            std::fs::File::open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap();
            path.pop();
            i += 1;
        }
    }
    assert_eq!(files(&a), content);
    assert_eq!(files(&b), content);

    let pack_both = |epoch: Option<&str>, name: &str| {
        let archive_a = package(&a, &dir.path().join(format!("out-a-{name}")), epoch);
        let archive_b = package(&b, &dir.path().join(format!("out-b-{name}")), epoch);
        let bytes = std::fs::read(&archive_a).unwrap();
        assert!(
            bytes == std::fs::read(&archive_b).unwrap(),
            "{} and {} differ",
            archive_a.display(),
            archive_b.display()
        );
        let sha = std::fs::read_to_string(checksum_file(&archive_a)).unwrap();
        assert_eq!(
            sha,
            std::fs::read_to_string(checksum_file(&archive_b)).unwrap()
        );
        (bytes, sha)
    };
    let (default, default_sha) = pack_both(None, "default");
    let (dated, dated_sha) = pack_both(Some("1700000000"), "dated");
    assert_ne!(
        default, dated,
        "SOURCE_DATE_EPOCH should set the entries' mtime"
    );
    assert_ne!(default_sha, dated_sha);
    // Packing again gives the same bytes again.
    assert_eq!(pack_both(Some("1700000000"), "again").0, dated);
}

#[test]
fn gnu_tar_and_gzip_read_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    let archive = package(&module, &dir.path().join("out"), Some("1700000000"));

    // Entries sorted, owned by 0/0, 0644 or 0755, dated SOURCE_DATE_EPOCH.
    let listing = run(tool("tar")
        .env("TZ", "UTC")
        .args(["--full-time", "-tzvf"])
        .arg(&archive));
    let mut names = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 6, "unexpected `tar -tv` line: {line}");
        let name = fields[5];
        let executable = name == format!("{ROOT}/scripts/migrate.sh");
        assert_eq!(
            fields[0],
            if executable {
                "-rwxr-xr-x"
            } else {
                "-rw-r--r--"
            },
            "{line}"
        );
        assert_eq!(fields[1], "0/0", "{line}");
        assert_eq!((fields[3], fields[4]), ("2023-11-14", "22:13:20"), "{line}");
        names.push(name.to_owned());
    }
    assert_eq!(names, expected_names(&module));

    run(tool("gzip").arg("-t").arg(&archive));
    run(tool("gzip").arg("-l").arg(&archive));
    let checked = run(tool("sha256sum")
        .arg("-c")
        .arg(checksum_file(&archive).file_name().unwrap())
        .current_dir(archive.parent().unwrap()));
    assert_eq!(checked, format!("{ROOT}.tar.gz: OK\n"));

    // gzip header (RFC 1952): no file name (FLG.FNAME), MTIME 0.
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8], "gzip magic and deflate");
    assert_eq!(bytes[3] & 0x08, 0, "FLG.FNAME is set");
    assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "MTIME is not 0");
}

#[test]
fn paths_longer_than_100_bytes_are_packed_for_gnu_tar() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    let long = format!("docs/{}/{}.md", "a".repeat(70), "b".repeat(60));
    write(&module.join(&long), "long\n", 0o644);
    let archive = package(&module, &dir.path().join("out"), None);
    let names = tar_names(&archive);
    let entry = format!("{ROOT}/{long}");
    assert!(entry.len() > 100);
    assert!(names.contains(&entry), "{entry} not in {names:#?}");
    assert_eq!(names, expected_names(&module));

    let extracted = dir.path().join("extracted");
    std::fs::create_dir(&extracted).unwrap();
    run(tool("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&extracted));
    assert_eq!(files(&extracted.join(ROOT)), files(&module));
}

/// Runs `oent package` expecting a refusal; asserts nothing was written.
fn package_refused(module: &Path, code: i32) -> String {
    let out = module.parent().unwrap().join("out");
    let stderr = oent()
        .arg("package")
        .arg(module)
        .arg("-o")
        .arg(&out)
        .run()
        .status(code)
        .stderr;
    assert!(
        !out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(),
        "something was written to {}: {:?}",
        out.display(),
        files(&out).keys().collect::<Vec<_>>()
    );
    stderr
}

#[test]
fn symlinks_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    std::os::unix::fs::symlink("app.conf.tera", module.join("templates/link.tera")).unwrap();
    let stderr = package_refused(&module, 2);
    assert!(stderr.contains("templates/link.tera"), "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
}

#[test]
fn fifos_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    run(tool("mkfifo").arg(module.join("templates/pipe")));
    let stderr = package_refused(&module, 2);
    assert!(stderr.contains("templates/pipe"), "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
}

#[test]
fn ignored_files_and_vcs_metadata_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    let kept = files(&module);
    write(&module.join(".gitignore"), "build/\n*.log\n", 0o644);
    write(&module.join(".oentignore"), "secret.txt\n", 0o644);
    for ignored in [
        ".git/HEAD",
        ".git/config",
        "build/out.bin",
        "debug.log",
        "docs/trace.log",
        "secret.txt",
    ] {
        write(&module.join(ignored), "ignored\n", 0o644);
    }
    let archive = package(&module, &dir.path().join("out"), None);
    let mut expected: Vec<String> = kept
        .keys()
        .map(String::as_str)
        .chain([".gitignore", ".oentignore"])
        .map(|f| format!("{ROOT}/{f}"))
        .collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(tar_names(&archive), expected);
}

#[test]
fn a_module_with_lint_errors_is_not_packed() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    let manifest = module.join("module.yaml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("category: pedagogie", "category: cuisine");
    std::fs::write(&manifest, text).unwrap();
    let stderr = package_refused(&module, 1);
    assert!(stderr.contains("`cuisine` is not one of"), "{stderr}");
    assert!(stderr.contains("was not packed"), "{stderr}");
}

#[test]
fn packed_then_published_archives_unpack_to_the_module_files() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("x");
    new_module(&module);
    let long = format!("docs/{}/{}.md", "a".repeat(70), "b".repeat(60));
    write(&module.join(&long), "long\n", 0o644);
    let archive = package(&module, &dir.path().join("out"), Some("1700000000"));
    let sha256 = std::fs::read_to_string(checksum_file(&archive)).unwrap();
    let sha256 = sha256.split_whitespace().next().unwrap();

    let registry = dir.path().join("reg");
    oent()
        .args(["registry", "init"])
        .arg(&registry)
        .args(["--name", "openent", "--namespace", "openent"])
        .run()
        .status(0);
    oent()
        .args(["registry", "add"])
        .arg(&archive)
        .arg("--to")
        .arg(&registry)
        .run()
        .status(0)
        .stdout_contains(format!("published openent/x 0.1.0 (sha256 {sha256})"));
    let published = registry.join(format!("archives/openent/{ROOT}.tar.gz"));
    assert_eq!(
        std::fs::read(&published).unwrap(),
        std::fs::read(&archive).unwrap()
    );
    let index = std::fs::read_to_string(registry.join("index/openent/x.jsonl")).unwrap();
    assert!(
        index.contains(&format!("\"sha256\":\"{sha256}\"")),
        "{index}"
    );

    let extracted = dir.path().join("extracted");
    std::fs::create_dir(&extracted).unwrap();
    run(tool("tar")
        .arg("-xzf")
        .arg(&published)
        .arg("-C")
        .arg(&extracted));
    assert_eq!(names_of(&extracted), [ROOT]);
    assert_eq!(files(&extracted.join(ROOT)), files(&module));
}

fn names_of(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

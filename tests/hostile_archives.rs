//! Hostile archives fed to `oent registry add`: each must be refused as a
//! whole, with exit status 2 and a message that names the entry and the
//! reason, leaving the registry exactly as it was and no temporary file or
//! directory behind, neither beside the registry nor in `$TMPDIR`.
//!
//! The archives are written by `tests/fixtures/archives/make.py` (its
//! README.md lists case → expected refusal); the large ones (decompression
//! bombs, too many entries) are written by the same script at test time.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{Output, Test};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/archives")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(format!("{name}.tar.gz"))
}

/// Runs `python3 make.py ARGS`, failing the test with a clear message when
/// Python 3 is missing.
fn make_py(args: &[&str]) {
    let script = fixtures().join("make.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is needed to write the large hostile archives ({}): {e}; install Python 3",
                script.display()
            )
        });
    assert!(
        output.status.success(),
        "python3 {} {args:?} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file and directory under `dir`, with the content of files.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(relative, None);
                stack.push(path);
            } else {
                out.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A fresh registry `reg/` owning `openent`, beside an empty `tmp/` that is
/// the commands' `$TMPDIR`.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(sandbox.tmp()).unwrap();
        sandbox
            .oent()
            .args([
                "registry",
                "init",
                "reg",
                "--name",
                "openent",
                "--namespace",
                "openent",
            ])
            .run()
            .status(0);
        sandbox
    }

    fn registry(&self) -> PathBuf {
        self.dir.path().join("reg")
    }

    fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    fn oent(&self) -> Test {
        Test::at(self.dir.path()).env("TMPDIR", self.tmp())
    }

    fn add(&self, archive: &Path) -> Output {
        self.oent()
            .args(["registry", "add"])
            .arg(archive)
            .args(["--to", "reg"])
            .run()
    }

    /// Nothing left beside the registry, nothing in `$TMPDIR`.
    fn assert_no_leftovers(&self) {
        assert_eq!(
            names(self.dir.path()),
            ["reg", "tmp"],
            "something was left beside the registry"
        );
        assert_eq!(
            names(&self.tmp()),
            Vec::<String>::new(),
            "something was left in $TMPDIR"
        );
    }
}

/// Adds `archive` to a fresh registry and checks that it is refused as a
/// whole: exit status 2, nothing on stdout, every `expected` fragment in
/// stderr and no path into the (deleted) temporary directories, the registry
/// unchanged, no leftovers. Returns stderr and the time the refusal took.
fn refused_in(sandbox: &Sandbox, archive: &Path, expected: &[&str]) -> (String, Duration) {
    let before = tree(&sandbox.registry());
    let fixtures_before = names(&fixtures());
    let start = Instant::now();
    let output = sandbox.add(archive);
    let elapsed = start.elapsed();
    let stdout = output.stdout.clone();
    let stderr = output.stderr.clone();
    let context = format!(
        "{}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        archive.display()
    );
    assert_eq!(output.code, Some(2), "exit status of {context}");
    assert_eq!(stdout, "", "stdout of {context}");
    for fragment in expected {
        assert!(
            stderr.contains(fragment),
            "stderr should contain {fragment:?}: {context}"
        );
    }
    // The temporary tree is gone when the message is read: a path into it
    // sends the user looking for a file that does not exist.
    // (Outputs spell the sandbox `[ROOT]`, whichever path led to it.)
    let tmp = "[ROOT]/tmp";
    assert!(
        !stderr.contains(tmp),
        "stderr names a path in the temporary directory {tmp} instead of the archive or its entry: {context}"
    );
    assert_eq!(
        tree(&sandbox.registry()),
        before,
        "the registry changed: {context}"
    );
    assert_eq!(
        names(&fixtures()),
        fixtures_before,
        "something was written beside the archive: {context}"
    );
    sandbox.assert_no_leftovers();
    (stderr, elapsed)
}

fn refused(archive: &Path, expected: &[&str]) -> String {
    refused_in(&Sandbox::new(), archive, expected).0
}

/// One test per committed fixture: `case: file => [fragments of stderr]`.
macro_rules! refused {
    ($($test:ident: $file:literal => [$($expected:expr),* $(,)?];)*) => {$(
        #[test]
        fn $test() {
            refused(&fixture($file), &[$($expected),*]);
        }
    )*};
}

refused! {
    absolute_path: "absolute-path" => ["entry `/etc/x`", "absolute path"];
    dotdot_traversal: "dotdot-traversal" => ["entry `x-1.0.0/../../evil`", "`..` in the path"];
    gnu_long_name_traversal: "gnu-longname-traversal" => [
        &format!("entry `x-1.0.0/{}/../../../evil`", "a".repeat(120)),
        "`..` in the path",
    ];
    pax_path_traversal: "pax-path-traversal" => ["entry `x-1.0.0/../../evil`", "`..` in the path"];
    symlink: "symlink" => ["entry `x-1.0.0/passwd`", "symbolic links are not allowed"];
    hardlink: "hardlink" => ["entry `x-1.0.0/link`", "hard links are not allowed"];
    char_device: "char-device" => ["entry `x-1.0.0/null`", "device files and FIFOs are not allowed"];
    block_device: "block-device" => ["entry `x-1.0.0/sda`", "device files and FIFOs are not allowed"];
    fifo: "fifo" => ["entry `x-1.0.0/pipe`", "device files and FIFOs are not allowed"];
    gnu_sparse: "gnu-sparse" => [
        "entry `x-1.0.0/sparse.bin`",
        "only regular files and directories are allowed",
    ];
    setuid: "setuid" => ["entry `x-1.0.0/run.sh`", "setuid or setgid bit set"];
    setgid: "setgid" => ["entry `x-1.0.0/run.sh`", "setuid or setgid bit set"];
    duplicate_entry: "duplicate-entry" => ["entry `x-1.0.0/module.yaml`", "duplicate entry"];
    outside_root: "outside-root" => ["entry `y-1.0.0/evil`", "outside the archive's root directory"];
    file_as_root: "file-as-root" => ["entry `x-1.0.0`", "a file cannot be the root directory"];
    non_utf8_path: "non-utf8-path" => ["entry `x-1.0.0/caf\u{fffd}.txt`", "the path is not UTF-8"];
    header_size_lie: "size-lie" => ["not a valid tar.gz"];
    truncated_gzip: "truncated-gzip" => ["not a valid tar.gz"];
    not_gzip: "not-gzip" => ["not a valid tar.gz"];
    empty_archive: "empty-archive" => [
        "empty-archive.tar.gz",
        "no `<name>-<version>/` root directory",
    ];
    missing_manifest: "missing-manifest" => ["missing-manifest.tar.gz", "module.yaml"];
    root_disagrees_with_manifest: "root-mismatch" => [
        "root-mismatch.tar.gz",
        "its root directory is `y-2.0.0` but the manifest inside says `x-1.0.0`",
    ];
    file_then_directory_of_the_same_name: "file-then-directory" => ["`x-1.0.0/a/b`"];
    directory_then_file_of_the_same_name: "directory-then-file" => ["`x-1.0.0/a`"];
    gzip_bad_crc: "gzip-bad-crc" => ["not a valid tar.gz"];
    gzip_bad_size: "gzip-bad-size" => ["not a valid tar.gz"];
    gzip_without_trailer: "gzip-no-trailer" => ["not a valid tar.gz"];
}

#[test]
fn invalid_manifest_is_refused_with_its_diagnostics() {
    let stderr = refused(
        &fixture("invalid-manifest"),
        &[
            "`NOT-A-LICENCE` is not a valid SPDX expression",
            "`category`: `cuisine` is not one of",
            "the manifest inside `",
            "invalid-manifest.tar.gz` has problems",
        ],
    );
    // The diagnostics point into the archive, at the manifest's lines.
    assert!(stderr.contains("module.yaml:4:"), "{stderr}");
    assert!(stderr.contains("module.yaml:6:"), "{stderr}");
}

/// Content that oent never inspected but that other readers extract: a
/// second gzip member (read by gzip, GNU tar and Python as the continuation
/// of the first), entries after the end-of-archive blocks (`tar -i`), bytes
/// after the gzip stream. Refused as trailing data, or for what it hides.
#[test]
fn second_gzip_member_is_refused() {
    let stderr = refused(&fixture("second-gzip-member"), &[]);
    assert!(
        stderr.contains("after the end")
            || stderr.contains("after the gzip stream")
            || stderr.contains("`..` in the path"),
        "{stderr}"
    );
}

#[test]
fn entries_after_the_end_of_the_tar_stream_are_refused() {
    let stderr = refused(&fixture("after-end-of-archive"), &[]);
    assert!(
        stderr.contains("after the end")
            || stderr.contains("after the gzip stream")
            || stderr.contains("`..` in the path"),
        "{stderr}"
    );
}

#[test]
fn garbage_after_the_gzip_stream_is_refused() {
    let stderr = refused(&fixture("gzip-trailing-garbage"), &[]);
    assert!(
        stderr.contains("after the end") || stderr.contains("not a valid tar.gz"),
        "{stderr}"
    );
}

/// The control: the valid module the hostile cases are built on is
/// accepted, so each refusal comes from what the case adds.
#[test]
fn the_valid_control_archive_is_published() {
    let sandbox = Sandbox::new();
    sandbox
        .oent()
        .args(["registry", "add"])
        .arg(fixture("valid"))
        .args(["--to", "reg"])
        .run()
        .status(0)
        .stdout_contains("published openent/x 1.0.0");
    assert_eq!(
        std::fs::read(sandbox.registry().join("archives/openent/x-1.0.0.tar.gz")).unwrap(),
        std::fs::read(fixture("valid")).unwrap()
    );
    sandbox.assert_no_leftovers();
}

/// The large cases, written by `make.py --large` into their own directory.
fn large_case(name: &str, expected: &[&str]) {
    let input = tempfile::tempdir().unwrap();
    make_py(&["--large", &input.path().display().to_string(), name]);
    let archive = input.path().join(format!("{name}.tar.gz"));
    let size = std::fs::metadata(&archive).unwrap().len();
    let (_, elapsed) = refused_in(&Sandbox::new(), &archive, expected);
    eprintln!("{name}.tar.gz ({size} bytes) refused in {elapsed:.2?}");
}

#[test]
fn decompression_bomb_in_one_file_is_refused() {
    large_case(
        "bomb-one-file",
        &[
            "`x-1.0.0/zeros.bin`",
            "larger than 268435456 bytes",
            "decompression bomb",
        ],
    );
}

#[test]
fn decompression_bomb_over_many_files_is_refused() {
    // Each file is under the 256 MiB per-file limit; the third one takes the
    // total over 512 MiB.
    large_case(
        "bomb-many-files",
        &[
            "`x-1.0.0/zeros-2.bin`",
            "larger than 536870912 bytes",
            "decompression bomb",
        ],
    );
}

#[test]
fn too_many_entries_are_refused() {
    large_case("too-many-entries", &["more than 10000 entries"]);
}

#[test]
fn an_archive_file_over_256_mib_is_refused_before_it_is_read() {
    let input = tempfile::tempdir().unwrap();
    let archive = input.path().join("oversized.tar.gz");
    // Sparse: no disk space used.
    std::fs::File::create(&archive)
        .unwrap()
        .set_len((256 << 20) + 1)
        .unwrap();
    refused_in(
        &Sandbox::new(),
        &archive,
        &["oversized.tar.gz", "larger than 268435456 bytes"],
    );
}

/// gunzip as far as the stream allows: the tar content a fixture describes.
fn lenient_gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut decoder = flate2::read::GzDecoder::new(bytes);
    let mut out = Vec::new();
    let mut buf = [0; 8192];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The committed fixtures and README are what make.py writes: compared
/// byte for byte, or by their decompressed tar stream when this Python's
/// zlib compresses differently.
#[test]
fn committed_fixtures_are_what_make_py_writes() {
    let out = tempfile::tempdir().unwrap();
    make_py(&["--small", &out.path().display().to_string()]);
    let mut written = names(out.path());
    written.push("make.py".to_owned());
    written.sort();
    assert_eq!(
        names(&fixtures()),
        written,
        "tests/fixtures/archives holds other files than make.py writes: run `python3 tests/fixtures/archives/make.py`"
    );
    for name in names(out.path()) {
        let fresh = std::fs::read(out.path().join(&name)).unwrap();
        let committed = std::fs::read(fixtures().join(&name)).unwrap();
        assert!(
            committed.len() < 10_000,
            "{name} is {} bytes: keep committed fixtures small",
            committed.len()
        );
        if fresh == committed {
            continue;
        }
        assert!(
            name.ends_with(".tar.gz") && lenient_gunzip(&fresh) == lenient_gunzip(&committed),
            "tests/fixtures/archives/{name} is not what make.py writes: run `python3 tests/fixtures/archives/make.py`"
        );
    }
}

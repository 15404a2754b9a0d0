//! Embeds the association's catalogue (the repository's `registry/`) in the
//! binary: writes `$OUT_DIR/embedded_registry.rs`, one `include_bytes!` per
//! file of `registry/` (sorted, so the build is reproducible), read by
//! `src/registry/embedded.rs`. Reruns whenever `registry/` changes, so a
//! republished catalogue is what the next build embeds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("registry");
    println!("cargo:rerun-if-changed=registry");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from("&[\n");
    for (relative, path) in &files {
        // A changed file, not only an added or removed one, triggers a rerun.
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({relative:?}, include_bytes!({:?}) as &[u8]),",
            path.display().to_string()
        );
    }
    out.push_str("]\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded_registry.rs");
    std::fs::write(dest, out).unwrap();
}

/// Every regular file under `dir`, as (path relative to `root` with `/`, path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        // Temporaries of an interrupted publish (`.oent-*`) are not the catalogue.
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.is_file() {
            let relative = path.strip_prefix(root).unwrap();
            let parts: Vec<_> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((parts.join("/"), path));
        }
    }
}

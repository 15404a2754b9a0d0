//! Consistent snapshots: a client pinning a forge's key reads the signed
//! snapshot, then the copies of the files it names by their hash, so a
//! forge publishing in between can never give it a view mixed from two
//! moments. Driven against a real forge publishing back to back.

mod forge_support;
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use forge_support::{OPENENT_TOKEN, RunningForge, oent_in};
use support::registry::write_module;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A forge owning `openent` that signs with a key made by `oent key new`;
/// and the path of the public key.
fn signed_forge(dir: &Path) -> (RunningForge, String) {
    std::fs::create_dir_all(dir).unwrap();
    let out = oent_in(dir, &["key", "new", "forge-key"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let forge = RunningForge::start(dir, "openent", "openent", "signing-key: forge-key\n");
    (forge, dir.join("forge-key.pub").display().to_string())
}

/// Publishes `openent/annuaire` versions `1.<batch>.0` to `1.<batch>.19`
/// in one `oent publish` (one PUT after another).
fn publish_batch(dir: &Path, forge: &RunningForge, batch: usize) {
    let batch_dir = dir.join(format!("batch-{batch}"));
    for patch in 0..20 {
        write_module(
            &batch_dir,
            "openent/annuaire",
            &format!("1.{batch}.{patch}"),
            "",
        );
    }
    let out = oent_in(
        &batch_dir,
        &["publish", "src", "--to", &forge.url],
        Some(OPENENT_TOKEN),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_pinned_client_never_sees_a_mixed_view_while_the_forge_publishes() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("forge");
    let (forge, key) = signed_forge(&dir);
    publish_batch(&dir, &forge, 0);

    let stop = AtomicBool::new(false);
    let refusals = std::thread::scope(|scope| {
        let publisher = scope.spawn(|| {
            let mut batch = 1;
            while !stop.load(Ordering::Relaxed) {
                publish_batch(&dir, &forge, batch);
                batch += 1;
            }
            batch - 1
        });
        let mut refusals = Vec::new();
        for _ in 0..40 {
            let out = Command::new(support::oent())
                .args(["fetch", "openent/annuaire", "--registry", &forge.url])
                .args(["--key", &key])
                .env("OENT_CACHE_DIR", root.path().join("cache"))
                .output()
                .unwrap();
            if !out.status.success() {
                refusals.push(text(&out.stderr));
            }
        }
        stop.store(true, Ordering::Relaxed);
        let batches = publisher.join().unwrap();
        assert!(batches >= 1, "the forge published nothing meanwhile");
        refusals
    });
    assert!(
        refusals.is_empty(),
        "{} of 40 fetches refused while the forge published; the first:\n{}",
        refusals.len(),
        refusals[0]
    );
}

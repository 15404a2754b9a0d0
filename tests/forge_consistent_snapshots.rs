//! Consistent snapshots: a client pinning a forge's key reads the signed
//! snapshot, then the copies of the files it names by their hash, so a
//! forge publishing in between can never give it a view mixed from two
//! moments. Driven against a real forge publishing back to back.

mod forge_support;
mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use forge_support::RunningForge;
use support::Test;
use support::registry::write_module;

/// A forge owning `openent` that signs with a key made by `oent key new`;
/// and the path of the public key.
fn signed_forge(dir: &Path) -> (RunningForge, String) {
    std::fs::create_dir_all(dir).unwrap();
    Test::at(dir)
        .args(["key", "new", "forge-key"])
        .run()
        .status(0);
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
    Test::at(&batch_dir)
        .args(["publish", "src"])
        .forge(forge)
        .run()
        .status(0);
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
            let out = Test::at(root.path())
                .args(["fetch", "openent/annuaire", "--registry", &forge.url])
                .args(["--key", &key])
                .env("OENT_CACHE_DIR", root.path().join("cache"))
                .run();
            if out.code != Some(0) {
                refusals.push(out.stderr);
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

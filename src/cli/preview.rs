//! What `oent update --dry-run` and `oent build --diff` print: the modules
//! that would move, the defaults that move with them, the bundle's files
//! that would change (with their diff), and that nothing was written.

use serde_json::json;

use super::exit;
use super::output::{Format, JSON_VERSION, print_json};
use oent::manifest::diagnostic::render::Sources;
use oent::ops::preview::{Preview, PreviewError};

/// Prints a preview (or why there is none) and gives the exit status: 0
/// whether or not something would change, as a preview is not a check.
pub fn show(
    preview: Result<Preview, PreviewError>,
    format: Format,
    sources: Sources,
) -> anyhow::Result<u8> {
    let preview = match preview {
        Ok(preview) => preview,
        Err(PreviewError::Build(e)) => return super::report::build_failure(e, sources),
        Err(e) => return Err(e.into()),
    };
    if format.is_json() {
        print_json(&json!({
            "version": JSON_VERSION,
            "lock": preview.lock,
            "modules": preview.modules,
            "defaults": preview.defaults,
            "files": preview.files,
        }))?;
        return Ok(exit::OK);
    }
    print!("{}", human(&preview));
    eprintln!(
        "{} module(s), {} default(s), {} file(s) would change; nothing was written (`{}` and the bundle are untouched)",
        preview.modules.len(),
        preview.defaults.len(),
        preview.files.len(),
        preview.lock.display()
    );
    Ok(exit::OK)
}

/// The three lists, then the files' diff as `oent diff` prints it.
fn human(preview: &Preview) -> String {
    let absent = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    let shown =
        |v: &Option<serde_json::Value>| v.as_ref().map_or("(none)".into(), |v| v.to_string());
    let mut text = String::new();
    if !preview.modules.is_empty() {
        text.push_str("modules:\n");
        for m in &preview.modules {
            text.push_str(&format!(
                "  {} {} → {}\n",
                m.name,
                absent(&m.old),
                absent(&m.new)
            ));
        }
    }
    if !preview.defaults.is_empty() {
        text.push_str("defaults:\n");
        for d in &preview.defaults {
            let note = if d.set_by_distribution {
                "  (set by the distribution: its value stays)"
            } else {
                ""
            };
            text.push_str(&format!(
                "  {}.{}: {} → {}{note}\n",
                d.module,
                d.option,
                shown(&d.old),
                shown(&d.new)
            ));
        }
    }
    if !preview.files.is_empty() {
        text.push_str("files:\n");
        text.push_str(&preview.report);
    }
    text
}

//! Progress bars for long work: drawn on a terminal only; hidden when
//! standard error is not a terminal, when `CI=true`, or when the output is
//! machine-readable. The library reports through `registry::fetch::Progress`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use oent::registry::fetch::{NoProgress, Progress};

use super::output::Format;

/// A bar labelled `{verb} … {pos}/{len} {unit}`, or nothing where it would be noise.
pub fn bar(verb: &'static str, unit: &'static str) -> Box<dyn Progress> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if ci || !std::io::stderr().is_terminal() {
        return Box::new(NoProgress);
    }
    Box::new(Bar {
        bar: ProgressBar::hidden(),
        verb,
        unit,
    })
}

/// [`bar`], or nothing when `format` is JSON (the bar would be noise
/// beside a document meant for a program).
pub fn bar_for(format: Format, verb: &'static str, unit: &'static str) -> Box<dyn Progress> {
    if format.is_json() {
        Box::new(NoProgress)
    } else {
        bar(verb, unit)
    }
}

struct Bar {
    bar: ProgressBar,
    verb: &'static str,
    unit: &'static str,
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.bar.set_length(total);
        let template = format!(
            "{{spinner}} {} [{{bar:30}}] {{pos}}/{{len}} {}",
            self.verb, self.unit
        );
        self.bar.set_style(
            ProgressStyle::with_template(&template)
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

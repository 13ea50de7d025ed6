//! The one place a bar is made: whether to draw one at all, and how it looks.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Whether a meter gives up its bar when `REPORT_PROGRESS=plain`.
#[derive(Debug, Clone, Copy)]
pub enum Plain {
    /// Training: workers of `build --jobs` share one terminal, and their bars would
    /// overwrite each other.
    Honoured,
    /// Downloading: `report data fetch` has only ever asked whether stderr is a terminal.
    Ignored,
}

/// A bar of `total` steps on stderr drawn with `template`, labelled `prefix`, set up by
/// `setup` before it starts ticking; `None` where stderr is no terminal (or `plain` asks
/// for lines), and the meter prints lines instead.
pub fn bar(
    plain: Plain,
    total: u64,
    template: &str,
    prefix: &str,
    setup: impl FnOnce(&ProgressBar),
) -> Option<ProgressBar> {
    let plain = match plain {
        Plain::Honoured => std::env::var_os("REPORT_PROGRESS").is_some_and(|v| v == "plain"),
        Plain::Ignored => false,
    };
    (std::io::stderr().is_terminal() && !plain).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(prefix.to_owned());
        setup(&bar);
        // Redraws between steps too, so that the ETA and the rate keep moving.
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    })
}

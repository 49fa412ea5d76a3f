//! A progress bar on stderr for inputs with many batches; indicatif hides it when stderr is not a
//! terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Above this many batches a bar is shown.
const SHOW_ABOVE: u64 = 10;

/// Counts batches; visible only past [`SHOW_ABOVE`] of them.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `len` batches, or a spinner when the count is unknown (an IPC stream), which appears
    /// once it has counted more than [`SHOW_ABOVE`].
    pub fn new(len: Option<usize>, message: &'static str) -> Self {
        let bar = match len {
            Some(len) => {
                let len = len as u64;
                let bar = ProgressBar::with_draw_target(Some(len), target(len > SHOW_ABOVE));
                bar.set_style(style("{msg} {wide_bar} {pos}/{len} batches ({eta})"));
                bar
            }
            None => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
                bar.set_style(style("{spinner} {msg} {pos} batches"));
                bar
            }
        };
        bar.set_message(message);
        Progress { bar }
    }

    /// Counts one batch.
    pub fn inc(&self) {
        self.bar.inc(1);
        if self.bar.length().is_none() && self.bar.position() == SHOW_ABOVE + 1 {
            self.bar.set_draw_target(target(true));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn target(visible: bool) -> ProgressDrawTarget {
    if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

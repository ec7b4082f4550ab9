//! Progress reporting: the only way commands tell a person what is happening while they wait.
//!
//! With a terminal it is an indicatif spinner on stderr; without one (CI, pipes, `--yes` in a
//! script) each step is one plain line on stderr, so logs stay readable and nothing animates.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::printer::Printer;

pub trait Reporter: Send + Sync {
    /// A phase starts ("waiting for the load balancer address").
    fn step(&self, msg: &str);
    /// The current phase ended well, with a one-line result.
    fn done(&self, msg: &str);
    /// Something the user should know, that does not stop the command.
    fn warn(&self, msg: &str);
    /// Detail (evidence, plan lines).
    fn info(&self, msg: &str);
    /// Stops any animation before the command prints its result.
    fn finish(&self) {}
}

/// Spinner on a terminal, plain lines otherwise.
pub struct StderrReporter {
    printer: Printer,
    bar: Mutex<Option<ProgressBar>>,
    animate: bool,
}

impl StderrReporter {
    pub fn new(printer: Printer, animate: bool) -> Self {
        StderrReporter {
            printer,
            bar: Mutex::new(None),
            animate,
        }
    }

    fn clear(&self) {
        if let Some(bar) = self.bar.lock().expect("reporter lock").take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for StderrReporter {
    fn step(&self, msg: &str) {
        self.clear();
        if self.animate {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .expect("static template"),
            );
            bar.set_message(msg.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            *self.bar.lock().expect("reporter lock") = Some(bar);
        } else {
            self.printer.say(&format!("… {msg}"));
        }
    }

    fn done(&self, msg: &str) {
        self.clear();
        self.printer
            .say(&format!("{} {msg}", self.printer.paint("✓", "32")));
    }

    fn warn(&self, msg: &str) {
        self.clear();
        self.printer.warn(msg);
    }

    fn info(&self, msg: &str) {
        let bar = self.bar.lock().expect("reporter lock");
        match bar.as_ref() {
            Some(b) => b.println(format!("  {msg}")),
            None => self.printer.say(&format!("  {msg}")),
        }
    }

    fn finish(&self) {
        self.clear();
    }
}

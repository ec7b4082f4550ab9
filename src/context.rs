//! What every command and operation gets: the resolved settings, the one printer for results
//! and the progress reporter. Commands build it once from the command line (`commands::main`);
//! operations (`install`) take it without ever seeing clap.

use crate::printer::Printer;
use crate::reporter::Reporter;
use crate::settings::Settings;

/// What every command gets: resolved settings, the printer and the progress reporter.
pub struct Ctx {
    pub settings: Settings,
    pub printer: Printer,
    pub reporter: Box<dyn Reporter>,
}

impl Ctx {
    /// Asks a yes/no question on a terminal. Without one (or with --yes) the answer is yes:
    /// scripts opted in by running the command.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        if !self.settings.interactive {
            return Ok(true);
        }
        self.reporter.finish();
        Ok(dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()?)
    }
}

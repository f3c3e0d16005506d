use std::process::ExitCode;

use clap::Parser;
use clearstress::cli::{execute, Cli};

fn main() -> ExitCode {
    // A panic is a bug, never the user's input: say so plainly instead of a trace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("clearstress: internal error (a bug, please report it): {info}");
    }));
    let cli = Cli::parse();
    match execute(cli, std::env::args().collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

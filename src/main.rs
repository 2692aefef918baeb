//! The `kaohe` command: parse the command line and hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    kaohe::cli::run(kaohe::cli::Cli::parse())
}

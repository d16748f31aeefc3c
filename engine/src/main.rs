//! The `ocp-engine` command: parses flags and config, runs the library, prints the report.

mod cli;
mod events;

fn main() {
    std::process::exit(cli::main());
}

//! `ocp-test-postgres`: the tests' PostgreSQL for tests written in other languages (the Python
//! package's pytest suite). Chooses the server as every Rust test does
//! ([`ocp_testkit::server_url`]: 127.0.0.1:5432 when it answers, else a throwaway cluster),
//! prints its URL as the first line of stdout, and keeps a throwaway cluster running until its
//! standard input closes; the cluster's files are removed when it exits.

use std::io::{Read, Write};

fn main() {
    let url = ocp_testkit::server_url();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{url}")
        .and_then(|()| stdout.flush())
        .unwrap_or_else(|e| {
            eprintln!("ocp-test-postgres: cannot write the URL: {e}");
            std::process::exit(1);
        });
    // Whatever arrives, the server lives until the caller closes our stdin (or dies).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

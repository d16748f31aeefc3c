//! The `ocp-engine` binary as a child process on a [`Case`]'s month, its JSON events read line by
//! line as they come, so that a suite can act at a known point of the run (stop it, look at
//! what it printed).
//!
//! The binary is the one `cargo test --workspace` builds beside the test (target/debug), or
//! `OCP_ENGINE_BIN`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};

use ocp_testkit as testkit;
use serde_json::Value;

use super::case::Case;

/// The engine binary: `OCP_ENGINE_BIN`, else the one built beside this test.
pub fn engine_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("OCP_ENGINE_BIN") {
        return PathBuf::from(path);
    }
    let test = std::env::current_exe().expect("the test's own path");
    let dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug/deps");
    let binary = dir.join("ocp-engine");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p ocp-engine` (`cargo test --workspace` \
         does) or point OCP_ENGINE_BIN at one",
        binary.display()
    );
    binary
}

/// Where the engine reads from.
pub enum Input {
    /// The case's Parquet folder.
    Parquet,
    /// koku's on-prem tables in the case's schema.
    OnPrem,
}

/// The engine running the case's month as a child, its JSON events read line by line.
pub struct Engine {
    child: Child,
    events: Receiver<Value>,
}

impl Engine {
    /// Starts the engine on the case's month ([`Engine::command`]).
    pub fn start(case: &Case, input: Input) -> Engine {
        Engine::spawn(Engine::command(case, input))
    }

    /// The command line that runs the case's month from `input` into the case's schema, with
    /// JSON events on stderr and no `OCP_ENGINE_*` variable inherited; a suite adds to it.
    pub fn command(case: &Case, input: Input) -> Command {
        let request = case.request();
        let url = testkit::server_url();
        let location = match input {
            Input::Parquet => request.location.clone(),
            Input::OnPrem => url.to_string(),
        };
        let mut command = Command::new(engine_binary());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OCP_ENGINE_") {
                command.env_remove(name);
            }
        }
        command
            .args(["aggregate", "--log-format", "json", "--input", &location])
            .args(["--account", &request.account])
            .args(["--source", &request.source_uuid.to_string()])
            .args(["--start", &request.start.to_string()])
            .args(["--end", &request.end.to_string()])
            .args(["--postgres-url", url, "--schema", case.schema()])
            .args(["--compatibility", request.compatibility.as_str()]);
        command
    }

    /// Starts `command`, its stderr read as JSON events (one per line) and stdout dropped.
    pub fn spawn(mut command: Command) -> Engine {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the engine");
        let stderr = child.stderr.take().expect("piped stderr");
        let (send, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let event = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON event ({e}): {line}"));
                if send.send(event).is_err() {
                    break;
                }
            }
        });
        Engine { child, events }
    }

    /// Sends `signal` and waits for the process to end; returns its status and every event it
    /// wrote.
    pub fn stop(self, signal: i32) -> (ExitStatus, Vec<Value>) {
        // SAFETY: kill(2) on the child's pid, which is ours until we wait for it.
        let sent = unsafe { libc_kill(self.child.id() as i32, signal) };
        assert_eq!(sent, 0, "kill({signal}) failed");
        self.finish()
    }

    /// Waits for the process to end; returns its status and every event it wrote.
    pub fn finish(mut self) -> (ExitStatus, Vec<Value>) {
        let status = self.child.wait().expect("wait for the engine");
        (status, self.events.iter().collect())
    }
}

/// Sends `signal` to `child` (which must not have been waited for yet).
pub fn send_signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on the child's pid, which is ours until we wait for it.
    let sent = unsafe { libc_kill(child.id() as i32, signal) };
    assert_eq!(sent, 0, "kill({signal}) failed");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

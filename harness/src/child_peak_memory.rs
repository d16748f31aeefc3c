//! A child process's own peak resident memory, measured so that it cannot include its parent's.
//!
//! **Contract.** [`MeasuredChild::spawn`] starts a [`Command`]; [`MeasuredChild::wait`] reaps it
//! and returns a [`ChildRun`]: its exit status, the wall-clock time from just before the spawn to
//! its exit, and the peak resident set size of the program it ran, counted from its `exec`:
//! whatever memory the parent (the harness) holds is never part of the figure. `None` when no
//! figure could be read (no `/proc`, or a child gone before the first sample).
//!
//! **Why not `ru_maxrss`.** `wait4(2)`/`getrusage(RUSAGE_CHILDREN)` report the child's
//! `signal->maxrss`, and Linux does not start it at zero: at `exec` the kernel stores the
//! outgoing address space's high-water mark into it (`exec_mmap` calls
//! `setmax_mm_hiwater_rss(&tsk->signal->maxrss, old_mm)`). Rust's `Command` spawns with
//! `posix_spawn`, whose child shares the parent's address space (`CLONE_VM | CLONE_VFORK`) until
//! `exec`, so that mark is the *parent's* peak; with `fork` it is the copy's, which is as large as
//! the parent was. So a small child of a large harness reports the harness's size: a parent that
//! touched 600 MiB saw `sleep` report `ru_maxrss` 614 MiB while `sleep`'s own `VmHWM` was 1.8 MiB,
//! and the comparison report printed DuckDB's peak as 574 MiB where DuckDB alone peaks at about
//! 350 MiB.
//!
//! **How.** `VmHWM` in `/proc/<pid>/status` is the high-water mark of the address space the child
//! got at `exec`, which starts empty. A thread reads it every [`SAMPLE_INTERVAL`] while the child
//! runs and keeps the largest value; the child is reaped only after that. Three details make the
//! samples the child's own:
//! - `Command::spawn` returns only once the child has `exec`ed (`posix_spawn` resumes the parent
//!   after the `exec`; the `fork` path waits for a close-on-exec pipe), so no sample can read the
//!   address space a `vfork` child still shares with the parent;
//! - the status file is opened once, right after the spawn, and re-read with `pread`: that open
//!   file stays bound to this process, so after it is reaped reads fail (`ESRCH`) instead of
//!   reading a new process that reused the pid;
//! - a zombie's status has no `VmHWM` line (its memory is gone), so the exit itself adds nothing.
//!
//! **Limits.** `VmHWM` only grows, so the largest sample is the peak except for growth in the last
//! few milliseconds before the child exits (at most one interval): a peak reached only then is
//! missed. A child that is gone before the first sample has no figure. Only the child process
//! itself is counted, not processes it starts (the DuckDB CLI runs in one process). Reading the
//! file costs a few tens of microseconds per sample.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the child's `VmHWM` is read while it runs.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(5);

/// How a measured child went (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct ChildRun {
    /// The child's exit status.
    pub status: ExitStatus,
    /// Wall-clock time from just before the spawn to the child's exit.
    pub elapsed: Duration,
    /// The child's own peak resident set size in bytes (its largest `VmHWM` sample).
    pub peak_rss_bytes: Option<u64>,
}

/// A running child whose own peak resident memory is being sampled. Wait for it with
/// [`MeasuredChild::wait`] (not through a `Child` handle: it is reaped only after sampling stops).
#[derive(Debug)]
pub struct MeasuredChild {
    child: Child,
    started: Instant,
    sampler: Option<Sampler>,
}

#[derive(Debug)]
struct Sampler {
    /// Dropping it stops the sampling thread.
    stop: Sender<()>,
    thread: JoinHandle<Option<u64>>,
}

impl MeasuredChild {
    /// Spawns `command` and starts sampling the child's `VmHWM`. An error is the spawn's (e.g.
    /// the program does not exist); if sampling cannot start, the child runs without a figure.
    pub fn spawn(command: &mut Command) -> io::Result<MeasuredChild> {
        let started = Instant::now();
        let child = command.spawn()?;
        // spawn() has returned, so the child has exec'ed: this file shows its own memory.
        let sampler = File::open(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|status| {
                let (stop, stopped) = mpsc::channel();
                std::thread::Builder::new()
                    .name("child-peak-rss".into())
                    .spawn(move || {
                        let mut peak = None;
                        loop {
                            if let Some(hwm) = vm_hwm_bytes(&status) {
                                peak = peak.max(Some(hwm));
                            }
                            match stopped.recv_timeout(SAMPLE_INTERVAL) {
                                Err(RecvTimeoutError::Timeout) => continue,
                                Ok(()) | Err(RecvTimeoutError::Disconnected) => return peak,
                            }
                        }
                    })
                    .ok()
                    .map(|thread| Sampler { stop, thread })
            });
        Ok(MeasuredChild {
            child,
            started,
            sampler,
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's standard output, when it was piped and not taken yet.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// The child's standard error, when it was piped and not taken yet.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Waits for the child to exit, reaps it and returns how it went.
    pub fn wait(mut self) -> io::Result<ChildRun> {
        let status = self.child.wait();
        let elapsed = self.started.elapsed();
        // The child is reaped: its status file now fails to read, so the sampler's last good
        // sample is the child's own.
        let peak_rss_bytes = self.sampler.take().and_then(|sampler| {
            drop(sampler.stop);
            sampler.thread.join().ok().flatten()
        });
        Ok(ChildRun {
            status: status?,
            elapsed,
            peak_rss_bytes,
        })
    }
}

/// The `VmHWM` of an open `/proc/<pid>/status`, in bytes; `None` when the file cannot be read
/// (process reaped) or has no such line (zombie, kernel thread).
fn vm_hwm_bytes(status: &File) -> Option<u64> {
    let mut buffer = [0u8; 8192];
    let read = status.read_at(&mut buffer, 0).ok()?;
    let text = std::str::from_utf8(&buffer[..read]).ok()?;
    // Only complete lines: a line cut by the buffer's end is not trusted.
    let complete = &text[..text.rfind('\n')?];
    let line = complete.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let kib: u64 = fields.next()?.parse().ok()?;
    (fields.next() == Some("kB")).then_some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::Stdio;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_child_that_holds_200_mib_peaks_at_about_200_mib() {
        // bytearray(n) zero-fills its buffer, so all 200 MiB are resident. The child then holds
        // them for 0.3 s, about 60 sampling intervals, so the samples see the whole block however
        // slowly the sampling thread is scheduled; an interpreter adds about 10 MiB of its own.
        let mut command = Command::new("python3");
        command.args([
            "-c",
            "import time; b = bytearray(200 * 1024 * 1024); time.sleep(0.3)",
        ]);
        let run = MeasuredChild::spawn(&mut command)
            .expect("python3 starts")
            .wait()
            .expect("python3 reaped");
        assert!(run.status.success(), "{:?}", run.status);
        let peak = run.peak_rss_bytes.expect("a peak was sampled");
        assert!(
            (200 * MIB..400 * MIB).contains(&peak),
            "peak {} MiB, expected 200..400",
            peak / MIB
        );
    }

    #[test]
    fn the_exit_status_is_the_childs() {
        let run = MeasuredChild::spawn(Command::new("sh").args(["-c", "exit 3"]))
            .expect("sh starts")
            .wait()
            .expect("sh reaped");
        assert_eq!(run.status.code(), Some(3));
        assert!(!run.status.success());

        let run = MeasuredChild::spawn(Command::new("sh").args(["-c", "kill -9 $$"]))
            .expect("sh starts")
            .wait()
            .expect("sh reaped");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(run.status.signal(), Some(9));
    }

    #[test]
    fn a_program_that_does_not_exist_fails_to_start() {
        let error = MeasuredChild::spawn(&mut Command::new("/nonexistent/ocp-no-such-program"))
            .expect_err("nothing to start");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn piped_output_can_be_read_before_waiting() {
        let mut child = MeasuredChild::spawn(
            Command::new("sh")
                .args(["-c", "echo out; echo err >&2"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .expect("sh starts");
        let (mut out, mut err) = (String::new(), String::new());
        child
            .take_stdout()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        child
            .take_stderr()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(child.take_stdout().is_none());
        let run = child.wait().expect("sh reaped");
        assert!(run.status.success());
        assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    }

    #[test]
    fn elapsed_covers_the_childs_run() {
        let run = MeasuredChild::spawn(Command::new("sleep").arg("0.2"))
            .expect("sleep starts")
            .wait()
            .expect("sleep reaped");
        assert!(run.status.success());
        assert!(
            run.elapsed >= Duration::from_millis(200),
            "{:?}",
            run.elapsed
        );
    }
}

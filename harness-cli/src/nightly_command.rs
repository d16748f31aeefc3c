//! `ocp-harness nightly-report`: the last step of `just nightly`. Reads the night's folder
//! ([`ocp_harness::nightly::read`]), puts the night into the history (replacing a line of the
//! same date), judges it against the earlier nights ([`ocp_harness::nightly::judge`]) and writes
//! `night.json`, `index.md` and `index.html` into the night's folder.
//!
//! Exit codes: 0 the night passed; 1 it failed (each reason printed); 2 no night could be read or
//! the history could not be read or written (nothing written).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ocp_harness::nightly::judge::{judge, Judgement};
use ocp_harness::nightly::{history, page, read, Night};

#[derive(clap::Args)]
pub struct NightlyReportArgs {
    /// The night's folder, as `just nightly` writes it (reports/nightly/<UTC date>/).
    #[arg(long, value_name = "DIR")]
    night: PathBuf,

    /// The history of nights (JSON Lines, one night per date); created when missing.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "reports/nightly/history.jsonl"
    )]
    history: PathBuf,
}

/// Runs `nightly-report`; see the module's exit codes.
pub fn run(args: &NightlyReportArgs) -> ExitCode {
    match report(args) {
        Ok(judgement) => {
            let reasons = judgement.reasons();
            println!("nightly: {}", page::label(&judgement));
            for reason in &reasons {
                println!("  {reason}");
            }
            println!("written: {}", args.night.join("index.html").display());
            if reasons.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn report(args: &NightlyReportArgs) -> Result<Judgement, String> {
    let machine = ocp_harness::bench::machine_description();
    let night = read::read_night(&args.night, &machine)?;
    let nights = history::with_night(history::read(&args.history)?, night.clone());
    let judgement = judge(&night, &nights);
    // The trend shows the nights up to this one: a re-run of an old night ends its chart there.
    let upto: Vec<Night> = nights
        .iter()
        .filter(|n| n.date <= night.date)
        .cloned()
        .collect();
    write(
        &args.night.join("night.json"),
        &night_json(&night, &judgement)?,
    )?;
    write(
        &args.night.join("index.md"),
        &page::markdown(&night, &judgement),
    )?;
    write(
        &args.night.join("index.html"),
        &page::html(&night, &judgement, &upto),
    )?;
    history::write(&args.history, &nights)?;
    Ok(judgement)
}

/// `night.json`: the night's fields, then `passed` and the `judgement`.
fn night_json(night: &Night, judgement: &Judgement) -> Result<String, String> {
    let mut json = serde_json::to_value(night).map_err(|e| e.to_string())?;
    json["passed"] = judgement.passed().into();
    json["judgement"] = serde_json::to_value(judgement).map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&json)
        .map(|text| text + "\n")
        .map_err(|e| e.to_string())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(night: &Path, history: &Path) -> NightlyReportArgs {
        NightlyReportArgs {
            night: night.to_path_buf(),
            history: history.to_path_buf(),
        }
    }

    #[test]
    fn a_night_is_written_beside_its_files_and_into_the_history_once() {
        let dir = tempfile::tempdir().unwrap();
        let night = dir.path().join("2026-12-02");
        std::fs::create_dir_all(&night).unwrap();
        std::fs::write(
            night.join("steps.jsonl"),
            "{\"name\":\"build\",\"exit_code\":0,\"seconds\":1.5}\n",
        )
        .unwrap();
        let history = dir.path().join("history.jsonl");
        assert!(report(&args(&night, &history)).unwrap().passed());
        assert!(report(&args(&night, &history)).unwrap().passed());
        for file in ["night.json", "index.md", "index.html"] {
            assert!(night.join(file).is_file(), "{file}");
        }
        let text = std::fs::read_to_string(&history).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(night.join("night.json")).unwrap())
                .unwrap();
        assert_eq!(json["date"], "2026-12-02");
        assert_eq!(json["passed"], true);

        std::fs::write(
            night.join("steps.jsonl"),
            "{\"name\":\"property-oracle\",\"exit_code\":101,\"seconds\":1.5,\"cases\":2048}\n",
        )
        .unwrap();
        assert_eq!(
            report(&args(&night, &history)).unwrap().reasons(),
            ["step property-oracle failed (exit 101)"]
        );
        assert!(report(&args(&dir.path().join("nothing"), &history)).is_err());
    }
}

//! The history of nights: a JSON Lines file (`reports/nightly/history.jsonl`), one [`Night`]
//! per line, one line per date, oldest first. Written whole to a temporary file beside it and
//! renamed, so a reader never sees half a history.

use std::path::Path;

use super::{json_lines, Night};

/// The nights of the history at `path`, as written; no file is no nights. A line that is not a
/// night fails, naming the line: a history is not silently shortened.
pub fn read(path: &Path) -> Result<Vec<Night>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    json_lines(&text, path, "not a night: ")
}

/// `history` with `night` in it: replacing the night of the same date if there is one, sorted by
/// date (a stable sort, so nights already in order stay so).
pub fn with_night(mut history: Vec<Night>, night: Night) -> Vec<Night> {
    history.retain(|n| n.date != night.date);
    history.push(night);
    history.sort_by(|a, b| a.date.cmp(&b.date));
    history
}

/// Writes `nights` to `path`, one JSON line each (folders made as needed).
pub fn write(path: &Path, nights: &[Night]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut text = String::new();
    for night in nights {
        text.push_str(&serde_json::to_string(night).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    let temporary = path.with_extension("jsonl.new");
    std::fs::write(&temporary, text)
        .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(date: &str, commit: &str) -> Night {
        Night {
            date: date.to_string(),
            machine: Some("2 cores".into()),
            commit: Some(commit.to_string()),
            note: None,
            steps: Vec::new(),
            scales: Vec::new(),
            compares: Vec::new(),
            properties: Vec::new(),
            criterion: Vec::new(),
            mutation: None,
            unreadable: Vec::new(),
        }
    }

    fn commits(nights: &[Night]) -> Vec<(&str, &str)> {
        nights
            .iter()
            .map(|n| (n.date.as_str(), n.commit.as_deref().unwrap()))
            .collect()
    }

    #[test]
    fn a_night_replaces_the_line_of_its_date_and_the_history_stays_in_date_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nightly").join("history.jsonl");
        assert!(read(&path).unwrap().is_empty());
        let first = with_night(Vec::new(), night("2026-12-01", "a"));
        let second = with_night(first, night("2026-11-24", "b"));
        write(&path, &second).unwrap();
        let rerun = with_night(read(&path).unwrap(), night("2026-12-01", "c"));
        write(&path, &rerun).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(
            commits(&read(&path).unwrap()),
            [("2026-11-24", "b"), ("2026-12-01", "c")]
        );
        assert!(!path.with_extension("jsonl.new").exists());
    }

    #[test]
    fn a_line_that_is_not_a_night_fails_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let good = serde_json::to_string(&night("2026-11-24", "a")).unwrap();
        std::fs::write(&path, format!("{good}\n\n{{\"date\": 3}}\n")).unwrap();
        let error = read(&path).unwrap_err();
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn a_night_reads_back_as_written() {
        let mut n = night("2026-11-24", "a");
        n.note = Some("transcribed".into());
        let line = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Night>(&line).unwrap(), n);
        // A line with only the date (an older or hand-written history) reads too.
        let bare: Night = serde_json::from_str(r#"{"date": "2026-11-01"}"#).unwrap();
        assert!(bare.scales.is_empty() && bare.mutation.is_none());
    }
}

//! The JSON form (`report.json`), for CI and scripts: the [`CompareReport`] serialised as is,
//! pretty-printed. Top-level keys: `verdict` (`GO`, `REVIEW`, `NO-GO`), `rows_match`,
//! `identity`, `criteria` (each with its bars, measured value and verdict), `engine` and
//! `oracle` (seconds, peak MiB, phases), and `comparison` (every count, column statistic, kept
//! difference and unmatched row).

use super::document::CompareReport;

/// The whole report as pretty JSON.
pub fn render(report: &CompareReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report serialises to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::{sample_report, sample_report_with_differences, DATASET};

    #[test]
    fn the_json_carries_the_verdict_and_the_key_figures() {
        let json: serde_json::Value = serde_json::from_str(&render(&sample_report())).unwrap();
        let first_key = render(&sample_report())
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(first_key, "\"verdict\": \"GO\",");
        assert_eq!(json["rows_match"], true);
        assert_eq!(json["identity"]["dataset"], DATASET);
        assert_eq!(json["identity"]["started_at"], "2026-11-24T13:15:00Z");
        assert_eq!(json["criteria"][0]["name"], "engine time, end to end");
        assert_eq!(json["criteria"][0]["measured"], 0.25);
        assert_eq!(json["criteria"][0]["go_bar"], 60.0);
        assert_eq!(json["criteria"][0]["verdict"], "GO");
        assert_eq!(json["engine"]["phases"][0]["name"], "read");
        assert_eq!(json["engine"]["peak_mib"], 56.0);
        assert_eq!(json["oracle"]["seconds"], 1.5);
        assert_eq!(json["comparison"]["engine_rows"], 2);
        assert_eq!(json["comparison"]["oracle_rows"], 2);
    }

    #[test]
    fn a_no_go_report_keeps_its_unmatched_rows() {
        let json: serde_json::Value =
            serde_json::from_str(&render(&sample_report_with_differences())).unwrap();
        assert_eq!(json["verdict"], "NO-GO");
        assert_eq!(json["rows_match"], false);
        assert_eq!(
            json["comparison"]["only_in_engine"][0]["key"]["namespace"],
            "only-engine"
        );
        assert_eq!(json["criteria"][2]["verdict"], "REVIEW");
    }
}

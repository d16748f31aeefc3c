//! Fuzz target `labels`: `ocp_engine::labels::parse_labels`, koku's label JSON read as Trino's
//! `cast(json_parse(x) as map(varchar, varchar))` reads it (spec §6.1, §7.13).
//!
//! For every UTF-8 input text (other bytes are not text and are skipped):
//! - it never panics;
//! - it accepts the text exactly when the reference does (`ocp_engine_fuzz::labels_ref`, its
//!   own RFC 8259 scanner): one JSON document (R1) that is an object (R2) whose values are
//!   neither objects nor arrays (R3) nor `null` (R4);
//! - on an accepted text, its entries equal the reference's as a map, each key once (R5: the
//!   last value of a repeated key wins), strings decoded (R6), booleans `true`/`false` (R7),
//!   integers as their value's digits (R8), other numbers in Trino's double-to-varchar form (R9),
//!   `Infinity` beyond the doubles (R10).
//!
//! Where the engine is known to depart from these rules (findings L1, L2, L4, L5, L6 in
//! docs/testing.md "Fuzzing"), its known reading is accepted too, so that a run looks for new
//! departures; `OCP_FUZZ_STRICT=1` accepts only R1–R10 (the reproducers under
//! `fuzz/regressions/labels/` fail then, until the engine is fixed).

#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ocp_engine::labels::parse_labels;
use ocp_engine_fuzz::labels_ref::{expected, read, Expected};

/// `OCP_FUZZ_STRICT=1`: known findings fail too.
static STRICT: LazyLock<bool> =
    LazyLock::new(|| std::env::var("OCP_FUZZ_STRICT").is_ok_and(|v| v == "1"));

/// Whether the engine's answer is the expected one: both refuse, or both read the same entries
/// and the engine's list has each key once.
fn agrees(want: &Expected, got: &Result<Vec<(String, String)>, String>) -> bool {
    match (want, got) {
        (Expected::Refused(_), Err(_)) => true,
        (Expected::Accepted(map), Ok(entries)) => {
            let read: BTreeMap<String, String> = entries.iter().cloned().collect();
            read.len() == entries.len() && read == *map
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = parse_labels(text);
    let want = expected(text);
    if agrees(&want, &got) || (!*STRICT && agrees(&read(text, true), &got)) {
        return;
    }
    panic!("{text:?}:\n engine    {got:?}\n reference {want:?}");
});

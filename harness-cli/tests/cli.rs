//! The `ocp-harness` binary as a user meets it: what `--help` answers, and a clear error for a
//! bad `--out`. The work behind each command is tested in the library's suites
//! (harness/tests/); `just smoke` runs `generate` end to end.

use std::process::Command;

fn harness(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ocp-harness"))
        .args(args)
        .output()
        .expect("the ocp-harness binary runs")
}

fn stdout(args: &[&str]) -> String {
    let output = harness(args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

#[test]
fn help_names_the_commands() {
    let help = stdout(&["--help"]);
    for command in ["generate", "ingest-nise", "bench", "compare"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[test]
fn each_command_explains_its_choices() {
    let generate = stdout(&["generate", "--help"]);
    for scale in ["tiny", "typical", "large"] {
        assert!(
            generate.contains(scale),
            "generate --help lacks {scale}:\n{generate}"
        );
    }
    let bench = stdout(&["bench", "--help"]);
    assert!(
        bench.contains("--trino") && bench.contains("yardstick"),
        "{bench}"
    );
    let nise = stdout(&["ingest-nise", "--help"]);
    for words in ["5.4.4", "--enabled-keys", "--cluster-id", "engine.toml"] {
        assert!(
            nise.contains(words),
            "ingest-nise --help lacks {words:?}:\n{nise}"
        );
    }
    let compare = stdout(&["compare", "--help"]);
    for words in ["0 GO", "1 NO-GO", "4 REVIEW", "--oracle"] {
        assert!(
            compare.contains(words),
            "compare --help lacks {words:?}:\n{compare}"
        );
    }
}

#[test]
fn generate_into_a_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let output = harness(&[
        "generate",
        "--scale",
        "tiny",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exists and is not a folder") && stderr.contains("pick a folder"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "x",
        "the file is left alone"
    );
}

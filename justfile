# Tasks for ocp-engine. `just --list` shows them.

# Cargo's build cache lives outside the clone so fresh clones (and CI) reuse it.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/koku-ocp/target")

release := CARGO_TARGET_DIR + "/release"

default:
    @just --list

# Generate a synthetic cluster, summarise it on the embedded default (no server), print timings.
demo scale="typical":
    cargo build --release --locked -p ocp-engine -p ocp-harness
    {{release}}/ocp-harness generate --scale {{scale}} --out data/{{scale}} --overwrite
    {{release}}/ocp-engine aggregate --config data/{{scale}}/engine.toml --out data/{{scale}}/summary.parquet

# Every check CI runs: formatting, clippy, all tests (PostgreSQL is found or started by the tests).
test:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    cargo test --workspace --locked
    just smoke

# The two binaries end to end as an operator runs them: generate a tiny cluster, aggregate it to a file.
smoke:
    #!/usr/bin/env bash
    set -euo pipefail
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    cargo run --quiet --locked -p ocp-harness -- generate --scale tiny --out "$dir"
    cargo run --quiet --locked -p ocp-engine -- aggregate --config "$dir/engine.toml" --out "$dir/summary.csv" --quiet
    test -s "$dir/summary.csv"

# Time and peak memory of the release engine on a generated month, local Parquet to PostgreSQL,
# against a yardstick measured in the same run (see `ocp-harness bench --help`).
bench scale="typical" rounds="5":
    cargo build --release --locked -p ocp-engine -p ocp-harness
    {{release}}/ocp-harness bench --scale {{scale}} --rounds {{rounds}}

# Engine against the DuckDB oracle on a dataset (default: the generated typical cluster in
# data/typical), go/no-go report under reports/<timestamp>/; exit 0 GO, 1 NO-GO, 4 REVIEW.
compare *args:
    cargo build --release --locked -p ocp-harness -p ocp-engine
    {{release}}/ocp-harness compare {{args}}

# Print the DDL of the koku tables the engine reads and writes.
ddl schema:
    cargo run --quiet --locked -p ocp-engine -- ddl --schema {{schema}}

# Install the DuckDB CLI the embedded oracle runs (PyPI duckdb-cli==1.5.6) unless already cached.
oracle-setup:
    #!/usr/bin/env bash
    set -euo pipefail
    dir="$HOME/.cache/koku-ocp/duckdb-cli-1.5.6"
    if [ ! -x "$dir/duckdb_cli/duckdb" ]; then
        command -v python3 >/dev/null || { echo "python3 is needed: install Python 3 with pip, then run: python3 -m pip install --target $dir duckdb-cli==1.5.6" >&2; exit 1; }
        python3 -m pip install --target "$dir" duckdb-cli==1.5.6
    fi
    echo "DuckDB CLI: $dir/duckdb_cli/duckdb ($("$dir/duckdb_cli/duckdb" -version))"

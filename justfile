# Tasks for ocp-engine. `just --list` shows them.

# Cargo's build cache lives outside the clone so fresh clones (and CI) reuse it.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/koku-ocp/target")

release := CARGO_TARGET_DIR + "/release"

default:
    @just --list

# Generate a synthetic cluster, summarise it on the embedded default (no server), print timings.
demo scale="typical":
    cargo build --release --locked -p ocp-engine -p ocp-harness
    {{release}}/ocp-harness generate --scale {{scale}} --out data/{{scale}}
    {{release}}/ocp-engine aggregate --config data/{{scale}}/engine.toml --out data/{{scale}}/summary.parquet

# Every check CI runs: formatting, clippy, all tests (PostgreSQL is found or started by the tests).
test:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    cargo test --workspace --locked

# Time and memory of a typical month, local Parquet to PostgreSQL and to a file (see scripts/bench.sh).
bench scale="typical" runs="5":
    cargo build --release --locked -p ocp-engine -p ocp-harness
    bash scripts/bench.sh {{release}} {{scale}} {{runs}}

# Print the DDL of the koku tables the engine reads and writes.
ddl schema:
    cargo run --quiet --locked -p ocp-engine -- ddl --schema {{schema}}

# Tasks for ocp-engine. `just --list` shows them.

# Cargo's build cache lives outside the clone so fresh clones (and CI) reuse it.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/koku-ocp/target")

release := CARGO_TARGET_DIR + "/release"

default:
    @just --list

# Generate a synthetic cluster, summarise it on the embedded default (no server), print timings.
demo scale="typical":
    cargo build --release --locked -p ocp-engine -p ocp-harness-cli
    {{release}}/ocp-harness generate --scale {{scale}} --out data/{{scale}} --overwrite
    {{release}}/ocp-engine aggregate --config data/{{scale}}/engine.toml --out data/{{scale}}/summary.parquet

# Every check CI runs: installs what the tests need (PostgreSQL's server binaries, the DuckDB CLI,
# Trino), then formatting, clippy, all tests (they start PostgreSQL and Trino themselves), and the
# smoke run of the binaries the test build made.
test: setup
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    cargo test --workspace --locked
    just smoke
    just pytest

# The Python package koku's worker calls (python/): installs it into the test environment and
# runs its pytest suite on the debug binaries `cargo test` builds, against the tests' PostgreSQL.
pytest *ARGS: python-setup
    #!/usr/bin/env bash
    set -euo pipefail
    cargo test --workspace --locked --no-run --quiet
    venv=$(testkit/python/setup.sh | sed -n 's/^Python test environment: //p' | tail -1)
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    # Built from a copy, so that the checkout gets no build/ or egg-info folder.
    cp -r python "$build/"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation --force-reinstall "$build/python"
    # From the checkout's root, so that the tests import the installed package, not python/.
    OCP_TEST_BIN_DIR="{{CARGO_TARGET_DIR}}/debug" "$venv/bin/python" -m pytest -q \
        -p no:cacheprovider -c python/pyproject.toml --rootdir python {{ARGS}} python/tests

# What the tests need on a fresh machine; each step returns at once when it is already there.
setup: postgres-setup oracle-setup trino-setup nise-setup python-setup

# The two binaries end to end as an operator runs them: generate a tiny cluster, aggregate it to a
# file. Runs the debug binaries `cargo test` builds (the same features, so nothing is rebuilt).
smoke:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo test --workspace --locked --no-run --quiet
    bin="{{CARGO_TARGET_DIR}}/debug"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$bin/ocp-harness" generate --scale tiny --out "$dir"
    "$bin/ocp-engine" aggregate --config "$dir/engine.toml" --out "$dir/summary.csv" --quiet
    test -s "$dir/summary.csv"

# pytest (pinned in testkit/python/setup.sh) in a venv under ~/.cache/koku-ocp/, once.
python-setup:
    testkit/python/setup.sh

# PostgreSQL's server binaries (initdb, pg_ctl, postgres), which the tests' throwaway cluster runs:
# installs Debian's `postgresql` package when they are missing. Starts nothing.
postgres-setup:
    #!/usr/bin/env bash
    set -euo pipefail
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -n "$found" ] && [ -x "$found/initdb" ] || command -v initdb >/dev/null; then
        echo "PostgreSQL server binaries: ${found:-$(dirname "$(command -v initdb)")}"
        exit 0
    fi
    command -v apt-get >/dev/null || { echo "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are missing and there is no apt-get: install them with your system's package manager" >&2; exit 1; }
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "PostgreSQL server binaries missing: installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends postgresql \
        || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends postgresql; }
    ls -d /usr/lib/postgresql/*/bin

# The Trino server the tests run (version pinned in testkit/trino/pom.xml), fetched with Maven into
# ~/.cache/koku-ocp/ once; later runs reuse it.
trino-setup:
    testkit/trino/setup.sh

# harness/tests/nise.rs runs it on fixtures/nise/; the pin is in testkit/nise/setup.sh.
# Install nise, koku's test-data generator (PyPI koku-nise==5.4.4), in a venv under ~/.cache/koku-ocp/ once.
nise-setup:
    testkit/nise/setup.sh

# `just bench [scale] [rounds] [flags]` runs, each round on the same generated month, the engine
# to PostgreSQL and to a Parquet file, the DuckDB CLI on the reference query, the decode
# yardstick and PostgreSQL's own COPY FROM of the rows (`ocp-harness bench --help`). Flags go to
# `ocp-harness bench`: `--trino` adds the local Trino (installed here first), `--postgres-source`
# the engine reading koku's on-prem tables, `--no-duckdb` leaves DuckDB out, `--nodes/--pods/--days
# N` resize the scale (tiny, typical, large, xl). Figures in docs/performance.md.
# Time and peak memory of the release engine on a generated month, side by side with DuckDB.
bench scale="typical" rounds="5" *flags: oracle-setup
    #!/usr/bin/env bash
    set -euo pipefail
    case " {{flags}} " in *" --trino "*) just trino-setup ;; esac
    cargo build --release --locked -p ocp-engine -p ocp-harness-cli
    {{release}}/ocp-harness bench --scale {{scale}} --rounds {{rounds}} {{flags}}

# Labels, capacity fold, grouping, rounding and COPY encoding, each alone; estimates land under
# $CARGO_TARGET_DIR/criterion/ (docs/performance.md "Kernel benches (criterion)"). Arguments go to
# cargo: `just bench-kernels -- grouping` runs one group.
# Criterion benches of the engine's hot kernels on the generated typical month.
bench-kernels *args:
    cargo bench -p ocp-harness --bench kernels {{args}}

# Mutation testing of the engine's computing modules, with the tests .cargo/mutants.toml names:
# `just mutants` mutates them all (hours on two cores: docs/testing.md), `just mutants --in-diff
# FILE.diff` only the lines a change touched among them (`git diff main > FILE.diff`), `just
# mutants -f engine/src/like.rs` one module. Outcome in reports/mutants/mutants.out/
# (outcomes.json, caught.txt, missed.txt, timeout.txt, unviable.txt). It mutates the committed
# HEAD in a checkout of its own under ~/.cache/koku-ocp/mutants/, with that checkout's own target
# folder (never this one's: test binaries bake in their checkout's paths); the first run builds
# it from nothing, later ones only what changed.
mutants *args:
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants --version 27.1.0
    # The computing modules: what states koku's rules. Not the CLI, config, resolve, run, memory,
    # catalog, postgres (SQL run against a real server) or source/ (tested by the read suites).
    files=()
    case " {{args}} " in
        *" -f "*|*" --file "*|*" --file="*) ;;
        *) for m in pod storage unallocated capacity labels label_joins units numeric like \
                    node_roles window inputs 'sink/*'; do files+=(-f "engine/src/$m.rs"); done ;;
    esac
    # Mutated in place in a checkout of its own (the committed HEAD) with a target directory of
    # its own, both kept between runs: a later run rebuilds only what changed since.
    work="$HOME/.cache/koku-ocp/mutants"
    [ -d "$work/checkout/.git" ] || git clone --quiet . "$work/checkout"
    git -C "$work/checkout" fetch --quiet "$PWD" HEAD
    git -C "$work/checkout" reset --quiet --hard FETCH_HEAD
    export CARGO_TARGET_DIR="$work/target"
    if [[ " {{args}} " != *" --list"* ]]; then
        # The baseline: the unmutated tree must pass the tests that judge the mutants. Run here
        # because cargo-mutants' own baseline tests the mutated package (ocp-engine), not the
        # test_package the config names, and ocp-engine has none of those test targets.
        tests=$(python3 -c 'import tomllib; c = tomllib.load(open(".cargo/mutants.toml", "rb")); print(" ".join(["--package " + p for p in c["test_package"]] + c["additional_cargo_test_args"]))')
        (cd "$work/checkout" && INSTA_UPDATE=no cargo test --quiet $tests)
    fi
    # A mutant that loops forever must not stall a two-core machine: 120 s, five times the
    # suites' unmutated time (about 23 s here), cargo-mutants' own factor over its baseline.
    cargo mutants --in-place --dir "$work/checkout" --baseline skip --timeout 120 \
        --output reports/mutants "${files[@]}" {{args}}
    [[ " {{args}} " == *" --list"* ]] && exit 0
    python3 -c 'import json; o = json.load(open("reports/mutants/mutants.out/outcomes.json")); n = {k: o.get(k, 0) for k in ("caught", "missed", "timeout", "unviable")}; viable = n["caught"] + n["missed"] + n["timeout"]; print("mutants: caught %(caught)d, missed %(missed)d, timeout %(timeout)d, unviable %(unviable)d" % n); print("score: %.1f %% of %d viable mutants caught (timeouts count as caught)" % (100 * (n["caught"] + n["timeout"]) / max(viable, 1), viable))'

# Engine against the DuckDB oracle on a dataset (default: the generated typical cluster in
# data/typical), go/no-go report under reports/<timestamp>/; exit 0 GO, 1 NO-GO, 4 REVIEW.
compare *args:
    cargo build --release --locked -p ocp-harness-cli -p ocp-engine
    {{release}}/ocp-harness compare {{args}}

# Benches (tiny, typical, large; `--xl` adds xl), compares with DuckDB on typical and large, the
# property suites at 8x their budget, nise's random mode through ingest-nise and compare,
# criterion's kernels when that bench exists, the mutation score when reports/mutants holds one.
# Every step runs, whatever the earlier ones did; each one's exit status, seconds and log go to
# reports/nightly/<UTC date>/ (steps.jsonl, logs/), then `ocp-harness nightly-report` writes
# night.json, index.md and index.html there, adds the night to reports/nightly/history.jsonl, and
# exits non-zero on a correctness failure or a ratio over 15 % worse than the last nights' median.
# The nightly benchmark and correctness report under reports/nightly/<UTC date>/ (docs/testing.md).
nightly *args: oracle-setup nise-setup
    #!/usr/bin/env bash
    set -uo pipefail
    scales="tiny typical large"
    for arg in {{args}}; do
        case "$arg" in
            --xl|xl) scales="$scales xl" ;;
            *) echo "nightly: unknown argument $arg (only --xl)" >&2; exit 2 ;;
        esac
    done
    # Budgets: 8× the everyday ones (oracle_property's 256 cases, metamorphic's own counts).
    property_cases=${OCP_NIGHTLY_PROPERTY_CASES:-2048}
    metamorphic_factor=${OCP_NIGHTLY_METAMORPHIC_FACTOR:-8}
    nise_start=${OCP_NIGHTLY_NISE_START:-2024-05-01}
    nise_end=${OCP_NIGHTLY_NISE_END:-2024-06-01}
    date=$(date -u +%F)
    night="reports/nightly/$date"
    rm -rf "$night"
    mkdir -p "$night/logs"
    bin="{{release}}"
    printf '{"date":"%s","started_at":"%s","commit":"%s","scales":"%s"}\n' "$date" \
        "$(date -u +%FT%TZ)" "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
        "$scales" > "$night/run.json"
    # step NAME [KEY=VALUE...] -- COMMAND...: runs COMMAND with its output in logs/NAME.log and
    # appends {"name", "exit_code", "seconds", KEY: VALUE...} to steps.jsonl (numbers unquoted).
    step() {
        local name=$1 extra="" start ms code
        shift
        while [ "$1" != "--" ]; do extra="$extra,\"${1%%=*}\":${1#*=}"; shift; done
        shift
        echo "nightly: $name ..."
        start=$(date +%s%N)
        "$@" > "$night/logs/$name.log" 2>&1
        code=$?
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        printf '{"name":"%s","exit_code":%d,"seconds":%d.%03d%s}\n' "$name" "$code" \
            $((ms / 1000)) $((ms % 1000)) "$extra" >> "$night/steps.jsonl"
        echo "nightly: $name exit $code"
        return 0
    }
    # skip NAME REASON: a step that could not run here, recorded as skipped.
    skip() {
        printf '{"name":"%s","skipped":true,"detail":"%s"}\n' "$1" "$2" >> "$night/steps.jsonl"
        echo "nightly: $1 skipped: $2"
    }
    step build -- cargo build --release --locked -p ocp-engine -p ocp-harness-cli
    for scale in $scales; do
        step "bench-$scale" -- "$bin/ocp-harness" bench --scale "$scale" --json "$night/bench-$scale.json"
    done
    for scale in typical large; do
        [[ " $scales " == *" $scale "* ]] || continue
        step "compare-$scale" -- "$bin/ocp-harness" compare --quiet \
            --config "data/bench-$scale/engine.toml" --out-dir "$night/compare-$scale"
    done
    step property-oracle "cases=$property_cases" -- env OCP_PROPERTY_CASES="$property_cases" \
        cargo test --locked -p ocp-harness --test oracle_property -- --nocapture
    step property-metamorphic "factor=$metamorphic_factor" -- \
        env OCP_METAMORPHIC_FACTOR="$metamorphic_factor" \
        cargo test --locked -p ocp-harness --test metamorphic
    # nise's random mode: a month of CSVs that differ every night (kept under data/, not here).
    nise="${OCP_CACHE:-$HOME/.cache/koku-ocp}/nise-5.4.4/bin/nise"
    nise_dir="data/nightly-nise"
    rm -rf "$nise_dir" && mkdir -p "$nise_dir/csv"
    step nise-random -- bash -c "cd '$nise_dir/csv' && '$nise' report ocp -s $nise_start \
        -e $nise_end --ocp-cluster-id nightly -w"
    step nise-ingest -- "$bin/ocp-harness" ingest-nise --csv "$nise_dir/csv" --out "$nise_dir/bucket"
    step compare-nise -- "$bin/ocp-harness" compare --quiet \
        --config "$nise_dir/bucket/engine.toml" --out-dir "$night/compare-nise"
    # criterion's kernels, when the bench target exists; only tonight's estimates are kept.
    if cargo metadata --locked --no-deps --format-version 1 | python3 -c 'import json, sys; m = json.load(sys.stdin); sys.exit(not any(t["name"] == "kernels" and "bench" in t["kind"] for p in m["packages"] if p["name"] == "ocp-harness" for t in p["targets"]))'; then
        marker="$night/logs/criterion.start"
        touch "$marker"
        step criterion -- cargo bench --locked -p ocp-harness --bench kernels
        criterion="{{CARGO_TARGET_DIR}}/criterion"
        find "$criterion" -path '*/new/estimates.json' -newer "$marker" 2>/dev/null | while read -r file; do
            rel=${file#"$criterion/"}
            mkdir -p "$night/criterion/${rel%/new/estimates.json}"
            cp "$file" "$night/criterion/${rel%/new/estimates.json}/estimates.json"
        done
    else
        skip criterion "no bench target kernels in ocp-harness yet"
    fi
    mutants=reports/mutants/mutants.out/outcomes.json
    if [ -f "$mutants" ]; then
        cp "$mutants" "$night/mutants.json"
    else
        skip mutants "no $mutants: run just mutants"
    fi
    "$bin/ocp-harness" nightly-report --night "$night" --history reports/nightly/history.jsonl

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

# One target after another on one core, a nightly job (not part of `just test`). Needs the nightly
# toolchain; installs the pinned cargo-fuzz when missing. The build, the growing corpora, crash
# files and libFuzzer's logs stay under ~/.cache/koku-ocp/ (docs/testing.md "Fuzzing").
# Fuzz the label JSON parser, LIKE and numeric(33,15) rounding against the spec's references (fuzz/).
fuzz target="all" seconds="1800":
    #!/usr/bin/env bash
    set -euo pipefail
    version=0.13.1
    if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $version" ]]; then
        # Built in a temporary folder, not in the workspace's target folder exported above.
        env -u CARGO_TARGET_DIR cargo install --locked "cargo-fuzz@$version"
    fi
    cache="$HOME/.cache/koku-ocp"
    export CARGO_TARGET_DIR="$cache/fuzz-target"
    fuzz_dir="$PWD/fuzz"
    targets="{{target}}"
    [ "$targets" = all ] && targets="labels like numeric"
    for t in $targets; do
        corpus="$cache/fuzz-corpus/$t" work="$cache/fuzz-work/$t"
        mkdir -p "$corpus" "$work"
        dict=()
        [ -f "$fuzz_dir/dicts/$t.dict" ] && dict=("-dict=$fuzz_dir/dicts/$t.dict")
        echo "fuzzing $t for {{seconds}} s; corpus $corpus, crashes and fuzz-0.log in $work"
        # From $work: with -jobs, libFuzzer writes its log (fuzz-0.log) to the working folder.
        (cd "$work" && cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" --target-dir "$CARGO_TARGET_DIR" \
            "$t" "$corpus" "$fuzz_dir/seeds/$t" -- \
            -max_total_time={{seconds}} -jobs=1 -workers=1 -print_final_stats=1 \
            -artifact_prefix="$work/" "${dict[@]}")
    done

#!/usr/bin/env bash
# Installs nise, koku's test-data generator (PyPI koku-nise), at the version the harness pins,
# into a virtual environment (`just nise-setup`), once: later runs see it installed and return at
# once. harness/tests/nise.rs runs `$dest/bin/nise` and never installs it itself.
#
# Into: ${OCP_CACHE:-~/.cache/koku-ocp}/nise-<version>/ (a venv, about 60 MB), made by
# testkit/pinned-venv.sh. Needs: python3 (3.11 or newer, as nise asks) with the venv module, and
# PyPI.
set -euo pipefail
source "$(dirname "$0")/../pinned-venv.sh"

version=5.4.4
cache=${OCP_CACHE:-$HOME/.cache/koku-ocp}
dest="$cache/nise-$version"

ensure_venv "nise $version" "$dest" 3.11 nise "koku-nise==$version"
got=$("$dest/bin/nise" --version)
[ "$got" = "nise $version" ] || { echo "nise-setup: installed nise says \"$got\", expected \"nise $version\"" >&2; exit 1; }

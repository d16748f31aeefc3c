#!/usr/bin/env bash
# Installs nise, koku's test-data generator (PyPI koku-nise), at the version the harness pins,
# into a virtual environment (`just nise-setup`), once: later runs see it installed and return at
# once. harness/tests/nise.rs runs `$dest/bin/nise` and never installs it itself.
#
# Into: ${OCP_CACHE:-~/.cache/koku-ocp}/nise-<version>/ (a venv, about 60 MB), finished by a
# `.installed` marker holding the version, so an interrupted run starts over. Needs: python3
# (3.11 or newer, as nise asks) with the venv module, and PyPI.
set -euo pipefail

version=5.4.4
cache=${OCP_CACHE:-$HOME/.cache/koku-ocp}
dest="$cache/nise-$version"

if [ "$(cat "$dest/.installed" 2>/dev/null)" = "$version" ] && [ -x "$dest/bin/nise" ]; then
    echo "nise $version: already installed in $dest"
    exit 0
fi
command -v python3 >/dev/null || {
    echo "nise-setup: python3 (3.11 or newer, with venv and pip) is needed to install koku-nise==$version" >&2
    exit 1
}
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "nise-setup: nise $version needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)" >&2
    exit 1
}

rm -rf "$dest"
mkdir -p "$cache"
echo "nise $version: installing koku-nise==$version into $dest ..."
start=$SECONDS
python3 -m venv "$dest"
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check "koku-nise==$version"
got=$("$dest/bin/nise" --version)
[ "$got" = "nise $version" ] || { echo "nise-setup: installed nise says \"$got\", expected \"nise $version\"" >&2; exit 1; }
echo "$version" > "$dest/.installed"
echo "nise $version: installed in $((SECONDS - start)) s ($dest/bin/nise)"

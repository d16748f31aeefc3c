#!/usr/bin/env bash
# The Python the package's tests run on (`just python-setup`): a virtual environment with pytest
# and setuptools at pinned versions, made once; later runs see it and return at once.
# `just pytest` installs the package (python/) into it and runs python/tests.
#
# Into: ${OCP_CACHE:-~/.cache/koku-ocp}/python-tests-<pins>/ (about 20 MB), finished by a
# `.installed` marker holding the pins, so an interrupted run starts over. Needs: python3 (3.9
# or newer) with the venv module, and PyPI.
set -euo pipefail

pins="pytest==8.3.4 setuptools==75.6.0"
cache=${OCP_CACHE:-$HOME/.cache/koku-ocp}
dest="$cache/python-tests-$(echo "$pins" | sed 's/==/-/g; s/ /_/g')"

if [ "$(cat "$dest/.installed" 2>/dev/null)" = "$pins" ] && [ -x "$dest/bin/pytest" ]; then
    echo "Python test environment: $dest"
    exit 0
fi
command -v python3 >/dev/null || {
    echo "python-setup: python3 (3.9 or newer, with venv and pip) is needed for the Python package's tests" >&2
    exit 1
}
rm -rf "$dest"
mkdir -p "$cache"
echo "Python test environment: installing $pins into $dest ..."
python3 -m venv "$dest"
# shellcheck disable=SC2086 # the pins are separate words
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check $pins
echo "$pins" > "$dest/.installed"
echo "Python test environment: $dest"

#!/usr/bin/env bash
# The Python the package's tests run on (`just python-setup`): a virtual environment with pytest
# and setuptools at pinned versions, made once; later runs see it and return at once.
# `just pytest` installs the package (python/) into it and runs python/tests; it reads the
# environment's folder from the last line printed here.
#
# Into: ${OCP_CACHE:-~/.cache/koku-ocp}/python-tests-<pins>/ (about 20 MB). Needs: python3 3.11
# or newer (the tests read TOML with tomllib) with the venv module, and PyPI.
set -euo pipefail
source "$(dirname "$0")/../pinned-venv.sh"

pins=(pytest==8.3.4 setuptools==75.6.0)
cache=${OCP_CACHE:-$HOME/.cache/koku-ocp}
dest="$cache/python-tests-$(echo "${pins[*]}" | sed 's/==/-/g; s/ /_/g')"

ensure_venv "Python test environment" "$dest" 3.11 pytest "${pins[@]}"
echo "Python test environment: $dest"

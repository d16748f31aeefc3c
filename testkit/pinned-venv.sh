# Sourced by the setup scripts under testkit/ (nise, the Python package's tests): a virtual
# environment holding pinned PyPI packages, made once.
#
# ensure_venv LABEL DEST MIN_PYTHON EXECUTABLE PIN...
#   Returns at once when DEST's `.installed` marker holds the PINs and DEST/bin/EXECUTABLE exists.
#   Otherwise needs python3 MIN_PYTHON (e.g. 3.11) or newer with venv and pip, and PyPI: it
#   (re)creates DEST, installs the PINs, and writes the marker last, so an interrupted run starts
#   over. LABEL begins every line it prints.
ensure_venv() {
    local label=$1 dest=$2 min=$3 exe=$4
    shift 4
    local pins="$*"
    if [ "$(cat "$dest/.installed" 2>/dev/null)" = "$pins" ] && [ -x "$dest/bin/$exe" ]; then
        echo "$label: already installed in $dest"
        return 0
    fi
    command -v python3 >/dev/null || {
        echo "$label: python3 ($min or newer, with venv and pip) is needed to install $pins" >&2
        return 1
    }
    python3 -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$min'.split('.'))))" || {
        echo "$label: $pins needs Python $min or newer; python3 is $(python3 --version 2>&1)" >&2
        return 1
    }
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    echo "$label: installing $pins into $dest ..."
    local start=$SECONDS
    python3 -m venv "$dest"
    "$dest/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    echo "$pins" > "$dest/.installed"
    echo "$label: installed in $((SECONDS - start)) s"
}

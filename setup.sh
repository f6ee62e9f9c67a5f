#!/bin/sh
# Installs everything autograd-lite needs: Graphviz's `dot` (through apt-get or Homebrew when it
# is missing) and a virtual environment .venv with the package and its test tools.
# Safe to run again: it skips what is already there.
set -eu
cd "$(dirname "$0")"

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "setup.sh: autograd-lite needs Python >= 3.10; python3 is $(python3 --version 2>&1)" >&2
    exit 1
}

missing=""
command -v dot >/dev/null 2>&1 || missing="graphviz"
# Debian and Ubuntu ship venv's pip bootstrap separately, in python3-venv.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"
if [ -n "$missing" ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "setup.sh: installing$missing with apt-get" >&2
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    elif command -v brew >/dev/null 2>&1; then
        echo "setup.sh: installing graphviz with Homebrew" >&2
        brew install graphviz
    else
        echo "setup.sh: please install$missing with your package manager, then run me again" >&2
        exit 1
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# Reinstall only when the project's metadata changed since the last install.
stamp=".venv/.autograd-lite-installed"
want=$(cat pyproject.toml | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup.sh: installing autograd-lite and its dev tools into .venv" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
fi

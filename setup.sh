#!/bin/sh
# Installs everything autograd-lite needs: Graphviz's `dot` (through apt-get or Homebrew when it
# is missing), Chromium and its chromedriver for the browser test (through apt-get: Debian's
# chromium and chromium-driver) and a virtual environment .venv with the package and its test
# tools.
# Safe to run again: it skips what is already there.
set -eu
cd "$(dirname "$0")"

say() { echo "setup.sh: $*" >&2; }

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    say "autograd-lite needs Python >= 3.10; python3 is $(python3 --version 2>&1)"
    exit 1
}

system_install() {  # system_install APT-PACKAGES... ; Homebrew gets graphviz only
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        say "installing $* with apt-get"
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    elif command -v brew >/dev/null 2>&1; then
        say "installing graphviz with Homebrew"
        brew install graphviz
    else
        say "please install $* with your system's package manager, then run me again"
        exit 1
    fi
}

command -v dot >/dev/null 2>&1 || system_install graphviz

# tests/test_browser.py drives a headless Chromium through Selenium and the system's
# chromedriver; nothing is downloaded but these packages. Without them (no apt-get, or another
# distribution's names) only that test is skipped, except in CI, where it fails.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        system_install chromium chromium-driver ||
            say "could not install chromium and chromium-driver; the browser test will be skipped"
    else
        say "for the browser test, install Chromium and chromedriver (on PATH as chromium and"
        say "chromedriver); without them it is skipped"
    fi
fi

if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv >/dev/null 2>&1; then
        # Debian and Ubuntu ship venv's pip bootstrap separately (python3-venv).
        rm -rf .venv
        v=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        system_install python3-venv "python$v-venv"
        python3 -m venv .venv
    fi
fi

# Install (again) only when the project's metadata changed since the last install.
stamp=".venv/.autograd-lite-installed"
want=$(cksum < pyproject.toml)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing autograd-lite and its test tools into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
fi

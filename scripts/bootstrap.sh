#!/usr/bin/env bash
# Prepare a fresh Debian / Raspberry Pi OS machine: apt packages, then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(mosquitto libzbar0 python3-venv)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The reference platform's PostgreSQL store is tested against a real server the tests start.
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    missing+=(postgresql)
fi
if ((${#missing[@]})); then
    echo "bootstrap: installing apt packages: ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo -n); fi
    "${SUDO[@]}" apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    # System site packages give access to picamera2 from apt on a Raspberry Pi.
    "$PYTHON" -m venv --system-site-packages .venv
fi
stamp=.venv/.bootstrap-stamp
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev,central]'
    touch "$stamp"
fi

#!/usr/bin/env bash
# Prepare a fresh Debian / Raspberry Pi OS machine: apt packages, then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(mosquitto libzbar0 python3-venv)
# The fleet page is tested in a real headless browser.
APT_PACKAGES+=(chromium chromium-driver)
# The release checks: shell scripts through shellcheck, units through systemd-analyze verify.
APT_PACKAGES+=(shellcheck systemd)
# The visitor screen's browser test and voice: Chromium and its driver, the Mongolian and CJK fonts, espeak-ng.
APT_PACKAGES+=(chromium chromium-driver fonts-noto-core fonts-noto-cjk espeak-ng)
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

# Board firmware tooling: MicroPython's own typeshed for the Pico (kept apart from the service's
# type checking) and MicroPython's WebAssembly port, on which the firmware's tests run under Node.js.
if [[ ! -f .firmware-stubs/machine.pyi ]]; then
    mapfile -t stubs < <(.venv/bin/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['firmware'], sep='\n')")
    .venv/bin/python -m pip install -q --target .firmware-stubs "${stubs[@]}"
fi
if ! command -v npm >/dev/null; then
    echo "bootstrap: installing apt packages: nodejs npm"
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo -n); fi
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends nodejs npm
fi
MICROPYTHON_WASM=@micropython/micropython-webassembly-pyscript@1.27.0
if [[ ! -f .firmware-node/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]]; then
    npm install --prefix .firmware-node --no-save --no-audit --no-fund --silent "$MICROPYTHON_WASM"
fi

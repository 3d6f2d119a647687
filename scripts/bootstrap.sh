#!/usr/bin/env bash
# Prepare a fresh Debian / Raspberry Pi OS machine: apt packages, then .venv with the project.
#
#   scripts/bootstrap.sh demo   only what `make demo` uses: broker, zbar, the service and the
#                               reference platform in .venv
#   scripts/bootstrap.sh test   the demo's part plus every test and check tool (the default)
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-test}
case "$MODE" in
    demo | test) ;;
    *) echo "usage: scripts/bootstrap.sh [demo|test]" >&2; exit 2 ;;
esac

# apt packages. Append to the list of the part that needs them.
DEMO_APT=(mosquitto libzbar0 python3-venv)
TEST_APT=()
# The fleet page and the visitor screen are tested in a real headless browser; the screen's
# Mongolian and Chinese need their fonts, its voice espeak-ng.
TEST_APT+=(chromium chromium-driver fonts-noto-core fonts-noto-cjk espeak-ng)
# The release checks: shell scripts through shellcheck, units through systemd-analyze verify.
TEST_APT+=(shellcheck systemd)
# npm fetches MicroPython's WebAssembly port, on which the firmware tests run.
command -v npm >/dev/null || TEST_APT+=(nodejs npm)
# The reference platform's PostgreSQL store is tested against a server the tests start (initdb).
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    TEST_APT+=(postgresql)
fi

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if ! sudo -n true 2>/dev/null; then
            echo "bootstrap: apt packages missing: ${missing[*]}" >&2
            echo "bootstrap: installing them needs root; run this once, then make $MODE again:" >&2
            echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 1
        fi
        sudo=(sudo -n)
    fi
    echo "bootstrap: installing apt packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq || true
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [[ $MODE == demo ]]; then
    apt_install "${DEMO_APT[@]}"
else
    apt_install "${DEMO_APT[@]}" "${TEST_APT[@]}"
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    # System site packages give access to picamera2 from apt on a Raspberry Pi.
    "$PYTHON" -m venv --system-site-packages .venv
fi
# The demo needs the service and the reference platform; the tests add their tools.
if [[ $MODE == demo ]]; then EXTRAS='.[central]'; else EXTRAS='.[dev,central]'; fi
stamp=.venv/.bootstrap-$MODE
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e "$EXTRAS"
    touch "$stamp"
    [[ $MODE == test ]] && touch .venv/.bootstrap-demo
fi
[[ $MODE == demo ]] && exit 0

# Board firmware tooling: MicroPython's own typeshed for the Pico (kept apart from the service's
# type checking) and MicroPython's WebAssembly port, on which the firmware's tests run under Node.js.
if [[ ! -f .firmware-stubs/machine.pyi ]]; then
    mapfile -t stubs < <(.venv/bin/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['firmware'], sep='\n')")
    .venv/bin/python -m pip install -q --target .firmware-stubs "${stubs[@]}"
fi
MICROPYTHON_WASM=@micropython/micropython-webassembly-pyscript@1.27.0
if [[ ! -f .firmware-node/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs ]]; then
    npm install --prefix .firmware-node --no-save --no-audit --no-fund --silent "$MICROPYTHON_WASM"
fi

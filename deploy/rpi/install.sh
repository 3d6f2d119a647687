#!/usr/bin/env bash
# Install or upgrade gate-edge on Raspberry Pi OS (Bookworm). Idempotent: safe to run again;
# an existing /etc/gate-edge/gate-edge.toml is never overwritten. The service is enabled only
# once the configuration passes `gate-edge config check` as the service user.
set -euo pipefail

usage() {
    cat <<'USAGE'
Install or upgrade gate-edge on Raspberry Pi OS (Bookworm); safe to run again.

usage: sudo deploy/rpi/install.sh [--source DIR] [--no-apt] [--wheelhouse DIR] [--no-enable]
                                  [--dry-run]

  --source DIR      project checkout or unpacked sdist to install (default: this repository)
  --no-apt          offline re-install: no apt, and Python packages only from the wheelhouse
  --wheelhouse DIR  wheels of gate-edge and every dependency for this board's architecture and
                    Python (default with --no-apt: wheelhouse/ in the source); make one on a
                    connected machine of the same kind: python3 -m pip wheel -w wheelhouse DIR
  --no-enable       do not enable the service at boot
  --dry-run         print what would be done, change nothing
  -h, --help        this text

The service is enabled (not started) only when the configuration passes `gate-edge config
check` as the service user; otherwise the script says what to edit and how to enable it.
USAGE
}

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SOURCE=$(cd -- "$SCRIPT_DIR/../.." && pwd)
PREFIX=/opt/gate-edge
VENV=$PREFIX/venv
CONFIG_DIR=/etc/gate-edge
STATE_DIR=/var/lib/gate-edge
SERVICE_USER=gate-edge
GROUPS_NEEDED=(gpio i2c video dialout)
APT_PACKAGES=(python3 python3-venv python3-pip python3-dev build-essential libzbar0 i2c-tools)
APT_OPTIONAL=(python3-picamera2)  # CSI cameras; seen by the venv via --system-site-packages
DO_APT=1
DO_ENABLE=1
DRY_RUN=0
WHEELHOUSE=

while [[ $# -gt 0 ]]; do
    case "$1" in
        --source) SOURCE=$(cd -- "$2" && pwd); shift 2 ;;
        --no-apt) DO_APT=0; shift ;;
        --wheelhouse) WHEELHOUSE=$(cd -- "$2" && pwd); shift 2 ;;
        --no-enable) DO_ENABLE=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

run() {
    if [[ $DRY_RUN -eq 1 ]]; then
        echo "+ $*"
    else
        "$@"
    fi
}

say() { echo "==> $*"; }

if [[ $DRY_RUN -eq 0 && $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root (sudo), or use --dry-run" >&2
    exit 1
fi
if [[ ! -f $SOURCE/pyproject.toml ]]; then
    echo "install.sh: $SOURCE is not a gate-edge source tree" >&2
    exit 1
fi
if [[ $DO_APT -eq 0 && -z $WHEELHOUSE && -d $SOURCE/wheelhouse ]]; then
    WHEELHOUSE=$SOURCE/wheelhouse
fi
if [[ $DO_APT -eq 0 ]] && ! compgen -G "${WHEELHOUSE:-/nonexistent}/gate_edge-*.whl" >/dev/null; then
    echo "install.sh: an offline install (--no-apt) needs a wheelhouse with gate-edge and its" >&2
    echo "  dependencies (--wheelhouse DIR, or wheelhouse/ in the source); make one on a connected" >&2
    echo "  machine of the same architecture and Python: python3 -m pip wheel -w wheelhouse DIR" >&2
    exit 1
fi

if [[ $DO_APT -eq 1 ]]; then
    say "apt packages"
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${APT_PACKAGES[@]}"
    for pkg in "${APT_OPTIONAL[@]}"; do
        if apt-cache show "$pkg" >/dev/null 2>&1; then
            run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"
        else
            say "optional package $pkg not available: skipped"
        fi
    done
fi

say "service user and groups"
for group in "${GROUPS_NEEDED[@]}"; do
    getent group "$group" >/dev/null || run groupadd --system "$group"
done
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "gate-edge service" "$SERVICE_USER"
fi
run usermod --append --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" "$SERVICE_USER"

say "virtual environment in $VENV"
run install -d -m 0755 "$PREFIX"
if [[ ! -x $VENV/bin/python ]]; then
    run python3 -m venv --system-site-packages "$VENV"
fi
if [[ -n $WHEELHOUSE ]]; then
    # Offline: nothing from the network, everything from the wheelhouse.
    run "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$WHEELHOUSE" \
        --upgrade gate-edge
else
    # Build from a copy, so the checkout gets no build/ or egg-info directories.
    if [[ $DRY_RUN -eq 1 ]]; then
        BUILD_COPY="(a temporary copy of $SOURCE)"
    else
        BUILD_COPY=$(mktemp -d)
        trap 'rm -rf "$BUILD_COPY"' EXIT
        tar -C "$SOURCE" --exclude=./.git --exclude=./.venv --exclude=./build \
            --exclude='*.egg-info' --exclude=./.firmware-node --exclude=./.firmware-stubs \
            -cf - . | tar -C "$BUILD_COPY" -xf -
    fi
    run "$VENV/bin/python" -m pip install --quiet --upgrade pip
    run "$VENV/bin/python" -m pip install --quiet --upgrade "$BUILD_COPY"
fi
run install -m 0644 "$SCRIPT_DIR/README.md" "$PREFIX/README-rpi.md"

say "configuration in $CONFIG_DIR, state in $STATE_DIR"
run install -d -m 0750 -o root -g "$SERVICE_USER" "$CONFIG_DIR"
if [[ -e $CONFIG_DIR/gate-edge.toml ]]; then
    say "keeping existing $CONFIG_DIR/gate-edge.toml"
else
    run install -m 0640 -o root -g "$SERVICE_USER" "$SCRIPT_DIR/gate-edge.toml" \
        "$CONFIG_DIR/gate-edge.toml"
fi
run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR"

say "I2C bus"
if command -v raspi-config >/dev/null 2>&1; then
    run raspi-config nonint do_i2c 0
else
    say "raspi-config not found: enable I2C with dtparam=i2c_arm=on in /boot/firmware/config.txt"
fi

say "systemd unit"
run install -m 0644 "$SCRIPT_DIR/gate-edge.service" /etc/systemd/system/gate-edge.service
run systemctl daemon-reload

say "checking the configuration as $SERVICE_USER"
CHECK=(runuser -u "$SERVICE_USER" -- "$VENV/bin/gate-edge" config check "$CONFIG_DIR/gate-edge.toml")
if [[ $DRY_RUN -eq 1 ]]; then
    echo "+ ${CHECK[*]}"
    echo "+ systemctl enable gate-edge.service   (only if the check passes)"
elif "${CHECK[@]}"; then
    if [[ $DO_ENABLE -eq 1 ]]; then
        run systemctl enable gate-edge.service
        say "done: the service starts at boot. Start (or restart) it now: sudo systemctl restart gate-edge"
    else
        say "done (not enabled: --no-enable)"
    fi
else
    # A unit enabled with a configuration that fails its check would restart every 10 s forever.
    run systemctl disable gate-edge.service 2>/dev/null || true
    say "done, but the service is NOT enabled: the configuration needs editing first."
    say "next: edit $CONFIG_DIR/gate-edge.toml (and install the files it names), then check it:"
    say "  sudo -u $SERVICE_USER $VENV/bin/gate-edge config check $CONFIG_DIR/gate-edge.toml"
    say "and once it prints OK: sudo systemctl enable --now gate-edge"
fi

#!/usr/bin/env bash
# Install or upgrade gate-edge on Raspberry Pi OS (Bookworm). Idempotent: safe to run again;
# an existing /etc/gate-edge/gate-edge.toml is never overwritten.
#
#   sudo deploy/rpi/install.sh [--source DIR] [--no-apt] [--no-enable] [--dry-run]
#
#   --source DIR  project checkout or sdist to install (default: this repository)
#   --no-apt      skip apt packages (offline re-install)
#   --no-enable   do not enable the service at boot
#   --dry-run     print what would be done, change nothing
set -euo pipefail

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

while [[ $# -gt 0 ]]; do
    case "$1" in
        --source) SOURCE=$(cd -- "$2" && pwd); shift 2 ;;
        --no-apt) DO_APT=0; shift ;;
        --no-enable) DO_ENABLE=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
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
run "$VENV/bin/python" -m pip install --quiet --upgrade pip
run "$VENV/bin/python" -m pip install --quiet --upgrade "$SOURCE"
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
if [[ $DO_ENABLE -eq 1 ]]; then
    run systemctl enable gate-edge.service
fi

say "checking the configuration"
if [[ $DRY_RUN -eq 1 ]] || "$VENV/bin/gate-edge" config check "$CONFIG_DIR/gate-edge.toml"; then
    say "done. Edit $CONFIG_DIR/gate-edge.toml, then: systemctl restart gate-edge"
else
    say "done, but the configuration needs editing before the service can start"
fi

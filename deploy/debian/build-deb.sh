#!/usr/bin/env bash
# Build the gate's Debian packages from this checkout, for Raspberry Pi OS / Debian bookworm.
#
#   deploy/debian/build-deb.sh [--arch amd64|arm64]... [--out DIR]
#
# The version is the project's (setuptools-scm, from git); each package carries the project
# wheel and the wheels locked in requirements/gate-<machine>.txt, downloaded for that machine and
# checked against the lock's hashes, so that it installs with no network. Default: both arches,
# into dist/. Needs python3 with pip, dpkg-deb, and PyPI (or a warm pip cache). Environment:
# WHEELS_DIR (where downloaded wheels are kept, default the output directory), DEB_COMPRESSION
# (xz, the default, or gzip for quicker test builds), PYTHON (default .venv/bin/python).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/deploy/debian
OUT=$ROOT/dist
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
ARCHES=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --arch) ARCHES+=("$2"); shift 2 ;;
        --out) OUT=$(mkdir -p -- "$2" && cd -- "$2" && pwd); shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "build-deb.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[[ ${#ARCHES[@]} -gt 0 ]] || ARCHES=(amd64 arm64)
[[ -x $PYTHON ]] || PYTHON=python3

say() { echo "==> $*"; }

# Only PyPI, whatever the local pip configuration adds: the lock's hashes are PyPI's files.
pip_pypi() {
    PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$PYTHON" -m pip "$@" --index-url https://pypi.org/simple
}

machine_of() {
    case "$1" in
        amd64) echo x86_64 ;;
        arm64) echo aarch64 ;;
        *) echo "build-deb.sh: unsupported architecture $1 (amd64, arm64)" >&2; exit 2 ;;
    esac
}

SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

say "project wheel"
build=$OUT/build
rm -rf "$build"
mkdir -p "$build"
pip_pypi wheel --quiet --no-deps --wheel-dir "$build" "$ROOT"
wheel=$(find "$build" -maxdepth 1 -name 'gate_edge-*.whl' -print -quit)
[[ -n $wheel ]] || { echo "build-deb.sh: no wheel was built" >&2; exit 1; }
VERSION=$(basename "$wheel" | cut -d- -f2)
# Debian orders "~" before anything: 0.2.dev3 (before 0.2) becomes 0.2~dev3.
DEBVER=${VERSION//.dev/\~dev}
if [[ $VERSION == *.d20* ]]; then
    say "warning: the tree has uncommitted changes; version $VERSION is not reproducible"
fi
say "version $VERSION (Debian $DEBVER)"

for arch in "${ARCHES[@]}"; do
    machine=$(machine_of "$arch")
    lock=$ROOT/requirements/gate-$machine.txt
    wheels=${WHEELS_DIR:-$OUT}/wheels-$machine
    say "$arch: locked wheels for $machine"
    mkdir -p "$wheels"
    pip_pypi download --quiet --no-deps --only-binary=:all: --require-hashes \
        --dest "$wheels" --python-version 3.11 --implementation cp \
        --abi cp311 --abi abi3 --abi none \
        --platform "manylinux_2_28_$machine" --platform "manylinux_2_27_$machine" \
        --platform "manylinux_2_26_$machine" --platform "manylinux_2_17_$machine" \
        --platform "manylinux2014_$machine" --platform any \
        -r "$lock"

    stage=$OUT/stage-$arch
    rm -rf "$stage"
    payload=$stage/usr/lib/gate-edge
    install -d "$stage/DEBIAN" "$payload/wheels" "$payload/firmware" \
        "$stage/lib/systemd/system" "$stage/usr/share/gate-edge" "$stage/usr/share/doc/gate-edge" \
        "$stage/usr/bin" "$stage/usr/sbin"
    # Only the files the lock names (the download directory may hold older ones).
    "$PYTHON" - "$lock" "$wheels" "$payload/wheels" <<'PY'
import hashlib, shutil, sys
from pathlib import Path
lock, source, target = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
wanted = {line.strip().removeprefix("--hash=sha256:").rstrip(" \\")
          for line in lock.read_text().splitlines() if line.strip().startswith("--hash=")}
for wheel in sorted(source.glob("*.whl")):
    if hashlib.sha256(wheel.read_bytes()).hexdigest() in wanted:
        shutil.copy2(wheel, target / wheel.name)
PY
    install -m 0644 "$wheel" "$payload/wheels/"
    {
        cat "$lock"
        echo "gate-edge==$VERSION \\"
        echo "    --hash=sha256:$(sha256sum "$wheel" | cut -d' ' -f1)"
    } > "$payload/requirements.txt"
    echo "$VERSION" > "$payload/VERSION"
    install -m 0755 "$HERE/gate_edge_release.py" "$payload/gate-edge-release"
    install -m 0644 "$ROOT"/firmware/*.py "$payload/firmware/"
    sed 's|/opt/gate-edge/venv/|/opt/gate-edge/current/venv/|g; s|/opt/gate-edge/README-rpi.md|/usr/share/doc/gate-edge/README-rpi.md|' \
        "$ROOT/deploy/rpi/gate-edge.service" > "$stage/lib/systemd/system/gate-edge.service"
    install -m 0644 "$HERE/gate-edge-enrol.service" "$stage/lib/systemd/system/"
    install -m 0644 "$ROOT/deploy/rpi/gate-edge.toml" "$stage/usr/share/gate-edge/gate-edge.toml.example"
    install -m 0644 "$ROOT"/deploy/rpi/mosquitto/* "$stage/usr/share/gate-edge/"
    install -m 0644 "$ROOT/deploy/rpi/README.md" "$stage/usr/share/doc/gate-edge/README-rpi.md"
    install -m 0644 "$HERE/copyright" "$stage/usr/share/doc/gate-edge/copyright"
    ln -s /opt/gate-edge/current/venv/bin/gate-edge "$stage/usr/bin/gate-edge"
    ln -s /usr/lib/gate-edge/gate-edge-release "$stage/usr/sbin/gate-edge-release"
    install -m 0755 "$HERE/postinst" "$HERE/prerm" "$HERE/postrm" "$stage/DEBIAN/"
    size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
    sed -e "s|@DEBVER@|$DEBVER|" -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$arch|" \
        -e "s|@SIZE@|$size|" "$HERE/control.in" > "$stage/DEBIAN/control"
    find "$stage" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
    package=$OUT/gate-edge_${DEBVER}_$arch.deb
    dpkg-deb --root-owner-group "-Z${DEB_COMPRESSION:-xz}" --build "$stage" "$package" >/dev/null
    rm -rf "$stage"
    say "$package ($(du -h "$package" | cut -f1))"
done

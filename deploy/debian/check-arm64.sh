#!/usr/bin/env bash
# Prove the arm64 package on the Pi's architecture, in a Debian bookworm arm64 root run by qemu:
# install offline, run the demo and `gate-edge doctor` on simulated hardware, upgrade to a newer
# build (the previous one kept), then to a build that never becomes READY (rolled back), purge.
#
#   deploy/debian/check-arm64.sh [--cache DIR]
#
# Needs root (debootstrap, chroot, mounts), qemu-user-static and binfmt_misc; it mounts
# binfmt_misc and enables the aarch64 handler when the machine has not. Where that is impossible
# it says so plainly and exits 0 without checking anything ("SKIPPED"). The bookworm root is
# built once (a few minutes) and kept in the cache directory; every run works on a fresh copy.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=/var/tmp/gate-edge-arm64
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT_PACKAGES=python3,python3-venv,libzbar0,mosquitto,passwd,ca-certificates

while [[ $# -gt 0 ]]; do
    case "$1" in
        --cache) CACHE=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "check-arm64.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

START=$(date +%s)
say() { echo "==> [$(($(date +%s) - START)) s] $*"; }
cannot() {
    echo "check-arm64: SKIPPED: this machine cannot run the arm64 check: $*"
    exit 0
}
fail() {
    echo "check-arm64: FAILED: $*" >&2
    exit 1
}

# ---- can this machine do it? -------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || cannot "it needs root (debootstrap, chroot, mounts)"
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
command -v update-binfmts >/dev/null || missing+=(binfmt-support)
command -v dpkg-deb >/dev/null || missing+=(dpkg-dev)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null || cannot "apt-get could not install ${missing[*]}"
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
    say "mounting binfmt_misc"
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null \
        || cannot "binfmt_misc cannot be mounted (a container without that privilege?)"
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    say "enabling the aarch64 binfmt handler"
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 \
        || cannot "the aarch64 binfmt handler cannot be registered"
fi
grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || cannot "the aarch64 handler is disabled"

# ---- the packages: this commit, a newer build, and a build that never becomes READY ------------
work=$(mktemp -d /var/tmp/gate-edge-check.XXXXXX)
run=$work/root
mounted=()
cleanup() {
    local m
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        m=${mounted[i]}
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

build() {  # build NAME COMMITS [PATCH]: HEAD plus COMMITS commits (the last one patched), arm64
    local name=$1 commits=$2 patch=${3:-:}
    local src=$work/src-$name
    git clone -q "$ROOT" "$src"
    for ((i = 1; i <= commits; i++)); do
        if [[ $i -eq $commits ]]; then (cd "$src" && eval "$patch"); fi
        git -C "$src" -c user.name=check -c user.email=check@localhost \
            commit -q --allow-empty -am "$name build, step $i"
    done
    WHEELS_DIR=$CACHE/wheels DEB_COMPRESSION=gzip PYTHON=$ROOT/.venv/bin/python \
        "$src/deploy/debian/build-deb.sh" --arch arm64 --out "$work/deb-$name" \
        | sed "s/^/    /" >&2
    find "$work/deb-$name" -name '*.deb' -print -quit
}
say "building three arm64 packages from HEAD ($(git -C "$ROOT" rev-parse --short HEAD))"
first=$(build first 0)
newer=$(build newer 1)
broken=$(build broken 2 "sed -i 's/^    config = check_config_file(config_path)$/    raise SystemExit(\"broken on purpose\")/' edge/app/runner.py")
grep -q "broken on purpose" "$work/src-broken/edge/app/runner.py" || fail "could not make the broken build"

# ---- the arm64 root ----------------------------------------------------------------------------
pristine=$CACHE/root
if [[ ! -e $pristine/.complete ]]; then
    say "debootstrap bookworm arm64 into $pristine (once)"
    rm -rf "$pristine"
    mkdir -p "$CACHE"
    debootstrap --arch=arm64 --variant=minbase --include="$ROOT_PACKAGES" bookworm "$pristine" \
        "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || fail "debootstrap failed: see $CACHE/debootstrap.log"
    touch "$pristine/.complete"
fi
say "fresh copy of the arm64 root"
cp -a "$pristine" "$run"
for fs in proc sys dev; do
    mount --bind "/$fs" "$run/$fs"
    mounted+=("$run/$fs")
done
cp "$first" "$newer" "$broken" "$run/tmp/"
[[ $(chroot "$run" uname -m) == aarch64 ]] || fail "the root does not run as aarch64"

inside() { chroot "$run" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
# Under emulation a release starts several times slower than on a Pi: a longer READY bound.
offline() {
    unshare --net chroot "$run" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        GATE_EDGE_READY_BOUND_S=400 "$@"
}
current() { basename "$(readlink "$run/opt/gate-edge/current")"; }
previous() { basename "$(readlink "$run/opt/gate-edge/previous" 2>/dev/null || echo none)"; }
expect() { [[ $2 == "$3" ]] || fail "$1: expected $3, got $2"; }
apt_offline() {  # apt-get ARGS... with no network; its last lines shown, all of them on failure
    local log=$work/apt.log
    if ! offline apt-get -y -q --no-install-recommends "$@" >"$log" 2>&1; then
        sed "s/^/    /" "$log" >&2
        fail "apt-get $* failed"
    fi
    grep -E "gate-edge|^Setting up|^Removing|^Purging" "$log" | sed "s/^/    /"
}
version_of() { dpkg-deb -f "$1" Description | sed -n 's/.*Installs release \([^ ]*\) into.*/\1/p'; }

# ---- install, demo, doctor ---------------------------------------------------------------------
say "install $(basename "$first") with no network"
apt_offline install "/tmp/$(basename "$first")"
v1=$(version_of "$first")
expect "installed release" "$(current)" "$v1"
inside gate-edge --version | sed "s/^/    /"
inside id gate-edge | sed "s/^/    /"

say "gate configuration on simulated hardware, as a gate's own"
# The trust root is central's key (central's tools are not part of a gate's install): made here.
"$ROOT/.venv/bin/gate-central" keys generate --alg EdDSA --out "$run/etc/gate-edge/trust-root" \
    >/dev/null
cat >"$run/etc/gate-edge/gate-edge.toml" <<'EOF'
[gate]
site = "arm64"
gate = "g01"
[trust]
root_public_key = "/etc/gate-edge/trust-root.pub.pem"
[camera]
source = "none"
[thermo]
backend = "fake"
[relay]
backend = "fake"
[io]
backend = "fake"
[mqtt]
enabled = false
[storage]
state_dir = "/var/lib/gate-edge"
EOF

say "gate-edge demo on arm64"
t=$(date +%s)
offline gate-edge demo 2>&1 | tail -n 3 | sed "s/^/    /"
say "demo took $(($(date +%s) - t)) s"
say "gate-edge doctor against the simulated hardware"
inside gate-edge doctor --config /etc/gate-edge/gate-edge.toml 2>&1 | sed "s/^/    /" || true

# ---- upgrade, rollback, purge ------------------------------------------------------------------
say "upgrade to $(basename "$newer")"
apt_offline install "/tmp/$(basename "$newer")"
v2=$(version_of "$newer")
expect "release after upgrade" "$(current)" "$v2"
expect "previous release kept" "$(previous)" "$v1"
[[ -x $run/opt/gate-edge/releases/$v1/venv/bin/gate-edge ]] || fail "previous release removed"

say "upgrade to $(basename "$broken"), which never becomes READY"
apt_offline install "/tmp/$(basename "$broken")"
v3=$(version_of "$broken")
expect "release after the failed upgrade" "$(current)" "$v2"
inside gate-edge-release status | sed "s/^/    /"
grep -q '"state": "rolled-back"' "$run/var/lib/gate-edge/release.json" || fail "no rollback recorded"
expect "running version" "$(inside gate-edge --version)" "gate-edge $v2"
say "the gate's status will show: $(inside /opt/gate-edge/current/venv/bin/python -c \
    'from pathlib import Path; from edge.service.release import rollback_notice; print(rollback_notice(Path("/var/lib/gate-edge")))')"

say "purge"
apt_offline purge gate-edge
for gone in /opt/gate-edge /etc/gate-edge /var/lib/gate-edge /usr/bin/gate-edge; do
    [[ ! -e $run$gone ]] || fail "$gone left after purge"
done
say "check-arm64: PASSED (releases $v1 -> $v2, $v3 rolled back) in $(($(date +%s) - START)) s"

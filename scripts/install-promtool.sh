#!/usr/bin/env bash
# Puts `promtool` (Prometheus' rule checker and rule unit-test runner) on PATH for the alert tests
# (test/alerts.test.ts). Idempotent: returns at once when a promtool is already on PATH.
#
# promtool comes from Debian's/Ubuntu's `prometheus` package. Only the binary is extracted
# (apt-get download + dpkg-deb -x): installing the whole package would add a system user, a web
# UI's JavaScript dependencies and a prometheus service, none of which the tests need.
#
#   PROMTOOL_INSTALL_DIR  where to put the binary (default /usr/local/bin; must be on PATH)
set -euo pipefail

install_dir="${PROMTOOL_INSTALL_DIR:-/usr/local/bin}"

if command -v promtool >/dev/null 2>&1; then
    echo "promtool already installed: $(command -v promtool) ($(promtool --version 2>&1 | head -n 1))"
    exit 0
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "install-promtool: need root (or sudo) for: $*" >&2; exit 1
    fi
}

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-promtool: no apt-get here; install promtool (Prometheus 2.x) by other means and put it on PATH" >&2
    exit 1
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
cd "$workdir"

# A fresh machine may have no package lists yet; refresh once and retry.
if ! apt-get download prometheus >/dev/null 2>&1; then
    as_root apt-get update -qq
    apt-get download prometheus
fi

deb="$(ls prometheus_*.deb)"
dpkg-deb -x "$deb" extracted
if [ ! -x extracted/usr/bin/promtool ]; then
    echo "install-promtool: $deb has no usr/bin/promtool" >&2
    exit 1
fi
as_root install -d "$install_dir"
as_root install -m 0755 extracted/usr/bin/promtool "$install_dir/promtool"

if ! command -v promtool >/dev/null 2>&1; then
    echo "install-promtool: installed $install_dir/promtool, but $install_dir is not on PATH" >&2
    exit 1
fi
echo "installed $(command -v promtool) from $deb ($(promtool --version 2>&1 | head -n 1))"

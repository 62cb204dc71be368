#!/usr/bin/env bash
# Lints the GitHub Actions workflows with a pinned actionlint, installed once (go install) into a
# cache directory outside the repository and reused afterwards.
#
#   scripts/actionlint.sh [actionlint args...]     (default: every file in .github/workflows)
#
# Needs Go (module proxy access the first time). ACTIONLINT_CACHE overrides the install dir.
# If shellcheck is on PATH, actionlint also checks the `run:` scripts with it.
set -euo pipefail

ACTIONLINT_VERSION="1.7.12"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ACTIONLINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubepolaris-ha/actionlint-${ACTIONLINT_VERSION}}"
bin="$cache/actionlint"

case "$cache" in
    "$repo"|"$repo"/*) echo "actionlint.sh: ACTIONLINT_CACHE must be outside the repository ($cache)" >&2; exit 2 ;;
esac

if [ ! -x "$bin" ] || ! "$bin" -version 2>/dev/null | head -n1 | grep -qx "v\?${ACTIONLINT_VERSION}"; then
    if ! command -v go >/dev/null 2>&1; then
        echo "actionlint.sh: Go is needed to install actionlint ${ACTIONLINT_VERSION}" >&2
        exit 2
    fi
    mkdir -p "$cache"
    echo "actionlint.sh: installing actionlint ${ACTIONLINT_VERSION} into $cache" >&2
    # Build outside the repository so no go.mod/go.work here is picked up.
    (cd "$cache" && GOBIN="$cache" GOFLAGS=-mod=mod GO111MODULE=on go install "github.com/rhysd/actionlint/cmd/actionlint@v${ACTIONLINT_VERSION}")
fi

cd "$repo"
if [ "$#" -eq 0 ]; then
    shopt -s nullglob
    set -- .github/workflows/*.yml .github/workflows/*.yaml
    if [ "$#" -eq 0 ]; then
        echo "actionlint.sh: no workflow files in .github/workflows" >&2
        exit 1
    fi
fi
exec "$bin" "$@"

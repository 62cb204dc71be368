#!/usr/bin/env bash
# Builds the KubePolaris web UI from its release source, once, into the cache outside the repo, and
# prints the path of the built site (the folder nginx serves). The frontend contract test (test/app)
# and the local frontend image use it.
#   scripts/app/frontend.sh            build if needed; print the site's path
#   scripts/app/frontend.sh --check    print the path if built (never builds), else exit 1
# Source: $KUBEPOLARIS_APP_SRC/ui, default ../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION/ui
# beside the repo; the source tree is never written to (the build runs in a copy). Packages come
# from the configured npm registry. Progress goes to stderr.
set -euo pipefail
# shellcheck source=cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
app_source frontend.sh "UI source" ui package.json package-lock.json
# The key covers the source and the API base the bundle is built for, so a different checkout or
# setting never reuses a stale site.
API_BASE=/api/v1
KEY="$( (cd "$SRC" && find . -path ./node_modules -prune -o -path ./dist -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; echo "$API_BASE") | sha256sum | cut -c1-16)"
OUT="$ROOT/app/kubepolaris-ui-$KUBEPOLARIS_APP_VERSION-$KEY/dist"

app_cache_begin frontend.sh "$OUT" d "${1:-}" npm "UI (cold: ~4 min)"
WORK="$(dirname "$OUT")/work"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -C "$SRC" --exclude=./node_modules --exclude=./dist -cf - . | tar -C "$WORK" -xf -
# The lockfile names a registry mirror this machine (and most users) cannot reach:
# --replace-registry-host=always maps every package onto the configured registry. Install scripts
# stay off, as everywhere in this project. As the release's Dockerfile: VITE_API_BASE_URL=/api/v1
# and a 4 GiB heap for the build.
(cd "$WORK" && npm ci --replace-registry-host=always --ignore-scripts --no-audit --no-fund &&
  VITE_API_BASE_URL="$API_BASE" NODE_OPTIONS=--max-old-space-size=4096 npm run build) >"$LOG" 2>&1 || app_build_failed 30
rm -rf "$OUT.tmp" && mv "$WORK/dist" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"
app_build_done "$OUT"

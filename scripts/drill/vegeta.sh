#!/usr/bin/env bash
# Installs vegeta (the drills' HTTP load generator) outside the repo, keyed by version:
#   ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/vegeta-v<VEGETA_VERSION>/vegeta
#
#   scripts/drill/vegeta.sh          install if needed; print the binary's path on stdout
#   scripts/drill/vegeta.sh --check  exit 0 (and print the path) if installed at the pin (never installs)
#
# Pin: VEGETA_VERSION in scripts/toolchain.versions. The official release tarball first, else
# `go install` from the Go module proxy. Progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"
# shellcheck source=../lib/go-tool.sh
source "$REPO/scripts/lib/go-tool.sh"
PREFIX="$(toolchain_dir vegeta.sh "vegeta-v${VEGETA_VERSION}")"
VEGETA="$PREFIX/vegeta"

# `vegeta -version` prints "Version: <v>" (the release stamps it; a module build reads the build info).
have_vegeta() { [ -x "$VEGETA" ] && "$VEGETA" -version 2>/dev/null | grep -Eq "^Version: v?${VEGETA_VERSION}$"; }

if [ "${1:-}" = "--check" ]; then
  have_vegeta && { echo "$VEGETA"; exit 0; }
  exit 1
fi
if have_vegeta; then echo "$VEGETA"; exit 0; fi

mkdir -p "$PREFIX"
exec 9>"$TOOLCHAIN_ROOT/.vegeta-v${VEGETA_VERSION}.lock"
flock 9
if have_vegeta; then echo "$VEGETA"; exit 0; fi

if release_binary "https://github.com/tsenart/vegeta/releases/download/v${VEGETA_VERSION}/vegeta_${VEGETA_VERSION}_linux_amd64.tar.gz" vegeta "$VEGETA"; then
  echo "vegeta.sh: vegeta ${VEGETA_VERSION} from the official release" >&2
else
  go_build vegeta.sh "$PREFIX" "github.com/tsenart/vegeta/v12@v${VEGETA_VERSION}" \
    -ldflags "-X main.Version=v${VEGETA_VERSION}"
fi
have_vegeta || { echo "vegeta.sh: $VEGETA does not report version ${VEGETA_VERSION}: $("$VEGETA" -version 2>&1 || true)" >&2; exit 1; }
echo "$VEGETA"

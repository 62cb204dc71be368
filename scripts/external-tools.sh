#!/usr/bin/env bash
# Installs the external checkers that operators already run on manifests, outside the repo:
#   kube-score (Go) and Checkov (Python, in a virtualenv)
# into ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/external-checks-<versions>/
#
#   scripts/external-tools.sh          install if needed; print the install dir on stdout
#   scripts/external-tools.sh --check  exit 0 if both are installed at the pinned versions (never installs)
#
# Pins: KUBE_SCORE_VERSION and CHECKOV_VERSION in scripts/toolchain.versions. Progress goes to stderr.
# kube-score: the official GitHub release tarball first (5 s connect timeout), else `go install`
# from the Go module proxy. Checkov: `pip install checkov==<pin>` from PyPI into a venv.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=toolchain.versions
source "$HERE/toolchain.versions"

ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
PREFIX="$ROOT/external-checks-kube-score-v${KUBE_SCORE_VERSION}_checkov-v${CHECKOV_VERSION}"
case "$PREFIX" in
  "$REPO"|"$REPO"/*) echo "external-tools.sh: the toolchain dir must be outside the repository ($PREFIX)" >&2; exit 2 ;;
esac
KS="$PREFIX/bin/kube-score"
CK="$PREFIX/venv/bin/checkov"

have_kube_score() { [ -x "$KS" ] && "$KS" version 2>/dev/null | grep -q "version: v\?${KUBE_SCORE_VERSION}\b"; }
have_checkov() { [ -x "$CK" ] && [ "$("$CK" --version 2>/dev/null | tail -n1)" = "$CHECKOV_VERSION" ]; }

if [ "${1:-}" = "--check" ]; then
  have_kube_score && have_checkov && { echo "$PREFIX"; exit 0; }
  exit 1
fi

mkdir -p "$PREFIX/bin"

if ! have_kube_score; then
  url="https://github.com/zegl/kube-score/releases/download/v${KUBE_SCORE_VERSION}/kube-score_${KUBE_SCORE_VERSION}_linux_amd64.tar.gz"
  tmp="$(mktemp -d)"
  if [ "$(uname -sm)" = "Linux x86_64" ] \
     && curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/ks.tgz" "$url" 2>/dev/null \
     && tar -xzf "$tmp/ks.tgz" -C "$tmp" kube-score 2>/dev/null; then
    echo "external-tools.sh: kube-score ${KUBE_SCORE_VERSION} from the official release" >&2
    install -m 0755 "$tmp/kube-score" "$KS"
  else
    command -v go >/dev/null 2>&1 || { echo "external-tools.sh: the release download failed and Go is not installed: install Go 1.22+ to build kube-score ${KUBE_SCORE_VERSION}" >&2; exit 2; }
    echo "external-tools.sh: building kube-score ${KUBE_SCORE_VERSION} from the Go module proxy" >&2
    # Built outside the repository so no go.mod here is picked up; version stamped as the release does.
    (cd "$tmp" && GOBIN="$PREFIX/bin" GOFLAGS="-mod=mod -buildvcs=false" GO111MODULE=on CGO_ENABLED=0 \
      go install -ldflags "-X main.version=${KUBE_SCORE_VERSION}" \
      "github.com/zegl/kube-score/cmd/kube-score@v${KUBE_SCORE_VERSION}")
  fi
  rm -rf "$tmp"
  have_kube_score || { echo "external-tools.sh: kube-score at $KS does not report version ${KUBE_SCORE_VERSION}:" >&2; "$KS" version >&2 || true; exit 1; }
fi

if ! have_checkov; then
  echo "external-tools.sh: installing Checkov ${CHECKOV_VERSION} from PyPI into $PREFIX/venv" >&2
  python3 -m venv --clear "$PREFIX/venv"
  "$PREFIX/venv/bin/pip" install --quiet --disable-pip-version-check --no-input "checkov==${CHECKOV_VERSION}" >&2
  have_checkov || { echo "external-tools.sh: Checkov at $CK does not report version ${CHECKOV_VERSION}" >&2; exit 1; }
fi

echo "$PREFIX"

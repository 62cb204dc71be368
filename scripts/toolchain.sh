#!/usr/bin/env bash
# Installs the real Pulumi engine toolchain for this repo, outside the repo:
#   pulumi (CLI), pulumi-language-nodejs (upstream language host), pulumi-resource-kubernetes
# into ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/<versions>/bin
#
# Usage:
#   scripts/toolchain.sh              install if needed; print the bin dir on stdout
#   eval "$(scripts/toolchain.sh --env)"   install if needed; export PATH and PULUMI_* settings
#   source scripts/toolchain.sh       same as the --env form, in the current shell
#   scripts/toolchain.sh --check      exit 0 if installed (never builds), print the bin dir
#   scripts/toolchain.sh --force      rebuild everything
#   scripts/toolchain.sh --test-doubles   print the directory of the preview-only aws/random
#                                     echo providers (test doubles, never on the --env PATH)
#
# Pinned versions live in scripts/toolchain.versions. Progress goes to stderr.
# Order of attempts:
#   1. the official release downloads (get.pulumi.com), 5 s connect timeout;
#   2. otherwise builds from Go modules through the Go module proxy:
#      - the CLI from github.com/pulumi/pulumi/pkg/v3;
#      - the language host from its upstream source ($PULUMI_LANGUAGE_NODEJS_SRC, default
#        ../shared/vendor/pulumi-language-nodejs beside the repo), because the proxy refuses
#        its module;
#      - the Kubernetes provider from provider/v4 at the release commit's pseudo-version.
#   There is no fallback: a binary that cannot be had is an error that says what to do.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: install in a child bash, then export into the caller's shell.
  __kubepolaris_toolchain_env="$(bash "${BASH_SOURCE[0]}" --env)" || return $?
  eval "$__kubepolaris_toolchain_env"
  unset __kubepolaris_toolchain_env
  return 0
fi

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain.versions
source "$HERE/toolchain.versions"

MODE=bin
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --env) MODE=env ;;
    --check) MODE=check ;;
    --force) FORCE=1 ;;
    --test-doubles) MODE=doubles ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "toolchain.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
KEY="pulumi-v${PULUMI_VERSION}_kubernetes-v${KUBERNETES_PROVIDER_VERSION}"
PREFIX="$ROOT/$KEY"
BIN="$PREFIX/bin"
DOUBLES="$PREFIX/test-doubles"
REPO="$(cd "$HERE/.." && pwd)"
LANGHOST_SRC="${PULUMI_LANGUAGE_NODEJS_SRC:-$REPO/../shared/vendor/pulumi-language-nodejs}"
STAMP="$BIN/.toolchain-stamp"
LOG="$PREFIX/build.log"

# The stamp covers the pins and the test-double source, so editing either rebuilds.
expected_stamp() {
  {
    grep -E '^(PULUMI|KUBERNETES|AWS|RANDOM|GO)_' "$HERE/toolchain.versions"
    cat "$HERE"/toolchain/*/main.go
  } | sha256sum | cut -d' ' -f1
}

emit() {
  case "$MODE" in
    env)
      printf 'export PATH=%q:"$PATH"\n' "$BIN"
      echo 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true'
      echo 'export PULUMI_SKIP_UPDATE_CHECK=true'
      ;;
    doubles) echo "$DOUBLES" ;;
    *) echo "$BIN" ;;
  esac
}

WANT="$(expected_stamp)"
if [[ $FORCE == 0 && -f "$STAMP" ]] && [[ "$(head -1 "$STAMP")" == "$WANT" ]] &&
   [[ -x "$BIN/pulumi" && -x "$BIN/pulumi-language-nodejs" && -x "$BIN/pulumi-resource-kubernetes" ]] &&
   [[ -x "$DOUBLES/pulumi-resource-aws" && -x "$DOUBLES/pulumi-resource-random" ]]; then
  emit
  exit 0
fi
if [[ $MODE == check || $MODE == doubles ]]; then
  echo "toolchain not installed (run scripts/toolchain.sh)" >&2
  exit 1
fi

# One installer at a time per version set (CI jobs, parallel test runs).
mkdir -p "$ROOT"
exec 9>"$ROOT/.$KEY.lock"
if command -v flock >/dev/null; then
  flock 9
  if [[ $FORCE == 0 && -f "$STAMP" ]] && [[ "$(head -1 "$STAMP")" == "$WANT" ]]; then
    emit   # another installer finished while we waited
    exit 0
  fi
fi

START=$(date +%s)
say() { printf '[toolchain %4ss] %s\n' "$(( $(date +%s) - START ))" "$*" >&2; }
mkdir -p "$BIN" "$DOUBLES" "$PREFIX/src"
: > "$LOG"
run() { # run a command, its output to the log; on failure show the tail
  if ! "$@" >>"$LOG" 2>&1; then
    tail -20 "$LOG" >&2
    return 1
  fi
}

export GOMODCACHE="$ROOT/gomod" GOCACHE="$ROOT/gocache" GOFLAGS=-trimpath GOTOOLCHAIN=local
# pkg/v3@v3.248.0 is served by the proxy but missing from sum.golang.org (404):
# its hash is checked against PULUMI_PKG_SUM (toolchain.versions) instead.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi/pkg/v3"
LDFLAGS_BASE="-s -w"
SOURCES=()

say "installing into $BIN (log: $LOG)"
command -v go >/dev/null || { echo "toolchain.sh: go is required" >&2; exit 1; }
command -v node >/dev/null || { echo "toolchain.sh: node is required" >&2; exit 1; }

# ---------------------------------------------------------------- 1. download
try_download() {
  local tmp; tmp="$(mktemp -d)"
  local cli="https://get.pulumi.com/releases/sdk/pulumi-v${PULUMI_VERSION}-linux-x64.tar.gz"
  local k8s="https://get.pulumi.com/releases/plugins/pulumi-resource-kubernetes-v${KUBERNETES_PROVIDER_VERSION}-linux-amd64.tar.gz"
  [[ "$(uname -m)" == x86_64 && "$(uname -s)" == Linux ]] || return 1
  command -v curl >/dev/null || return 1
  say "trying the official download ($cli)"
  if curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/cli.tgz" "$cli" 2>>"$LOG" &&
     curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/k8s.tgz" "$k8s" 2>>"$LOG"; then
    tar -xzf "$tmp/cli.tgz" -C "$tmp" &&
    tar -xzf "$tmp/k8s.tgz" -C "$tmp" &&
    install -m 0755 "$tmp/pulumi/pulumi" "$tmp/pulumi/pulumi-language-nodejs" "$tmp/pulumi-resource-kubernetes" "$BIN/" &&
    { rm -rf "$tmp"; SOURCES=("pulumi=download" "pulumi-language-nodejs=download" "pulumi-resource-kubernetes=download"); return 0; }
  fi
  rm -rf "$tmp"
  say "official download not reachable; building from Go modules"
  return 1
}

# ---------------------------------------------------------------- 2. Go builds
# Copy the non-local replace directives of a dependency's go.mod into ours.
copy_replaces() { # <go.mod of dependency> <our dir>
  local line
  while IFS= read -r line; do
    [[ -n "$line" ]] && (cd "$2" && run go mod edit -replace "$line")
  done < <(go mod edit -json "$1" | node -e '
    const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of m.Replace || []) {
      if (r.New.Version) console.log(`${r.Old.Path}${r.Old.Version ? "@" + r.Old.Version : ""}=${r.New.Path}@${r.New.Version}`);
    }')
}

new_module() { # <dir> <module path>
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo %s\n' "$2" "$GO_MIN_VERSION" > "$1/go.mod"
}

build_cli() {
  local dir="$PREFIX/src/pulumi"
  say "pulumi CLI v$PULUMI_VERSION: resolving github.com/pulumi/pulumi/pkg/v3 (wrapper module $dir)"
  new_module "$dir" kubepolaris.local/toolchain/pulumi
  local pkgmod
  pkgmod="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (j.Error) { console.error(j.Error); process.exit(1); }
    if (process.argv[1] && j.Sum !== process.argv[1]) {
      console.error(`checksum mismatch for ${j.Path}@${j.Version}: got ${j.Sum}, want ${process.argv[1]}`); process.exit(1);
    }
    console.log(j.GoMod);' "${PULUMI_PKG_SUM:-}")"
  copy_replaces "$pkgmod" "$dir"
  (cd "$dir" && run go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION" \
      "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")
  say "pulumi CLI: compiling (cold: several minutes on 2 cores)"
  (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  SOURCES+=("pulumi=go:github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION")
}

# The upstream Node.js language host, built from its source at tag v$PULUMI_VERSION: its *.go
# (not the tests) in a wrapper module that requires the released pkg/v3 and sdk/v3 instead of
# the monorepo's ../ replaces.
build_langhost() {
  local dir="$PREFIX/src/langhost"
  if [[ ! -f "$LANGHOST_SRC/main.go" || ! -f "$LANGHOST_SRC/go.mod" ]]; then
    echo "toolchain.sh: the Node.js language host's source is not at $LANGHOST_SRC." >&2
    echo "  The Go proxy refuses $PULUMI_LANGHOST_MODULE and get.pulumi.com was not reachable." >&2
    echo "  Check out github.com/pulumi/pulumi at tag v$PULUMI_VERSION and point" >&2
    echo "  PULUMI_LANGUAGE_NODEJS_SRC at its sdk/nodejs/cmd/pulumi-language-nodejs folder." >&2
    return 1
  fi
  say "pulumi-language-nodejs v$PULUMI_VERSION: building from $LANGHOST_SRC"
  rm -rf "$dir"; mkdir -p "$dir"
  local f
  for f in "$LANGHOST_SRC"/*.go; do
    [[ "$f" == *_test.go ]] || cp "$f" "$dir/"
  done
  cp "$LANGHOST_SRC/go.mod" "$LANGHOST_SRC/go.sum" "$dir/"
  (cd "$dir" &&
    run go mod edit -module kubepolaris.local/toolchain/langhost -go "$GO_MIN_VERSION" \
      -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
      -require "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" -require "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" &&
    run go mod tidy &&
    run go build -ldflags "$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$BIN/pulumi-language-nodejs" .) || return 1
  SOURCES+=("pulumi-language-nodejs=source:$LANGHOST_SRC (upstream v$PULUMI_VERSION)")
}

# The Kubernetes provider from its module: its cmd/ go:embeds schema-embed.json and
# terraform-mapping-embed.json, which the module's own generate.go writes from the shipped
# schema.json and terraform-mapping.json. The provider's go.mod replaces sdk/v4 with ../sdk,
# which a module build cannot use: the wrapper requires the released sdk/v4 instead.
build_k8s() {
  local dir="$PREFIX/src/kubernetes" moddir
  say "pulumi-resource-kubernetes v$KUBERNETES_PROVIDER_VERSION: resolving $KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_REF"
  moddir="$(go mod download -json "$KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_REF" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (j.Error) { console.error(j.Error); process.exit(1); } console.log(j.Dir);')" || return 1
  new_module "$dir" kubepolaris.local/toolchain/kubernetes
  copy_replaces "$moddir/go.mod" "$dir"
  local f
  for f in main.go generate.go schema.json terraform-mapping.json; do
    cp "$moddir/cmd/pulumi-resource-kubernetes/$f" "$dir/" || return 1
  done
  chmod u+w "$dir"/*
  (cd "$dir" &&
    run go mod edit -require "$KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_REF" \
      -require "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$KUBERNETES_PROVIDER_VERSION" &&
    run go mod tidy &&
    VERSION="$KUBERNETES_PROVIDER_VERSION" run go run generate.go) || return 1
  say "pulumi-resource-kubernetes: compiling (cold: ~12 min on 2 cores)"
  (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X $KUBERNETES_PROVIDER_MODULE/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
      -o "$BIN/pulumi-resource-kubernetes" .) || return 1
  SOURCES+=("pulumi-resource-kubernetes=go:$KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_REF (v$KUBERNETES_PROVIDER_VERSION)")
}

# Test doubles for the fixture policy-parity test only (see their main.go).
build_test_doubles() {
  local dir="$PREFIX/src/test-doubles"
  say "building the aws/random preview test doubles (scripts/toolchain/test-double-echo-provider)"
  new_module "$dir" kubepolaris.local/toolchain/testdoubles
  cp "$HERE/toolchain/test-double-echo-provider/main.go" "$dir/"
  (cd "$dir" && run go get "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" && run go mod tidy &&
    run go build -ldflags "$LDFLAGS_BASE -X main.Version=$AWS_PROVIDER_VERSION+test-double" -o "$DOUBLES/pulumi-resource-aws" . &&
    run go build -ldflags "$LDFLAGS_BASE -X main.Version=$RANDOM_PROVIDER_VERSION+test-double" -o "$DOUBLES/pulumi-resource-random" .)
  SOURCES+=("test-doubles=scripts/toolchain/test-double-echo-provider (aws, random; not on PATH)")
}

rm -f "$STAMP"
if ! try_download; then
  build_cli || { echo "toolchain.sh: could not build the Pulumi CLI (log: $LOG)" >&2; exit 1; }
  build_langhost || { echo "toolchain.sh: could not build pulumi-language-nodejs (log: $LOG)" >&2; exit 1; }
  build_k8s || { echo "toolchain.sh: could not build pulumi-resource-kubernetes (log: $LOG)" >&2; exit 1; }
fi
build_test_doubles

{
  echo "$WANT"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - START ))s"
  printf '%s\n' "${SOURCES[@]}"
} > "$STAMP"
say "done in $(( $(date +%s) - START ))s: $("$BIN/pulumi" version)"
sed -n '3,$p' "$STAMP" | sed 's/^/[toolchain]   /' >&2
emit

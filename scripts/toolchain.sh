#!/usr/bin/env bash
# Installs the Pulumi engine toolchain for this repo, outside the repo:
#   pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes
# into ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/<versions>/bin
#
# Usage:
#   scripts/toolchain.sh              install if needed; print the bin dir on stdout
#   eval "$(scripts/toolchain.sh --env)"   install if needed; export PATH and PULUMI_* settings
#   source scripts/toolchain.sh       same as the --env form, in the current shell
#   scripts/toolchain.sh --check      exit 0 if installed (never builds), print the bin dir
#   scripts/toolchain.sh --force      rebuild everything
#   scripts/toolchain.sh --standins   print the directory of the preview-only aws/random stand-ins
#                                     (not on the --env PATH; the engine policy-parity test uses it)
#
# Pinned versions live in scripts/toolchain.versions. Progress goes to stderr.
# Order of attempts for each binary:
#   1. the official release download (get.pulumi.com), with a 5 s timeout;
#   2. a build from Go modules (the real module, through the Go module proxy);
#   3. for the language host and the kubernetes provider only: the small stand-ins
#      in scripts/toolchain/ (built from Go modules too), used when the proxy
#      refuses the real modules. `pulumi-resource-kubernetes version` / the
#      stamp file say which one you got.

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
    --standins) MODE=standins ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "toolchain.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
KEY="pulumi-v${PULUMI_VERSION}_kubernetes-v${KUBERNETES_PROVIDER_VERSION}"
PREFIX="$ROOT/$KEY"
BIN="$PREFIX/bin"
STANDINS="$PREFIX/preview-standins"
STAMP="$BIN/.toolchain-stamp"
LOG="$PREFIX/build.log"

# The stamp covers the pins and the stand-in sources, so editing either rebuilds.
expected_stamp() {
  {
    cat "$HERE/toolchain.versions"
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
    standins) echo "$STANDINS" ;;
    *) echo "$BIN" ;;
  esac
}

WANT="$(expected_stamp)"
if [[ $FORCE == 0 && -f "$STAMP" ]] && [[ "$(head -1 "$STAMP")" == "$WANT" ]] &&
   [[ -x "$BIN/pulumi" && -x "$BIN/pulumi-language-nodejs" && -x "$BIN/pulumi-resource-kubernetes" ]] &&
   [[ -x "$STANDINS/pulumi-resource-aws" && -x "$STANDINS/pulumi-resource-random" ]]; then
  emit
  exit 0
fi
if [[ $MODE == check || $MODE == standins ]]; then
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
mkdir -p "$BIN" "$STANDINS" "$PREFIX/src"
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

# Real Node.js language host at the release commit (pseudo-version).
build_langhost_real() {
  local dir="$PREFIX/src/langhost" info ver gomod
  say "pulumi-language-nodejs: resolving $PULUMI_LANGHOST_MODULE@$PULUMI_COMMIT"
  info="$(go list -m -json "$PULUMI_LANGHOST_MODULE@$PULUMI_COMMIT" 2>>"$LOG")" || return 1
  ver="$(node -e 'console.log(JSON.parse(process.argv[1]).Version)' "$info")"
  gomod="$(go mod download -json "$PULUMI_LANGHOST_MODULE@$ver" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8")); if (j.Error) process.exit(1); console.log(j.GoMod);')" || return 1
  new_module "$dir" kubepolaris.local/toolchain/langhost
  copy_replaces "$gomod" "$dir"
  (cd "$dir" && run go get "$PULUMI_LANGHOST_MODULE@$ver" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" \
      "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION") || return 1
  (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$BIN/pulumi-language-nodejs" "$PULUMI_LANGHOST_MODULE") || return 1
  SOURCES+=("pulumi-language-nodejs=go:$PULUMI_LANGHOST_MODULE@$ver")
}

# Real kubernetes provider: its cmd/ go:embeds generated files that are not in
# the module zip, so we compile our own main around provider.Serve with the
# schema shipped in the module.
build_k8s_real() {
  local dir="$PREFIX/src/kubernetes" info ver moddir
  say "pulumi-resource-kubernetes: resolving $KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_REF"
  info="$(go list -m -json "$KUBERNETES_PROVIDER_MODULE@$KUBERNETES_PROVIDER_REF" 2>>"$LOG")" || return 1
  ver="$(node -e 'console.log(JSON.parse(process.argv[1]).Version)' "$info")"
  moddir="$(go mod download -json "$KUBERNETES_PROVIDER_MODULE@$ver" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8")); if (j.Error) process.exit(1); console.log(j.Dir);')" || return 1
  new_module "$dir" kubepolaris.local/toolchain/kubernetes
  copy_replaces "$moddir/go.mod" "$dir"
  local cmd="$moddir/cmd/pulumi-resource-kubernetes"
  cp "$cmd/schema.json" "$dir/schema-embed.json" || return 1
  [[ -f "$cmd/terraform-mapping.json" ]] && cp "$cmd/terraform-mapping.json" "$dir/terraform-mapping-embed.json" || echo '{}' > "$dir/terraform-mapping-embed.json"
  [[ -f "$cmd/helm-mapping.json" ]] && cp "$cmd/helm-mapping.json" "$dir/helm-mapping.json" || echo '{}' > "$dir/helm-mapping.json"
  cat > "$dir/main.go" <<'EOF'
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

//go:embed helm-mapping.json
var helmMapping []byte

func main() { provider.Serve("kubernetes", version.Version, schema, terraformMapping, helmMapping) }
EOF
  (cd "$dir" && run go get "$KUBERNETES_PROVIDER_MODULE@$ver" && run go mod tidy) || return 1
  say "pulumi-resource-kubernetes: compiling the real provider (cold: many minutes)"
  (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X $KUBERNETES_PROVIDER_MODULE/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
      -o "$BIN/pulumi-resource-kubernetes" .) || return 1
  SOURCES+=("pulumi-resource-kubernetes=go:$KUBERNETES_PROVIDER_MODULE@$ver")
}

build_standins() { # <which...>: langhost, k8s and/or echo
  local dir="$PREFIX/src/standins" w
  say "building stand-in(s) from scripts/toolchain/: $*"
  new_module "$dir" kubepolaris.local/toolchain/standins
  for w in nodejs-langhost k8s-render-provider preview-echo-provider; do
    mkdir -p "$dir/$w"
    cp "$HERE/toolchain/$w/main.go" "$dir/$w/"
  done
  (cd "$dir" && run go get "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" && run go mod tidy)
  for w in "$@"; do
    case "$w" in
      langhost)
        (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X main.Version=$PULUMI_VERSION" \
            -o "$BIN/pulumi-language-nodejs" ./nodejs-langhost)
        SOURCES+=("pulumi-language-nodejs=standin:scripts/toolchain/nodejs-langhost") ;;
      k8s)
        (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X main.Version=$KUBERNETES_PROVIDER_VERSION+render-standin" \
            -o "$BIN/pulumi-resource-kubernetes" ./k8s-render-provider)
        SOURCES+=("pulumi-resource-kubernetes=standin:scripts/toolchain/k8s-render-provider") ;;
      echo)
        (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X main.Version=$AWS_PROVIDER_VERSION+preview-standin" \
            -o "$STANDINS/pulumi-resource-aws" ./preview-echo-provider)
        (cd "$dir" && run go build -ldflags "$LDFLAGS_BASE -X main.Version=$RANDOM_PROVIDER_VERSION+preview-standin" \
            -o "$STANDINS/pulumi-resource-random" ./preview-echo-provider)
        SOURCES+=("preview-standins=standin:scripts/toolchain/preview-echo-provider (aws, random; not on PATH)") ;;
    esac
  done
}

rm -f "$STAMP"
if ! try_download; then
  build_cli
  standins=()
  if ! build_langhost_real; then
    say "pulumi-language-nodejs: the real module is not available here (see $LOG); using the stand-in"
    standins+=(langhost)
  fi
  if ! build_k8s_real; then
    say "pulumi-resource-kubernetes: the real module is not available here (see $LOG); using the render-only stand-in"
    standins+=(k8s)
  fi
  build_standins ${standins[@]+"${standins[@]}"} echo
else
  build_standins echo
fi

{
  echo "$WANT"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - START ))s"
  printf '%s\n' "${SOURCES[@]}"
} > "$STAMP"
say "done in $(( $(date +%s) - START ))s: $("$BIN/pulumi" version)"
sed -n '3,$p' "$STAMP" | sed 's/^/[toolchain]   /' >&2
emit

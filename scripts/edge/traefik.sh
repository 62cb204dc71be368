#!/usr/bin/env bash
# Installs or reuses Traefik (the Gateway API controller the local stack runs; docs/edge.md) and the
# Gateway API CRDs it is built against, outside the repo:
#   ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/edge-traefik-v<T>_gwapi-v<G>/
#     bin/traefik    crds/ (the standard channel of sigs.k8s.io/gateway-api, config/crd/standard)
#
# Usage:
#   scripts/edge/traefik.sh           install if needed; print the traefik binary's path (last line)
#   scripts/edge/traefik.sh --crds    fetch the CRDs only (no build, seconds); print their folder
#   scripts/edge/traefik.sh --check   exit 0 if the binary is installed (never builds)
#
# Pins: TRAEFIK_VERSION and GATEWAY_API_VERSION in scripts/toolchain.versions. The CRD bundle must be
# the one the controller is built against: this script refuses a pin that differs from Traefik's
# go.mod requirement on sigs.k8s.io/gateway-api.
#
# The binary is Traefik's official release tarball when GitHub answers (checked against the release's
# checksums file); otherwise it is built from source. Either way Traefik's go.mod comes from the Go
# module proxy first, for the CRD pin check.
#
# `go install` refuses Traefik (its go.mod has replace directives), so it is built in a wrapper
# module that repeats Traefik's replaces plus three workarounds for what the Go module proxy reachable
# here does not serve (each is applied only when the proxy refuses; the build log and the stamp say
# which were used; docs/edge.md explains them):
#   1. github.com/traefik/traefik/dynamic/ext is a nested module Traefik replaces with its own
#      ./pkg/config/dynamic/ext, which the module zip leaves out (nested modules are excluded). The
#      open-source tree defines two empty extension structs there (ext.HTTP, ext.Router); the wrapper
#      gets a local module declaring exactly those.
#   2. Traefik's fork github.com/containous/go-http-auth at its pinned commit answers 403: the older
#      fork commit TRAEFIK_HTTP_AUTH_FALLBACK (Traefik <= v3.7.10) is used. The newer commit may carry a
#      fix to basic/digest auth, so the BasicAuth/DigestAuth middlewares of this build are not to
#      be trusted; the stacks use neither.
#   3. DNS-provider SDK modules of lego (ACME DNS-01 challenges) that answer 403 are dropped with
#      their providers from a local copy of lego. Those DNS-01 providers are absent from this build;
#      the stacks use no ACME at all (certificates come from the stack's config).
# Cold build: ~3 min of module downloads, then ~4.5 min compiling on 2 cores, ~3.4 GB peak RSS; run niced.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSIONS="$HERE/../toolchain.versions"
# shellcheck source=../toolchain.versions
source "$VERSIONS"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../lib/go-tool.sh
source "$HERE/../lib/go-tool.sh"

MODE=bin
for arg in "$@"; do
  case "$arg" in
    --crds) MODE=crds ;;
    --check) MODE=check ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) echo "traefik.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

TV="$TRAEFIK_VERSION" GV="$GATEWAY_API_VERSION"
ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
KEY="edge-traefik-v${TV}_gwapi-v${GV}"
PREFIX="$ROOT/$KEY"
BIN="$PREFIX/bin"
CRDS="$PREFIX/crds"
STAMP="$PREFIX/.stamp"
LOG="$PREFIX/build.log"
WANT="$(grep -E '^(TRAEFIK_|GATEWAY_API_)' "$VERSIONS" | sha256sum | cut -d' ' -f1)"

have_crds() { compgen -G "$CRDS/*.yaml" >/dev/null; }
installed() { [[ -f "$STAMP" && "$(head -1 "$STAMP")" == "$WANT" && -x "$BIN/traefik" ]] && have_crds; }

if [[ $MODE == crds ]] && have_crds; then echo "$CRDS"; exit 0; fi
if [[ $MODE == bin ]] && installed; then echo "$BIN/traefik"; exit 0; fi
if [[ $MODE == check ]]; then
  installed && { echo "$BIN/traefik"; exit 0; }
  echo "Traefik v$TV is not installed (run scripts/edge/traefik.sh)" >&2; exit 1
fi

command -v go >/dev/null || { echo "traefik.sh: go is required (Go 1.26+)" >&2; exit 1; }
command -v node >/dev/null || { echo "traefik.sh: node is required" >&2; exit 1; }
mkdir -p "$PREFIX"
exec 9>"$ROOT/.$KEY.lock"
command -v flock >/dev/null && flock 9
if [[ $MODE == crds ]] && have_crds; then echo "$CRDS"; exit 0; fi
if [[ $MODE == bin ]] && installed; then echo "$BIN/traefik"; exit 0; fi

START=$(date +%s)
say() { printf '[traefik %4ss] %s\n' "$(( $(date +%s) - START ))" "$*" >&2; }
: > "$LOG"
run() { if ! "$@" >>"$LOG" 2>&1; then tail -25 "$LOG" >&2; return 1; fi; }
fail() { echo "traefik.sh: $* (log: $LOG)" >&2; exit 1; }
export GOMODCACHE="$ROOT/gomod" GOCACHE="$ROOT/gocache" GOFLAGS="-trimpath -buildvcs=false -modcacherw" GOTOOLCHAIN=local

mod_json() { # <module@version>: `go mod download -json`, one object; exit 1 on a download error
  go mod download -json "$1" 2>>"$LOG" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (j.Error) { console.error(j.Error); process.exit(1); }
    console.log(JSON.stringify(j));'
}
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }

# ------------------------------------------------------------------------------- Traefik's go.mod
say "Traefik v$TV: go mod download github.com/traefik/traefik/v3@v$TV"
TJ="$(mod_json "github.com/traefik/traefik/v3@v$TV")" || fail "could not download Traefik v$TV"
TDIR="$(field "$TJ" Dir)"
TMOD="$(go mod edit -json "$(field "$TJ" GoMod)")"
gomod_q() { node -e "const m = JSON.parse(process.argv[1]); $2" "$TMOD"; }
BUILT_GV="$(gomod_q "" 'console.log((m.Require.find(r => r.Path === "sigs.k8s.io/gateway-api") || {}).Version || "")')"
[[ "$BUILT_GV" == "v$GV" ]] ||
  fail "Traefik v$TV is built against sigs.k8s.io/gateway-api $BUILT_GV but GATEWAY_API_VERSION=$GV: pin the CRDs to the controller's version"

# ------------------------------------------------------------------------------------------ CRDs
if ! have_crds; then
  # The module's go directive may be newer than the local Go: `go mod download` then refuses to
  # extract it, but has fetched the zip; the folder is read from the zip.
  say "Gateway API v$GV CRDs: sigs.k8s.io/gateway-api@v$GV config/crd/standard"
  go mod download -json "sigs.k8s.io/gateway-api@v$GV" >>"$LOG" 2>&1 || true
  ZIP="$GOMODCACHE/cache/download/sigs.k8s.io/gateway-api/@v/v$GV.zip"
  [[ -f "$ZIP" ]] || fail "could not download sigs.k8s.io/gateway-api@v$GV"
  rm -rf "$CRDS.tmp"; mkdir -p "$CRDS.tmp"
  unzip -q -j "$ZIP" "sigs.k8s.io/gateway-api@v$GV/config/crd/standard/*.yaml" -d "$CRDS.tmp" || fail "no config/crd/standard in $ZIP"
  rm -rf "$CRDS"; mv "$CRDS.tmp" "$CRDS"
  say "Gateway API CRDs: $(ls "$CRDS" | wc -l) files in $CRDS"
fi
[[ $MODE == crds ]] && { echo "$CRDS"; exit 0; }

# ------------------------------------------------------------------------ the official release
# Traefik's own build of the same version: seconds instead of the build below, where GitHub answers.
rm -f "$STAMP"
RELEASE="https://github.com/traefik/traefik/releases/download/v$TV"
if release_binary "$RELEASE/traefik_v${TV}_linux_amd64.tar.gz" traefik "$BIN/traefik" "$RELEASE/traefik_v${TV}_checksums.txt" \
   && "$BIN/traefik" version 2>/dev/null | grep -E >/dev/null "^Version:[[:space:]]+v?${TV//./\\.}\$"; then
  printf '%s\n' "$WANT" "official release $RELEASE (sha256 checked), against sigs.k8s.io/gateway-api v$GV" > "$STAMP"
  say "done: Traefik v$TV from the official release"
  echo "$BIN/traefik"
  exit 0
fi
rm -f "$BIN/traefik"
say "no official release binary (unreachable, or its checksum or version did not match): building Traefik v$TV from source"

# ------------------------------------------------------------------------------ wrapper module
SRC="$PREFIX/src" W="$PREFIX/src/wrapper"
rm -rf "$SRC"; mkdir -p "$W" "$SRC/ext"
NOTES=()
printf 'module kubepolaris.local/edge/traefik\n\ngo %s\n' "$(gomod_q "" 'console.log(m.Go)')" > "$W/go.mod"
printf '//go:build tools\n\n// Package tools pins the command this wrapper module builds.\npackage tools\n\nimport _ "github.com/traefik/traefik/v3/cmd/traefik"\n' > "$W/tools.go"

# Traefik's own replaces and excludes (a dependency's are ignored by Go), adjusted below.
EDITS=()
while IFS= read -r e; do EDITS+=("$e"); done < <(gomod_q "" '
  for (const r of m.Replace || []) if (!r.New.Path.startsWith("./"))
    console.log(`-replace=${r.Old.Path}${r.Old.Version ? "@" + r.Old.Version : ""}=${r.New.Path}${r.New.Version ? "@" + r.New.Version : ""}`);
  for (const x of m.Exclude || []) console.log(`-exclude=${x.Path}@${x.Version}`);')

# Workaround 1: the nested extension module.
printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n' > "$SRC/ext/go.mod"
printf '// Package ext holds the extension points of Traefik'"'"'s dynamic configuration (empty in open-source Traefik).\npackage ext\n\n// HTTP extends dynamic.HTTPConfiguration.\ntype HTTP struct{}\n\n// Router extends dynamic.Router.\ntype Router struct{}\n' > "$SRC/ext/ext.go"
EDITS+=("-replace=github.com/traefik/traefik/dynamic/ext=$SRC/ext")
NOTES+=("workaround 1: github.com/traefik/traefik/dynamic/ext (not in the module zip) -> local module with the empty ext.HTTP/ext.Router")

# Workaround 2: the go-http-auth fork commit.
AUTH="$(gomod_q "" 'const r = m.Replace.find(r => r.Old.Path === "github.com/abbot/go-http-auth"); console.log(r.New.Path + "@" + r.New.Version)')"
if mod_json "$AUTH" >/dev/null 2>&1; then
  NOTES+=("go-http-auth: $AUTH as pinned")
else
  EDITS+=("-replace=github.com/abbot/go-http-auth=${AUTH%@*}@$TRAEFIK_HTTP_AUTH_FALLBACK")
  NOTES+=("workaround 2: $AUTH answers $(mod_json "$AUTH" 2>&1 | grep -o '[0-9][0-9][0-9] [A-Za-z ]*' | head -1 || echo error); using ${AUTH%@*}@$TRAEFIK_HTTP_AUTH_FALLBACK")
fi

# Workaround 3: lego's DNS providers whose SDK module cannot be downloaded.
LEGO="$(gomod_q "" 'console.log(m.Require.find(r => r.Path === "github.com/go-acme/lego/v5").Version)')"
LJ="$(mod_json "github.com/go-acme/lego/v5@$LEGO")" || fail "could not download lego $LEGO"
say "lego $LEGO: checking that its DNS-provider SDK modules download"
DROP_MODS=()
while IFS= read -r m; do
  mod_json "$m" >/dev/null 2>&1 || DROP_MODS+=("$m")
done < <(go mod edit -json "$(field "$LJ" GoMod)" | node -e '
  const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const r of m.Require) if (!r.Indirect) console.log(`${r.Path}@${r.Version}`);')
if (( ${#DROP_MODS[@]} )); then
  cp -r "$(field "$LJ" Dir)" "$SRC/lego"; chmod -R u+w "$SRC/lego"
  DROPPED=()
  for m in "${DROP_MODS[@]}"; do
    (cd "$SRC/lego" && go mod edit -droprequire "${m%@*}")
    for d in $(grep -rlF "\"${m%@*}" "$SRC/lego/providers/dns" --include=*.go | sed -E "s#^$SRC/lego/providers/dns/([^/]+)/.*#\1#" | sort -u); do
      [[ -d "$SRC/lego/providers/dns/$d" ]] || continue
      rm -rf "$SRC/lego/providers/dns/$d"; DROPPED+=("$d")
    done
  done
  node -e '
    const fs = require("fs"); const f = process.argv[1]; const drop = new Set(process.argv.slice(2));
    const lines = fs.readFileSync(f, "utf8").split("\n"); const out = [];
    for (const l of lines) {
      const imp = l.match(/^\t"github\.com\/go-acme\/lego\/v5\/providers\/dns\/([a-z0-9]+)"$/);
      if (imp && drop.has(imp[1])) continue;
      const ret = l.match(/^\t\treturn ([a-z0-9]+)\.New/);
      if (ret && drop.has(ret[1])) { out.pop(); continue; }   // and its `case` line
      out.push(l);
    }
    fs.writeFileSync(f, out.join("\n"));' "$SRC/lego/providers/dns/zz_gen_dns_providers.go" "${DROPPED[@]}"
  rm -f "$SRC/lego/providers/dns/dns_providers_test.go"
  EDITS+=("-replace=github.com/go-acme/lego/v5=$SRC/lego")
  NOTES+=("workaround 3: ${#DROP_MODS[@]} lego $LEGO SDK modules do not download (${DROP_MODS[*]}); dropped DNS providers: ${DROPPED[*]}")
fi
printf '%s\n' "${NOTES[@]}" | sed 's/^/[traefik]   /' >&2

(cd "$W" && run go mod edit -require "github.com/traefik/traefik/v3@v$TV" "${EDITS[@]}") || fail "go mod edit failed"
say "resolving the wrapper module's dependencies (cold: a few minutes of downloads)"
(cd "$W" && run go mod tidy) || fail "go mod tidy failed"
say "compiling Traefik v$TV (cold: ~4.5 min on 2 cores, ~3.4 GB)"
mkdir -p "$BIN"
LD="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=v$TV"
(cd "$W" && run go build -ldflags "$LD" -o "$BIN/traefik" github.com/traefik/traefik/v3/cmd/traefik) || fail "go build failed"
{
  echo "$WANT"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - START ))s against sigs.k8s.io/gateway-api v$GV"
  printf '%s\n' "${NOTES[@]}"
} > "$STAMP"
say "done: $("$BIN/traefik" version 2>/dev/null | head -1)"
echo "$BIN/traefik"

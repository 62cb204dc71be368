#!/usr/bin/env bash
# Builds or reuses the local control plane's binaries, outside the repo:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok
# into ${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}/cluster-<versions>/bin,
# and the Prometheus Operator CRDs into .../cluster-<versions>/crds.
#
# Usage:
#   scripts/cluster/ensure.sh            install if needed; print the bin dir on stdout (last line)
#   scripts/cluster/ensure.sh --check    exit 0 if installed (never builds), print the bin dir
#   scripts/cluster/ensure.sh --crds     install if needed; print the CRD dir instead
#   scripts/cluster/ensure.sh --force    rebuild everything
#   scripts/cluster/ensure.sh --node     the real nodes' add-ons: Debian packages (apt-get, when
#                                        missing and root), CoreDNS and kube-router (go install)
#                                        into .../node-<versions>/bin; prints that bin dir
#   scripts/cluster/ensure.sh --node --check   exit 0 if those are installed (never builds)
#   eval "$(scripts/cluster/ensure.sh --env)"   install if needed; export PATH with the bin dir
#
# Pins: the CLUSTER_* lines of scripts/toolchain.versions. Progress lines go to stderr; the build
# log is .../cluster-<versions>/build.log. A warm run only compares a stamp (well under 1 s).
# Order of attempts per binary set:
#   1. the official release downloads (dl.k8s.io, GitHub releases), 5 s connect timeout,
#      checked against their published SHA-256 sums where the release has them;
#   2. otherwise a build from Go modules through the Go module proxy:
#      - Kubernetes: a wrapper module requiring k8s.io/kubernetes, whose 31 ./staging replaces
#        are pointed at the published k8s.io/<name> v0.<minor>.<patch> (cold: ~7 min on 2 cores);
#      - etcd: a wrapper module requiring go.etcd.io/etcd/server/v3 (~1 min);
#      - kwok: go install sigs.k8s.io/kwok/cmd/kwok (~1 min).
#   The CRDs always come from the Go module proxy (go mod download), folder
#   example/prometheus-operator-crd/ of github.com/prometheus-operator/prometheus-operator.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSIONS="$HERE/../toolchain.versions"
# shellcheck source=../toolchain.versions
source "$VERSIONS"

MODE=bin
FORCE=0
NODE=0
for arg in "$@"; do
  case "$arg" in
    --check) MODE=check ;;
    --crds) MODE=crds ;;
    --env) MODE=env ;;
    --force) FORCE=1 ;;
    --node) NODE=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "ensure.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

K8S="$CLUSTER_KUBERNETES_VERSION" ETCD="$CLUSTER_ETCD_VERSION" KWOK="$CLUSTER_KWOK_VERSION"
PROMOP="$CLUSTER_PROMETHEUS_OPERATOR_VERSION"
ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
KEY="cluster-k8s-v${K8S}_etcd-v${ETCD}_kwok-v${KWOK}_promop-v${PROMOP}"
PREFIX="$ROOT/$KEY"
BIN="$PREFIX/bin"
CRDS="$PREFIX/crds"
STAMP="$PREFIX/.cluster-stamp"
LOG="$PREFIX/build.log"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy kwok)

# ------------------------------------------------------------- real nodes' add-ons
# Their own key and stamp: a CoreDNS or kube-router bump does not rebuild Kubernetes.
node_addons() {
  local root="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
  local key="node-coredns-v${CLUSTER_COREDNS_VERSION}_kube-router-v${CLUSTER_KUBE_ROUTER_VERSION}"
  local prefix="$root/$key" want missing=() p
  local bin="$prefix/bin" stamp="$prefix/.node-stamp" log="$prefix/build.log"
  want="$(grep -E '^CLUSTER_(COREDNS|KUBE_ROUTER)_VERSION=' "$VERSIONS" | sha256sum | cut -d' ' -f1)"
  for p in $CLUSTER_DEBIAN_PACKAGES; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ready() { [[ -f "$stamp" && "$(head -1 "$stamp")" == "$want" && -x "$bin/coredns" && -x "$bin/kube-router" ]]; }
  if [[ $MODE == check ]]; then
    ready && ((${#missing[@]} == 0)) && { echo "$bin"; exit 0; }
    echo "real node add-ons not installed (missing: ${missing[*]:-} $(ready || echo "coredns/kube-router")); run scripts/cluster/ensure.sh --node" >&2
    exit 1
  fi
  if ((${#missing[@]} > 0)); then
    [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null ||
      { echo "ensure.sh: real nodes need the Debian packages ${missing[*]} (apt-get as root)" >&2; exit 1; }
    echo "[node-addons] installing ${missing[*]} (Debian packages)" >&2
    # Nothing is started as a service: the cluster starts its own containerd per node.
    [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
      { echo "ensure.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
  fi
  if [[ $FORCE == 0 ]] && ready; then echo "$bin"; exit 0; fi
  mkdir -p "$bin"
  exec 9>"$root/.$key.lock"
  flock 9
  if [[ $FORCE == 0 ]] && ready; then echo "$bin"; exit 0; fi
  command -v go >/dev/null || { echo "ensure.sh: go is required (Go 1.25+)" >&2; exit 1; }
  export GOMODCACHE="$root/gomod" GOCACHE="$root/gocache" GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local
  local start=$SECONDS
  : > "$log"
  rm -f "$stamp"
  # Both at once: two small builds share the two cores better than one after the other.
  echo "[node-addons] go install CoreDNS v$CLUSTER_COREDNS_VERSION and kube-router v$CLUSTER_KUBE_ROUTER_VERSION (cold: ~3 min) into $bin" >&2
  GOBIN="$bin" go install -ldflags "-s -w" "github.com/coredns/coredns@v$CLUSTER_COREDNS_VERSION" >>"$log" 2>&1 & local dns=$!
  GOBIN="$bin" go install -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$CLUSTER_KUBE_ROUTER_VERSION" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$CLUSTER_KUBE_ROUTER_VERSION" >>"$log" 2>&1 & local kr=$!
  wait "$dns" && wait "$kr" || { tail -25 "$log" >&2; echo "ensure.sh: the add-on build failed (log: $log)" >&2; exit 1; }
  { echo "$want"; echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( SECONDS - start ))s"
    echo "coredns=go:github.com/coredns/coredns@v$CLUSTER_COREDNS_VERSION"
    echo "kube-router=go:github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$CLUSTER_KUBE_ROUTER_VERSION"; } > "$stamp"
  echo "[node-addons] done in $(( SECONDS - start ))s" >&2
  echo "$bin"
  exit 0
}
[[ $NODE == 1 ]] && node_addons

# The pins this key depends on (the node add-ons' pins have a key of their own: node-ensure.sh).
expected_stamp() { grep -E '^CLUSTER_(KUBERNETES|ETCD|KWOK|PROMETHEUS_OPERATOR)_VERSION=' "$VERSIONS" | sha256sum | cut -d' ' -f1; }

emit() {
  case "$MODE" in
    env) printf 'export PATH=%q:"$PATH"\n' "$BIN" ;;
    crds) echo "$CRDS" ;;
    *) echo "$BIN" ;;
  esac
}

installed() {
  [[ -f "$STAMP" && "$(head -1 "$STAMP")" == "$WANT" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || return 1; done
  compgen -G "$CRDS/*.yaml" >/dev/null
}

WANT="$(expected_stamp)"
if [[ $FORCE == 0 ]] && installed; then emit; exit 0; fi
if [[ $MODE == check ]]; then
  echo "local control plane binaries not installed (run scripts/cluster/ensure.sh)" >&2
  exit 1
fi

mkdir -p "$ROOT"
exec 9>"$ROOT/.$KEY.lock"
if command -v flock >/dev/null; then
  flock 9
  if [[ $FORCE == 0 ]] && installed; then emit; exit 0; fi   # another installer finished
fi

START=$(date +%s)
say() { printf '[cluster-bin %4ss] %s\n' "$(( $(date +%s) - START ))" "$*" >&2; }
mkdir -p "$BIN" "$PREFIX/src"
: > "$LOG"
run() { # a command's output to the log; on failure show its tail
  if ! "$@" >>"$LOG" 2>&1; then
    tail -25 "$LOG" >&2
    return 1
  fi
}
command -v go >/dev/null || { echo "ensure.sh: go is required (Go 1.25+)" >&2; exit 1; }
command -v node >/dev/null || { echo "ensure.sh: node is required" >&2; exit 1; }

export GOMODCACHE="$ROOT/gomod" GOCACHE="$ROOT/gocache" GOFLAGS="-trimpath -buildvcs=false" GOTOOLCHAIN=local
SOURCES=()
ARCH=amd64
case "$(uname -m)" in x86_64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64 ;; *) ARCH="" ;; esac

fetch() { # <url> <file>: official download, 5 s connect timeout
  command -v curl >/dev/null && [[ -n "$ARCH" && "$(uname -s)" == Linux ]] || return 1
  curl -fsSL --connect-timeout 5 --max-time 300 -o "$2" "$1" 2>>"$LOG"
}

json_field() { # <field>: from `go mod download -json` on stdin
  node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (j.Error) { console.error(j.Error); process.exit(1); }
    console.log(j[process.argv[1]]);' "$1"
}

new_module() { # <dir> <module path>
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo %s\n' "$2" "$GO_MIN_VERSION" > "$1/go.mod"
}

# ------------------------------------------------------------------------- Kubernetes
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

download_k8s() {
  local tmp b url sum
  tmp="$(mktemp -d)"
  say "Kubernetes v$K8S: trying the official download (dl.k8s.io)"
  for b in "${K8S_BINS[@]}"; do
    url="https://dl.k8s.io/release/v$K8S/bin/linux/$ARCH/$b"
    if ! fetch "$url" "$tmp/$b" || ! fetch "$url.sha256" "$tmp/$b.sha256"; then
      rm -rf "$tmp"; say "Kubernetes: official download not reachable; building from Go modules"; return 1
    fi
    sum="$(tr -d ' \n' < "$tmp/$b.sha256")"
    if [[ "$(sha256sum "$tmp/$b" | cut -d' ' -f1)" != "$sum" ]]; then
      rm -rf "$tmp"; echo "ensure.sh: checksum mismatch for $url" >&2; return 1
    fi
  done
  for b in "${K8S_BINS[@]}"; do install -m 0755 "$tmp/$b" "$BIN/$b"; done
  rm -rf "$tmp"
  SOURCES+=("kubernetes=download:dl.k8s.io v$K8S")
}

build_k8s() {
  local dir="$PREFIX/src/kubernetes" gomod staging line minor pkgs=() b
  minor="${K8S#*.}"; minor="${minor%%.*}"
  say "Kubernetes v$K8S: resolving k8s.io/kubernetes (wrapper module $dir)"
  new_module "$dir" kubepolaris.local/cluster/kubernetes
  gomod="$(go mod download -json "k8s.io/kubernetes@v$K8S" | json_field GoMod)" || return 1
  # Every `k8s.io/<name> => ./staging/src/k8s.io/<name>` replace becomes the published v0.x.y.
  staging="$(go mod edit -json "$gomod" | node -e '
    const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of m.Replace || []) if (r.New.Path.startsWith("./staging/")) console.log(r.Old.Path);')"
  [[ -n "$staging" ]] || { echo "ensure.sh: no ./staging replaces in $gomod" >&2; return 1; }
  local edits=()
  while IFS= read -r line; do edits+=(-replace "$line=$line@v0.${K8S#*.}"); done <<<"$staging"
  say "Kubernetes: $(wc -l <<<"$staging") staging modules pinned to v0.${K8S#*.}"
  {
    echo '//go:build tools'
    echo
    echo '// Package tools pins the commands this wrapper module builds.'
    echo 'package tools'
    echo
    echo 'import ('
    for b in "${K8S_BINS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; pkgs+=("k8s.io/kubernetes/cmd/$b"); done
    echo ')'
  } > "$dir/tools.go"
  (cd "$dir" && run go mod edit -require "k8s.io/kubernetes@v$K8S" "${edits[@]}" && run go mod tidy) || return 1
  say "Kubernetes: compiling ${K8S_BINS[*]} (cold: ~7 min on 2 cores)"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S -X k8s.io/component-base/version.gitMajor=${K8S%%.*} -X k8s.io/component-base/version.gitMinor=$minor"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=v$K8S -X k8s.io/client-go/pkg/version.gitMajor=${K8S%%.*} -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  (cd "$dir" && run go build -ldflags "$ld" -o "$BIN/" "${pkgs[@]}") || return 1
  SOURCES+=("kubernetes=go:k8s.io/kubernetes@v$K8S (staging at v0.${K8S#*.})")
}

# ------------------------------------------------------------------------------ etcd
download_etcd() {
  local tmp name="etcd-v$ETCD-linux-$ARCH" base="https://github.com/etcd-io/etcd/releases/download/v$ETCD"
  tmp="$(mktemp -d)"
  say "etcd v$ETCD: trying the official download (GitHub releases)"
  if fetch "$base/$name.tar.gz" "$tmp/$name.tar.gz" && fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" &&
     (cd "$tmp" && grep " $name.tar.gz\$" SHA256SUMS | sha256sum -c --quiet - >>"$LOG" 2>&1) &&
     tar -xzf "$tmp/$name.tar.gz" -C "$tmp"; then
    install -m 0755 "$tmp/$name/etcd" "$BIN/etcd"
    rm -rf "$tmp"; SOURCES+=("etcd=download:github.com/etcd-io/etcd v$ETCD"); return 0
  fi
  rm -rf "$tmp"; say "etcd: official download not reachable; building from Go modules"; return 1
}

build_etcd() {
  local dir="$PREFIX/src/etcd"
  say "etcd v$ETCD: building go.etcd.io/etcd/server/v3 (wrapper module $dir, ~1 min)"
  new_module "$dir" kubepolaris.local/cluster/etcd
  printf '//go:build tools\n\n// Package tools pins the command this wrapper module builds.\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > "$dir/tools.go"
  (cd "$dir" && run go mod edit -require "go.etcd.io/etcd/server/v3@v$ETCD" && run go mod tidy &&
    run go build -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3) || return 1
  SOURCES+=("etcd=go:go.etcd.io/etcd/server/v3@v$ETCD")
}

# ------------------------------------------------------------------------------ kwok
download_kwok() {
  local tmp url="https://github.com/kubernetes-sigs/kwok/releases/download/v$KWOK/kwok-linux-$ARCH"
  tmp="$(mktemp -d)"
  say "kwok v$KWOK: trying the official download (GitHub releases)"
  if fetch "$url" "$tmp/kwok"; then
    install -m 0755 "$tmp/kwok" "$BIN/kwok"
    rm -rf "$tmp"; SOURCES+=("kwok=download:github.com/kubernetes-sigs/kwok v$KWOK"); return 0
  fi
  rm -rf "$tmp"; say "kwok: official download not reachable; building from Go modules"; return 1
}

build_kwok() {
  say "kwok v$KWOK: go install sigs.k8s.io/kwok/cmd/kwok@v$KWOK (~1 min)"
  GOBIN="$BIN" run go install -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK" \
    "sigs.k8s.io/kwok/cmd/kwok@v$KWOK" || return 1
  SOURCES+=("kwok=go:sigs.k8s.io/kwok/cmd/kwok@v$KWOK")
}

# ------------------------------------------------------------------------------ CRDs
fetch_crds() {
  local dir mod="github.com/prometheus-operator/prometheus-operator@v$PROMOP"
  say "Prometheus Operator CRDs v$PROMOP: go mod download $mod"
  dir="$(go mod download -json "$mod" | json_field Dir)" || return 1
  rm -rf "$CRDS"; mkdir -p "$CRDS"
  cp "$dir"/example/prometheus-operator-crd/*.yaml "$CRDS/" && chmod u+w "$CRDS"/*.yaml || return 1
  say "Prometheus Operator CRDs: $(ls "$CRDS" | wc -l) files"
  SOURCES+=("prometheus-operator-crds=go:$mod example/prometheus-operator-crd/")
}

rm -f "$STAMP"
fail() { echo "ensure.sh: $* (log: $LOG)" >&2; exit 1; }
say "installing the local control plane binaries into $BIN (log: $LOG)"
fetch_crds || fail "could not fetch the Prometheus Operator CRDs"
download_etcd || build_etcd || fail "could not build etcd v$ETCD"
download_kwok || build_kwok || fail "could not build kwok v$KWOK"
download_k8s || build_k8s || fail "could not build Kubernetes v$K8S"

for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || fail "$BIN/$b is missing after the build"; done
{
  echo "$WANT"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - START ))s"
  printf '%s\n' "${SOURCES[@]}"
} > "$STAMP"
say "done in $(( $(date +%s) - START ))s: $("$BIN/kube-apiserver" --version), etcd $("$BIN/etcd" --version | head -1 | awk '{print $3}')"
sed -n '3,$p' "$STAMP" | sed 's/^/[cluster-bin]   /' >&2
emit

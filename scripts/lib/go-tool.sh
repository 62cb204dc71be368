# Sourced by the installers of single-binary Go tools (scripts/images/crane.sh, scripts/drill/vegeta.sh):
# the steps they share, so each installer holds only its pin, its module and its version check.
#
#   toolchain_dir <who> <folder>      the install folder under ${KUBEPOLARIS_TOOLCHAIN_DIR:-~/.cache/kubepolaris-toolchain};
#                                     refuses a folder inside the repository (build output never lands in git)
#   release_binary <url> <member> <dest>   the official release tarball's binary, if it downloads
#                                     (5 s connect timeout: fast where GitHub is reachable); else exit 1
#   go_build <who> <gobin> <module@version> [go install flags...]
#                                     `go install` from the Go module proxy, niced, outside any go.mod,
#                                     with the module and build caches every Go build here shares
# The caller sets REPO; TOOLCHAIN_ROOT is the cache root every installer shares.

TOOLCHAIN_ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"

toolchain_dir() {
  local dir="$TOOLCHAIN_ROOT/$2"
  case "$dir" in
    "$REPO"|"$REPO"/*) echo "$1: the toolchain dir must be outside the repository ($dir)" >&2; exit 2 ;;
  esac
  echo "$dir"
}

release_binary() {
  local tmp rc=1
  [ "$(uname -sm)" = "Linux x86_64" ] || return 1
  tmp="$(mktemp -d)"
  if curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/release.tgz" "$1" 2>/dev/null \
     && tar -xzf "$tmp/release.tgz" -C "$tmp" "$2" 2>/dev/null; then
    install -D -m 0755 "$tmp/$2" "$3" && rc=0
  fi
  rm -rf "$tmp"
  return "$rc"
}

go_build() {
  local who="$1" gobin="$2" module="$3" tmp rc=0
  shift 3
  command -v go >/dev/null 2>&1 || { echo "$who: the release download failed and Go is not installed: install Go to build $module" >&2; return 2; }
  echo "$who: building $module from the Go module proxy" >&2
  tmp="$(mktemp -d)"
  # Built outside the repository so no go.mod here is picked up; the version comes from the build info.
  (cd "$tmp" && GOBIN="$gobin" GOMODCACHE="$TOOLCHAIN_ROOT/gomod" GOCACHE="$TOOLCHAIN_ROOT/gocache" \
    GOFLAGS="-mod=mod -buildvcs=false -modcacherw" GO111MODULE=on CGO_ENABLED=0 \
    nice -n 10 go install -trimpath "$@" "$module") >&2 || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

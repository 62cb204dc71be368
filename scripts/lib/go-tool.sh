# Sourced by the installers of single-binary Go tools (scripts/images/crane.sh, scripts/drill/vegeta.sh,
# scripts/cluster/metrics-server.sh): the steps they share, so each installer holds only its pin,
# its module and its version check.
#
#   install_go_tool <mode> <name> <version> <is-at-pin> <release url> <tar member> <module@version> [go install flags...]
#                                     the whole installer: <mode> "--check" only looks; otherwise the
#                                     binary <toolchain dir>/<name>-v<version>/<name> is installed once
#                                     (under a lock: parallel test workers), from the release (a tarball,
#                                     or the bare binary when <tar member> is ""), else built;
#                                     `<is-at-pin> <binary>` says whether it is the pinned version.
#                                     Prints the binary's path on stdout; progress on stderr.
#   toolchain_dir <who> <folder>      the install folder under ${KUBEPOLARIS_TOOLCHAIN_DIR:-~/.cache/kubepolaris-toolchain};
#                                     refuses a folder inside the repository (build output never lands in git)
#   release_binary <url> <member> <dest> [<checksums url>]
#                                     the official release tarball's binary, if it downloads (5 s
#                                     connect timeout: fast where GitHub is reachable) and, given the
#                                     release's sha256 checksums file, its line for the tarball matches;
#                                     else exit 1. An empty <member>: <url> is the binary itself
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

# <file> <its name in the release> <checksums url>: the release's sha256 list has <name> with <file>'s hash.
checksum_matches() {
  local sums want
  sums="$(curl -fsSL --connect-timeout 5 --max-time 60 "$3" 2>/dev/null)" || return 1
  want="$(awk -v f="$2" '$2 == f || $2 == "*" f { print $1; exit }' <<<"$sums")"
  [ -n "$want" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$want" ]
}

release_binary() {
  local tmp rc=1
  [ "$(uname -sm)" = "Linux x86_64" ] || return 1
  tmp="$(mktemp -d)"
  if [ -z "$2" ]; then
    curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/binary" "$1" 2>/dev/null \
      && { [ -z "${4:-}" ] || checksum_matches "$tmp/binary" "${1##*/}" "$4"; } \
      && install -D -m 0755 "$tmp/binary" "$3" && rc=0
  elif curl -fsSL --connect-timeout 5 --max-time 120 -o "$tmp/release.tgz" "$1" 2>/dev/null \
     && { [ -z "${4:-}" ] || checksum_matches "$tmp/release.tgz" "${1##*/}" "$4"; } \
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

install_go_tool() {
  local mode="$1" name="$2" version="$3" at_pin="$4" url="$5" member="$6" module="$7" prefix bin
  shift 7
  prefix="$(toolchain_dir "$name.sh" "$name-v$version")"
  bin="$prefix/$name"
  if [ "$mode" = "--check" ] || "$at_pin" "$bin"; then
    "$at_pin" "$bin" && { echo "$bin"; return 0; }
    return 1
  fi
  mkdir -p "$prefix"
  # One installer at a time; the second one finds the binary.
  exec 9>"$TOOLCHAIN_ROOT/.$name-v$version.lock"
  flock 9
  if ! "$at_pin" "$bin"; then
    if release_binary "$url" "$member" "$bin"; then
      echo "$name.sh: $name $version from the official release" >&2
    else
      go_build "$name.sh" "$prefix" "$module" "$@"
    fi
  fi
  exec 9>&-
  "$at_pin" "$bin" || { echo "$name.sh: $bin is not $name $version" >&2; return 1; }
  echo "$bin"
}

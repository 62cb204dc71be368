# Sourced by scripts/app/*.sh: where an app build's source and cache are, and the cache discipline.
# Sourcing it sets REPO, the pinned versions (scripts/toolchain.versions) and ROOT (the cache).
# shellcheck disable=SC2034 # REPO, ROOT, SRC, LOG are for the scripts that source this
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../toolchain.versions
source "$REPO/scripts/toolchain.versions"
ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"

# `app_source NAME WHAT SUBDIR FILE...` sets SRC: the release source ($KUBEPOLARIS_APP_SRC, default
# ../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION beside the repo), then SUBDIR; it exits
# naming WHAT is missing when a FILE is not there.
app_source() {
  local name="$1" what="$2" sub="$3" file
  shift 3
  SRC="${KUBEPOLARIS_APP_SRC:-$REPO/../shared/vendor/kubepolaris-$KUBEPOLARIS_APP_VERSION}${sub:+/$sub}"
  for file in "$@"; do
    if [[ ! -f "$SRC/$file" ]]; then
      echo "$name: no KubePolaris $what at $SRC (set KUBEPOLARIS_APP_SRC to a checkout of" >&2
      echo "  github.com/clay-wangzhi/KubePolaris at tag kubepolaris-$KUBEPOLARIS_APP_VERSION)" >&2
      exit 1
    fi
  done
}

# `app_cache_begin NAME OUT TEST MODE TOOL WHAT` prints OUT and exits when it is built (`test -TEST
# OUT`); with MODE --check it exits 1 when it is not; otherwise it takes the build's lock (one build
# at a time: two test runs may start it together, and the second then finds the first's result),
# checks that TOOL is installed, sets LOG (the build's log beside OUT) and says it builds WHAT.
app_cache_begin() {
  local name="$1" out="$2" test="$3" mode="$4" tool="$5" what="$6"
  if test "-$test" "$out"; then echo "$out"; exit 0; fi
  [[ "$mode" == --check ]] && { echo "$name: not built yet ($out)" >&2; exit 1; }
  mkdir -p "$(dirname "$out")"
  exec 9>"$(dirname "$out")/.lock"
  command -v flock >/dev/null && flock 9
  if test "-$test" "$out"; then echo "$out"; exit 0; fi
  command -v "$tool" >/dev/null || { echo "$name: $tool is required" >&2; exit 1; }
  APP_BUILD_START=$(date +%s)
  LOG="$(dirname "$out")/build.log"
  echo "[app] building the KubePolaris $KUBEPOLARIS_APP_VERSION $what from $SRC" >&2
}

# `app_build_failed LINES`: the end of the build's log, then exit 1.
app_build_failed() {
  tail -"$1" "$LOG" >&2
  exit 1
}

# `app_build_done OUT`: says how long the build took, prints OUT.
app_build_done() {
  echo "[app] built in $(( $(date +%s) - APP_BUILD_START ))s: $1" >&2
  echo "$1"
}

# Sourced by scripts/app/*.sh: the cache discipline of an app build. `app_cache_begin NAME OUT TEST
# [--check]` prints OUT and exits when it is built (`test -TEST OUT`); with --check it exits 1 when
# it is not; otherwise it takes the build's lock (one build at a time: two test runs may start it
# together, and the second then finds the first's result) and returns, the build to follow.
app_cache_begin() {
  local name="$1" out="$2" test="$3" mode="${4:-}"
  if test "-$test" "$out"; then echo "$out"; exit 0; fi
  [[ "$mode" == --check ]] && { echo "$name: not built yet ($out)" >&2; exit 1; }
  mkdir -p "$(dirname "$out")"
  exec 9>"$(dirname "$out")/.lock"
  command -v flock >/dev/null && flock 9
  if test "-$test" "$out"; then echo "$out"; exit 0; fi
  return 0
}

# Shared by scripts/cluster/cluster.sh and its parts (scripts/cluster/parts/*.sh); sourced, not run.
#
# Processes: each runs in its own session and process group, its pid in $PIDS/<name>.pid, its output
# in $LOGS/<name>.log, and its command line names a file under $STATE (alive() and strays() rely on
# it, so a process is never found by its name alone).
#
# The ledger ($STATE/ledger): every thing a part makes outside its own files (a process, a network
# link, a route, an iptables chain, a cgroup, a changed sysctl, mounts under a folder) is recorded
# with `record <kind> <args...>` right after it is made. `undo_ledger` undoes the lines newest
# first, so `down` is the exact inverse of `up`, whatever subset of it ran.

say() { printf '[cluster %5.1fs] %s\n' "$(( ($(date +%s%N) - START) / 1000000 ))e-3" "$*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }

# ------------------------------------------------------------------------ processes
pid_of() { [[ -f "$PIDS/$1.pid" ]] && cat "$PIDS/$1.pid"; }
# Alive and still the process we started (its command line names this state dir).
alive() {
  local pid; pid="$(pid_of "$1")" || return 1
  [[ -n "$pid" ]] && runs_from_state "$pid"
}
runs_from_state() { # <pid>: its command line names this cluster's state (a reused pid does not)
  [[ -r "/proc/$1/cmdline" ]] && { tr '\0' ' ' < "/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$STATE/"
}

start() { # <name> <binary> <args...>: its own session and process group, log in $LOGS
  local name="$1"; shift
  echo "==== $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$LOGS/$name.log"
  # 8>&-: the child must not inherit the state lock (see lock()).
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null 8>&- 9>&- &
  local pid=$! i
  echo "$pid" > "$PIDS/$name.pid"
  record process "$name"
  # Until the child has exec'd, its command line is this shell's and alive() would call it gone
  # (a busy host once failed CoreDNS "during start-up" that way): wait for the exec, up to 10 s.
  for ((i = 0; i < 100; i++)); do
    [[ -r "/proc/$pid/cmdline" ]] || break
    runs_from_state "$pid" && break
    sleep 0.1
  done
  # setsid forks when its caller leads a process group, and the pid above is then gone at once:
  # record the process it started (the binary, naming this state dir) instead.
  if ! runs_from_state "$pid"; then
    local p
    for p in $(pgrep -f -- "$1" 2>/dev/null); do
      if runs_from_state "$p"; then echo "$p" > "$PIDS/$name.pid"; break; fi
    done
  fi
}

stop() { # <name>: TERM its process group, KILL what is left after 10 s
  local name="$1" pid i
  pid="$(pid_of "$name")" || return 0
  if alive "$name"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    # A partitioned node's processes are stopped: they act on TERM only once continued.
    kill -CONT -- "-$pid" 2>/dev/null || kill -CONT "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$name" || break
      sleep 0.1
    done
    if alive "$name"; then
      say "$name did not stop in 10 s: killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

# Pids of processes whose command line names <text> (a state path), never found by name alone.
pids_naming() {
  local p
  for p in /proc/[0-9]*; do
    [[ "${p#/proc/}" == "$$" ]] && continue
    if { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -qF -- "$1"; then echo "${p#/proc/}"; fi
  done
}

kill_naming() { # <text>: TERM, then KILL after 5 s, every process whose command line names <text>
  local pid i
  for pid in $(pids_naming "$1"); do kill -TERM "$pid" 2>/dev/null || true; kill -CONT "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do [[ -z "$(pids_naming "$1")" ]] && return 0; sleep 0.1; done
  for pid in $(pids_naming "$1"); do kill -KILL "$pid" 2>/dev/null || true; done
  sleep 0.2
}

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

fail_component() { # <name> <why>: the tail of its log, then undo what this run made
  echo "cluster: $1 $2; the last 30 lines of $LOGS/$1.log:" >&2
  tail -30 "$LOGS/$1.log" 2>/dev/null | sed 's/^/  | /' >&2
  echo "cluster: stopping what was started; logs stay in $LOGS until 'npm run cluster:down'" >&2
  undo_ledger
  exit 1
}

wait_for() { # <name> <timeout s> <command...>: until the command succeeds; fail if the process dies
  local name="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    # Dead only if still dead a moment later (a process is never called dead on one reading).
    if [[ -f "$PIDS/$name.pid" ]] && ! alive "$name"; then sleep 1; alive "$name" || fail_component "$name" "exited during start-up"; fi
    (( $(date +%s) < deadline )) || fail_component "$name" "was not healthy within ${timeout}s"
    sleep 0.2
  done
}

https_ok() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1"; }
http_ok() { curl -fsS --max-time 2 "$1"; }
insecure_ok() { curl -fsSk --max-time 2 "$1"; }

# --------------------------------------------------------------------------- ledger
record() { # <kind> <args...>: one line "<part> <kind> <args...>", tab-separated; $PART is the part starting
  local IFS=$'\t'
  echo "${PART:-cluster}"$'\t'"$*" >> "$STATE/ledger"
}

# Everything mounted at or under <dir> (deepest first), from this mount namespace's table.
mounts_under() {
  awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' /proc/self/mountinfo |
    awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

unmount_under() { # <dir>
  local m
  while IFS= read -r m; do
    [[ -n "$m" ]] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
  done < <(mounts_under "$1")
}

CGROUP_FS=/sys/fs/cgroup
cgroup_controllers() { # the v1 hierarchies a cgroup path is made in
  local d
  for d in "$CGROUP_FS"/*/; do
    d="${d%/}"
    [[ "${d##*/}" == unified ]] && continue
    [[ -f "$d/cgroup.procs" ]] && echo "$d"
  done
}

make_cgroup() { # <path>: in every v1 hierarchy, cpuset's cpus/mems copied from the parent
  local d
  for d in $(cgroup_controllers); do
    mkdir -p "$d$1"
    if [[ -f "$d$1/cpuset.cpus" ]]; then
      [[ -s "$d$1/cpuset.cpus" ]] || cat "$d/cpuset.cpus" > "$d$1/cpuset.cpus"
      [[ -s "$d$1/cpuset.mems" ]] || cat "$d/cpuset.mems" > "$d$1/cpuset.mems"
    fi
  done
  record cgroup "$1"
}

remove_cgroup() { # <path>: every process in it killed, then every folder, deepest first
  local d dir pid f i left
  # Retried for up to 10 s: a killed task leaves its cgroup only once the kernel has reaped it, and
  # rmdir fails (EBUSY) until then; one pass left node cgroups behind on a busy CI host.
  for ((i = 0; i < 50; i++)); do
    # A frozen task ignores SIGKILL until thawed (runc freezes a container while it kills it).
    while IFS= read -r f; do echo THAWED > "$f" 2>/dev/null || true; done \
      < <(find "$CGROUP_FS/freezer$1" -name freezer.state 2>/dev/null)
    pid="$(find "$CGROUP_FS"/*"$1" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)"
    # shellcheck disable=SC2086
    [[ -n "$pid" ]] && { kill -KILL $pid 2>/dev/null || true; }
    left=""
    # The kubelet and runc also make the path in the unified (v2) hierarchy of this hybrid layout.
    for d in $(cgroup_controllers) "$CGROUP_FS/unified"; do
      [[ -d "$d$1" ]] || continue
      while IFS= read -r dir; do rmdir "$dir" 2>/dev/null || true; done < <(find "$d$1" -depth -type d 2>/dev/null)
      [[ -d "$d$1" ]] && left+=" ${d##*/}"
    done
    [[ -z "$left" ]] && return 0
    sleep 0.2
  done
  say "cgroup $1 still present after 10 s in:$left (tasks: ${pid:-none})"
  return 1
}

set_sysctl() { # <key> <value>: recorded with the value it had
  local f="/proc/sys/${1//.//}" old
  old="$(cat "$f")"
  [[ "$old" == "$2" ]] && return 0
  record sysctl "$1" "$old"
  echo "$2" > "$f"
}

undo_line() { # <kind> <args...>
  local kind="$1"; shift
  case "$kind" in
    process) stop "$1" ;;
    processes-naming) kill_naming "$1" ;;
    mounts-under) unmount_under "$1" ;;
    tasks-of) undo_tasks_of "$1" ;;
    file) rm -f "$1" ;;
    link) ip link del "$1" 2>/dev/null || true ;;
    route) ip route del "$@" 2>/dev/null || true ;;
    address) ip addr del "$1" dev "$2" 2>/dev/null || true ;;
    chain) # <table> <chain> <parent chain>
      while iptables -w -t "$1" -D "$3" -j "$2" 2>/dev/null; do :; done
      iptables -w -t "$1" -F "$2" 2>/dev/null || true
      iptables -w -t "$1" -X "$2" 2>/dev/null || true ;;
    chains-since) undo_chains_since "$1" ;;
    ipsets-since) # the sets kube-router made: KUBE-SRC-*, KUBE-DST-*, kube-router-*
      ipset list -n 2>/dev/null | grep -vxFf "$1" | grep -E '^(KUBE-|kube-router)' | while read -r set; do
        ipset destroy "$set" 2>/dev/null || true
      done ;;
    cgroup) remove_cgroup "$1" ;;
    sysctl) echo "$2" > "/proc/sys/${1//.//}" 2>/dev/null || true ;;
    command) "$@" >> "$LOGS/down.log" 2>&1 || true ;;
    *) say "ledger: unknown kind '$kind' (ignored)" ;;
  esac
}

undo_ledger() { # [<part>]: that part's lines (or all), newest first; they leave the ledger
  [[ -f "$STATE/ledger" ]] || return 0
  local line keep="$STATE/ledger.keep"
  local -a f
  : > "$keep"
  while IFS= read -r line; do
    [[ -n "$line" ]] || continue
    IFS=$'\t' read -r -a f <<<"$line"
    if [[ -n "${1:-}" && "${f[0]}" != "$1" ]]; then echo "$line" >> "$keep"; continue; fi
    # `|| true`: an undo step that fails (a thing already gone) never stops the ones after it.
    undo_line "${f[@]:1}" || true
  done < <(tac "$STATE/ledger")
  tac "$keep" > "$STATE/ledger"; rm -f "$keep"
}

# ------------------------------------------------------------------- iptables chains
# Chains in the filter, nat and mangle tables, as "<table> <chain>" lines.
chain_list() {
  local t
  for t in filter nat mangle; do
    iptables-save -t "$t" 2>/dev/null | sed -n "s/^:\([^ ]*\) .*/$t \1/p"
  done
}

# Chains the processes of this cluster made (kubelet's canaries, kube-proxy's, CNI's) that were not
# there before: <file> holds the list from before. Jumps to them go first, then the chains.
undo_chains_since() {
  local t c
  [[ -f "$1" ]] || return 0
  while read -r t c; do
    case "$c" in KUBE-*|CNI-*|KUBEPOLARIS-*) ;; *) continue ;; esac
    { iptables-save -t "$t" | grep -E -- "-j $c( |\$)" || true; } | sed 's/^-A /-D /' | while read -r rule; do
      eval "iptables -w -t $t $rule" 2>/dev/null || true
    done
  done < <(chain_list | grep -vxFf "$1")
  while read -r t c; do
    case "$c" in KUBE-*|CNI-*|KUBEPOLARIS-*) ;; *) continue ;; esac
    iptables -w -t "$t" -F "$c" 2>/dev/null || true
  done < <(chain_list | grep -vxFf "$1")
  while read -r t c; do
    case "$c" in KUBE-*|CNI-*|KUBEPOLARIS-*) ;; *) continue ;; esac
    iptables -w -t "$t" -X "$c" 2>/dev/null || true
  done < <(chain_list | grep -vxFf "$1")
}

#!/usr/bin/env bash
# The local Kubernetes cluster: no Docker, no cloud, everything on this host.
#
#   scripts/cluster/cluster.sh up          start it (or reuse the running one); last line: the kubeconfig
#   scripts/cluster/cluster.sh down        undo everything it made (processes, links, routes, chains,
#                                          cgroups, mounts, sysctls); remove its state
#   scripts/cluster/cluster.sh kubeconfig  print the kubeconfig's path (exit 1 when not running)
#   scripts/cluster/cluster.sh status      one line per part: ready / not ready
#   scripts/cluster/cluster.sh load IMAGE...  real nodes: build the local images (scripts/cluster/
#                                          images.sh) if needed and import them into every node
#   scripts/cluster/cluster.sh partition NODE...  real nodes: stop those nodes as lost machines stop
#                                          (pods frozen, kubelet, containerd and shims stopped); the drills' zone loss
#   scripts/cluster/cluster.sh heal NODE...   undo partition
#   (npm run cluster:up, npm run cluster:down, npm run --silent cluster:kubeconfig)
#
# Two kinds (KUBEPOLARIS_CLUSTER_KIND):
#   real (default; root only): etcd, kube-apiserver, controller-manager, scheduler, and real nodes:
#        node1..node<N> in zone-a/b/c, each a kubelet with its own containerd (runc), one kube-proxy
#        (iptables), CoreDNS, kube-router (NetworkPolicies) and metrics-server (metrics.k8s.io, for
#        HPAs); pods run. One real cluster per host (host-wide names: bridges
#        kp-br<n>, the node link kp-node, cgroups /kubepolaris-node<n>, kube-proxy's chains).
#   kwok: the same control plane with kwok's fake nodes (6 by default; pods are marked Ready after
#        KUBEPOLARIS_POD_START_DELAY, nothing runs). For what needs more nodes than this host can
#        run: the drills. Any number of kwok clusters can run side by side.
#
# The cluster is a list of parts (PARTS below, in start order); each has <part>_start and
# <part>_ready in scripts/cluster/parts/*.sh, and records what it makes outside its own files in
# the ledger (scripts/cluster/lib.sh), so `down` undoes exactly that, newest first. The objects
# part also applies (gateway-api.sh) the Gateway API CRDs with the `traefik` GatewayClass and namespace
# the local stack's edge uses.
#
# Settings (environment):
#   KUBEPOLARIS_CLUSTER_KIND       real (default) or kwok
#   KUBEPOLARIS_CLUSTER_DIR        state: pki, kubeconfig, etcd data, nodes/, volumes, logs/, pids/,
#                                  the ledger (default ~/.cache/kubepolaris-cluster; `down` removes it)
#   KUBEPOLARIS_CLUSTER_PORT_BASE  ports used: base+3 apiserver, +4/+5 etcd client/peer,
#                                  +6 controller-manager, +7 scheduler, +8 kwok; real nodes:
#                                  +11.. kubelets, +21.. their healthz, +30/+31 kube-proxy,
#                                  +32 metrics-server (on the node address)
#   KUBEPOLARIS_CLUSTER_NODES      nodes: real 3..6 (default 3), kwok ≥ 3 (default 6), round-robin over 3 zones
#   KUBEPOLARIS_POD_START_DELAY    kwok only: scheduled → Ready, e.g. 10s, 2500ms, 0 (default 10s: the
#                                  backend readiness probe's initialDelaySeconds, components/probes.ts)
#   KUBEPOLARIS_POD_STOP_DELAY     kwok only: deletion → gone (default 0s)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${KUBEPOLARIS_CLUSTER_DIR:-$HOME/.cache/kubepolaris-cluster}"
PKI="$STATE/pki" LOGS="$STATE/logs" PIDS="$STATE/pids"
KUBECONFIG_FILE="$STATE/kubeconfig"
READY_MARK="$STATE/ready"
FAKE_NODE_LABEL="kwok.x-k8s.io/node"
ZONES=(zone-a zone-b zone-c)
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
# The node address (real nodes): on the node link kp-node, never routed off this host.
NODE_IP=10.99.0.1
# One real cluster per host: this file names the state dir of the one running.
HOST_CLAIM=/run/kubepolaris-real-cluster
CNI_BIN=/usr/lib/cni
START=$(date +%s%N)

# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=parts/control-plane.sh
source "$HERE/parts/control-plane.sh"
# shellcheck source=parts/real-nodes.sh
source "$HERE/parts/real-nodes.sh"
# shellcheck source=parts/objects.sh
source "$HERE/parts/objects.sh"
# shellcheck source=parts/metrics.sh
source "$HERE/parts/metrics.sh"

# --------------------------------------------------------------------------- settings
# Kind and ports are fixed by the state dir once chosen, so `down` and `kubeconfig` agree with `up`.
load_settings() {
  if [[ -f "$STATE/settings.env" ]]; then
    # shellcheck source=/dev/null
    source "$STATE/settings.env"
  else
    KIND="${KUBEPOLARIS_CLUSTER_KIND:-real}"
    [[ $KIND == real || $KIND == kwok ]] || die "KUBEPOLARIS_CLUSTER_KIND: got '$KIND'; allowed: real, kwok"
    PORT_BASE="${KUBEPOLARIS_CLUSTER_PORT_BASE:-16440}"
    [[ "$PORT_BASE" =~ ^[0-9]+$ ]] && (( PORT_BASE > 1024 && PORT_BASE < 65000 )) ||
      die "KUBEPOLARIS_CLUSTER_PORT_BASE: got '$PORT_BASE'; allowed: a number from 1025 to 64999"
    local nodes="${KUBEPOLARIS_CLUSTER_NODES:-}"
    if [[ $KIND == real ]]; then
      nodes="${nodes:-3}"
      [[ "$nodes" =~ ^[0-9]+$ ]] && (( nodes >= 3 && nodes <= 6 )) ||
        die "KUBEPOLARIS_CLUSTER_NODES: got '$nodes'; allowed with real nodes: 3 to 6 (one kubelet and containerd each, on this host)"
      REAL_NODES=$nodes KWOK_NODES=0
    else
      nodes="${nodes:-6}"
      [[ "$nodes" =~ ^[0-9]+$ ]] && (( nodes >= 3 )) ||
        die "KUBEPOLARIS_CLUSTER_NODES: got '$nodes'; allowed: a number ≥ 3 (nodes spread over 3 zones)"
      REAL_NODES=0 KWOK_NODES=$nodes
    fi
  fi
  PORT_APISERVER=$((PORT_BASE + 3)) PORT_ETCD=$((PORT_BASE + 4)) PORT_ETCD_PEER=$((PORT_BASE + 5))
  PORT_KCM=$((PORT_BASE + 6)) PORT_SCHEDULER=$((PORT_BASE + 7)) PORT_KWOK=$((PORT_BASE + 8))
  if [[ $KIND == real ]]; then API_ADDR=$NODE_IP; else API_ADDR=127.0.0.1; fi
  PARTS=(pki)
  if [[ $KIND == real ]]; then
    PARTS+=(hostnet etcd apiserver controllers)
    local n; for ((n = 1; n <= REAL_NODES; n++)); do PARTS+=("node$n"); done
    PARTS+=(proxy objects dns netpol metrics)
  else
    PARTS+=(etcd apiserver controllers kwok objects)
  fi
}
save_settings() {
  printf 'KIND=%s PORT_BASE=%s REAL_NODES=%s KWOK_NODES=%s\n' "$KIND" "$PORT_BASE" "$REAL_NODES" "$KWOK_NODES" > "$STATE/settings.env"
}
all_ports() {
  local p=("$PORT_ETCD" "$PORT_ETCD_PEER" "$PORT_APISERVER" "$PORT_KCM" "$PORT_SCHEDULER") n
  if [[ $KIND == kwok ]]; then p+=("$PORT_KWOK"); fi
  for ((n = 1; n <= REAL_NODES; n++)); do p+=($((PORT_BASE + 10 + n)) $((PORT_BASE + 20 + n))); done
  if [[ $KIND == real ]]; then p+=($((PORT_BASE + 30)) $((PORT_BASE + 31)) "$(metrics_port)"); fi
  echo "${p[@]}"
}

# "10s", "2500ms", "1m", "0" → milliseconds.
duration_ms() { # <name> <value>
  local v="$2"
  case "$v" in
    *ms) v="${v%ms}"; [[ "$v" =~ ^[0-9]+$ ]] && { echo "$v"; return; } ;;
    *s) v="${v%s}"; [[ "$v" =~ ^[0-9]+$ ]] && { echo $((v * 1000)); return; } ;;
    *m) v="${v%m}"; [[ "$v" =~ ^[0-9]+$ ]] && { echo $((v * 60000)); return; } ;;
    *) [[ "$v" =~ ^[0-9]+$ ]] && { echo $((v * 1000)); return; } ;;
  esac
  die "$1: got '$2'; allowed: a duration like 10s, 2500ms, 1m or a number of seconds"
}

# A part's functions: node<N> parts share node_start/node_ready.
part_ready() { case "$1" in node*) node_ready "${1#node}" ;; *) "${1}_ready" ;; esac; }
part_start() { case "$1" in node*) node_start "${1#node}" ;; *) "${1}_start" ;; esac; }

# What real nodes need from this host: root, and Debian's containerd, runc, CNI plugins, iptables,
# conntrack (scripts/cluster/ensure.sh --node installs them).
check_real_host() {
  local c
  for c in containerd containerd-shim-runc-v2 runc ctr iptables iptables-save conntrack ipset ip; do
    command -v "$c" >/dev/null || die "real nodes need '$c' (run scripts/cluster/ensure.sh --node as root)"
  done
  [[ -x "$CNI_BIN/bridge" && -x "$CNI_BIN/host-local" && -x "$CNI_BIN/loopback" ]] ||
    die "real nodes need the CNI plugins in $CNI_BIN (Debian containernetworking-plugins; scripts/cluster/ensure.sh --node)"
  [[ -d "$CGROUP_FS/memory" ]] || die "real nodes here expect cgroup v1 hierarchies under $CGROUP_FS"
  if [[ -f "$HOST_CLAIM" ]]; then
    local other; other="$(cat "$HOST_CLAIM")"
    if [[ "$other" != "$STATE" && -d "$other" ]]; then
      die "another real-node cluster runs on this host (state: $other); stop it first: KUBEPOLARIS_CLUSTER_DIR=$other npm run cluster:down"
    fi
  fi
}

# ----------------------------------------------------------------------------- verbs
lock() { mkdir -p "$STATE"; exec 8>"$STATE/.lock"; flock 8; }

cmd_up() {
  # Refused before anything is built or made.
  local kind="${KUBEPOLARIS_CLUSTER_KIND:-real}"
  [[ -f "$STATE/settings.env" ]] && kind="$(sed -n 's/^KIND=\([a-z]*\).*/\1/p' "$STATE/settings.env")"
  if [[ $kind == real && "$(id -u)" -ne 0 ]]; then
    die "real nodes need root (kubelet, containerd, runc, iptables, cgroups); run as root, or use KUBEPOLARIS_CLUSTER_KIND=kwok for fake nodes"
  fi
  if pki_outdated; then
    die "$STATE was made by an older scripts/cluster/cluster.sh: its certificates and API server lack the aggregation layer (front-proxy CA, metrics-server's certificates), so it cannot serve metrics.k8s.io; nothing was changed. Stop it and start it anew: KUBEPOLARIS_CLUSTER_DIR=$STATE scripts/cluster/cluster.sh down, then up again"
  fi
  BIN="$(bash "$HERE/ensure.sh" | tail -1)" || die "scripts/cluster/ensure.sh failed"
  CRDS="$(bash "$HERE/ensure.sh" --crds | tail -1)"
  lock
  load_settings
  if [[ $KIND == real ]]; then
    check_real_host
    ADDONS_BIN="$(bash "$HERE/ensure.sh" --node | tail -1)" || die "scripts/cluster/ensure.sh --node failed"
    METRICS_SERVER_BIN="$(bash "$HERE/metrics-server.sh" | tail -1)" || die "scripts/cluster/metrics-server.sh failed"
    PAUSE_IMAGE="$(bash "$HERE/images.sh" pause | tail -1)" || die "scripts/cluster/images.sh pause failed"
    bash "$HERE/images.sh" busybox >/dev/null || die "scripts/cluster/images.sh busybox failed"
    COREDNS_IMAGE="$(bash "$HERE/images.sh" coredns | tail -1)" || die "scripts/cluster/images.sh coredns failed"
    NODE_IMAGES=("$(bash "$HERE/images.sh" --tar pause)" "$(bash "$HERE/images.sh" --tar busybox)" "$(bash "$HERE/images.sh" --tar coredns)")
  else
    START_DELAY_MS="$(duration_ms KUBEPOLARIS_POD_START_DELAY "${KUBEPOLARIS_POD_START_DELAY:-10s}")"
    STOP_DELAY_MS="$(duration_ms KUBEPOLARIS_POD_STOP_DELAY "${KUBEPOLARIS_POD_STOP_DELAY:-0s}")"
  fi
  local part all_ready=1
  for part in "${PARTS[@]}"; do part_ready "$part" || { all_ready=0; break; }; done
  if [[ $all_ready == 1 ]]; then
    recycle_released_volumes
    say "already running (state: $STATE); reusing it"
    echo "$KUBECONFIG_FILE"
    return 0
  fi
  mkdir -p "$LOGS" "$PIDS"
  if [[ ! -f "$STATE/ledger" ]]; then
    local p
    for p in $(all_ports); do
      port_busy "$p" && die "port $p is in use by another process ($(ss -Htlnp "sport = :$p" | head -1)); set KUBEPOLARIS_CLUSTER_PORT_BASE"
    done
  fi
  save_settings
  if [[ $KIND == real && ! -f "$HOST_CLAIM" ]]; then
    echo "$STATE" > "$HOST_CLAIM"; PART=cluster record file "$HOST_CLAIM"
  fi
  # Interrupted or failed half-way: leave no half-started cluster behind (the logs stay until `down`).
  trap 'echo "cluster: interrupted; undoing what was started" >&2; undo_ledger; exit 130' INT TERM
  trap 'rc=$?; if ((rc != 0)); then echo "cluster: up failed; undoing what was started (logs: $LOGS)" >&2; undo_ledger; fi' EXIT
  say "starting a $KIND cluster (state: $STATE, logs: $LOGS)"
  rm -f "$READY_MARK"
  for part in "${PARTS[@]}"; do
    PART="$part"
    part_ready "$part" && continue
    undo_ledger "$part"   # what is left of it (a process that died)
    part_start "$part"
  done
  PART=cluster
  trap - EXIT
  touch "$READY_MARK"
  recycle_released_volumes
  say "up: $(kubectl_ get nodes --no-headers | wc -l) nodes Ready in ${#ZONES[@]} zones; kubectl --kubeconfig $KUBECONFIG_FILE get nodes -L topology.kubernetes.io/zone"
  echo "$KUBECONFIG_FILE"
}

cmd_down() {
  if [[ ! -d "$STATE" ]]; then say "not running (no $STATE)"; return 0; fi
  lock
  load_settings
  say "undoing what the cluster made ($(wc -l < "$STATE/ledger" 2>/dev/null || echo 0) ledger lines), newest first"
  undo_ledger
  local c pid
  # Processes naming the state dir without a ledger line (an `up` killed before it recorded them).
  for pid in $(pids_naming "$STATE/"); do
    say "stopping leftover process $pid"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.1
  for pid in $(pids_naming "$STATE/"); do kill -KILL "$pid" 2>/dev/null || true; done
  unmount_under "$STATE"
  for c in $(all_ports); do
    port_busy "$c" && say "warning: port $c is still in use: $(ss -Htlnp "sport = :$c" | head -1)"
  done
  rm -rf "$STATE"
  say "down: every process stopped, $STATE removed"
}

cmd_kubeconfig() {
  load_settings
  [[ -f "$KUBECONFIG_FILE" && -f "$READY_MARK" ]] || die "not running: start it with npm run cluster:up"
  echo "$KUBECONFIG_FILE"
}

cmd_status() {
  [[ -f "$STATE/settings.env" ]] || { echo "not running (no $STATE/settings.env)"; return 0; }
  load_settings
  local part
  for part in "${PARTS[@]}"; do
    if part_ready "$part"; then echo "$part ready"; else echo "$part not ready"; fi
  done
}

cmd_load() {
  load_settings
  [[ -f "$READY_MARK" ]] || die "not running: start it with npm run cluster:up"
  [[ $KIND == real ]] || { say "kwok nodes run no containers: nothing to load"; return 0; }
  local image n tar pids=() failed=0
  # Built side by side (each under its own lock): a cold build is mostly waiting on apt and mmdebstrap.
  for image in "$@"; do
    bash "$HERE/images.sh" --tar "$image" > "$STATE/.image-$image" 2>> "$LOGS/images.log" & pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || die "scripts/cluster/images.sh failed (log: $LOGS/images.log)"
  local tars=()
  for image in "$@"; do
    tars+=("$(tail -1 "$STATE/.image-$image")")
    rm -f "$STATE/.image-$image"
  done
  # Every node imports at once (each has its own containerd): a third of the time on a new cluster.
  pids=()
  for ((n = 1; n <= REAL_NODES; n++)); do
    ( for tar in "${tars[@]}"; do import_image "$n" "$tar" || exit 1; done ) & pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || die "could not import the images into every node (log: $LOGS/images.log)"
  for tar in "${tars[@]}"; do say "$(basename "$tar" .tar) on ${REAL_NODES} nodes"; done
}

# partition / heal node<N>...: see node_partition in parts/real-nodes.sh.
cmd_partition() { # <partition|heal> <node>...
  local verb="$1" node; shift
  load_settings
  [[ -f "$READY_MARK" ]] || die "not running: start it with npm run cluster:up"
  [[ $KIND == real ]] || die "$verb: real nodes only (kwok's nodes run nothing to stop)"
  (($# > 0)) || die "$verb: name the nodes, e.g. node2"
  for node in "$@"; do
    [[ $node =~ ^node([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 1 && BASH_REMATCH[1] <= REAL_NODES)) ||
      die "$verb: got '$node'; allowed: node1..node$REAL_NODES"
  done
  for node in "$@"; do "node_$verb" "${node#node}"; done
}

case "${1:-}" in
  up) cmd_up ;;
  partition|heal) verb="$1"; shift; cmd_partition "$verb" "$@" ;;
  load) shift; cmd_load "$@" ;;
  down) cmd_down ;;
  kubeconfig) cmd_kubeconfig ;;
  status) cmd_status ;;
  -h|--help|"") sed -n '2,43p' "$0" ;;
  *) die "unknown command '$1'; allowed: up, down, kubeconfig, status, load, partition, heal" ;;
esac

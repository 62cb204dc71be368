#!/usr/bin/env bash
# The local Kubernetes control plane: no Docker, no cloud, every server on 127.0.0.1.
#
#   scripts/cluster/cluster.sh up          start it (or reuse the running one); last line: the kubeconfig
#   scripts/cluster/cluster.sh down        stop every process it started; remove its state, logs, ports
#   scripts/cluster/cluster.sh kubeconfig  print the kubeconfig's path (exit 1 when not running)
#   scripts/cluster/cluster.sh status      one line per component: running / stopped
#   (npm run cluster:up, npm run cluster:down, npm run --silent cluster:kubeconfig)
#
# What `up` starts: etcd, kube-apiserver (admission defaults plus PodSecurity, ResourceQuota,
# LimitRanger), kube-controller-manager, kube-scheduler and kwok, which fakes the nodes: 6 nodes in
# 3 zones (zone-a/b/c, 4 CPU / 16 Gi / 110 pods each) and makes scheduled pods Running at once and
# Ready after KUBEPOLARIS_POD_START_DELAY. Then it applies what the program expects around it: the
# Prometheus Operator CRDs, the `nginx` IngressClass, the `ingress-nginx` namespace, a default
# StorageClass with pre-made PersistentVolumes (there is no provisioner), and (gateway-api.sh) the
# Gateway API CRDs with the `traefik` GatewayClass and namespace the local stack's edge uses.
# The binaries come from scripts/cluster/ensure.sh (built once into the toolchain cache).
#
# Settings (environment):
#   KUBEPOLARIS_CLUSTER_DIR        state: pki, kubeconfig, etcd data, volumes, logs/, pids/
#                                  (default ~/.cache/kubepolaris-cluster; `down` removes it)
#   KUBEPOLARIS_CLUSTER_PORT_BASE  ports used: base+3 apiserver, +4/+5 etcd client/peer,
#                                  +6 controller-manager, +7 scheduler, +8 kwok (default 16440)
#   KUBEPOLARIS_CLUSTER_NODES      fake nodes, spread round-robin over 3 zones (default 6)
#   KUBEPOLARIS_POD_START_DELAY    scheduled → Ready, e.g. 10s, 2500ms, 0 (default 10s: the backend
#                                  readiness probe's initialDelaySeconds, components/probes.ts)
#   KUBEPOLARIS_POD_STOP_DELAY     deletion → gone (default 0s)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${KUBEPOLARIS_CLUSTER_DIR:-$HOME/.cache/kubepolaris-cluster}"
PKI="$STATE/pki" LOGS="$STATE/logs" PIDS="$STATE/pids"
KUBECONFIG_FILE="$STATE/kubeconfig"
READY_MARK="$STATE/ready"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
FAKE_NODE_LABEL="kwok.x-k8s.io/node"
ZONES=(zone-a zone-b zone-c)
START=$(date +%s%N)

say() { printf '[cluster %5.1fs] %s\n' "$(( ($(date +%s%N) - START) / 1000000 ))e-3" "$*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }

# Ports: fixed by the state dir once chosen, so `down` and `kubeconfig` agree with `up`.
load_ports() {
  local base="${KUBEPOLARIS_CLUSTER_PORT_BASE:-16440}"
  if [[ -f "$STATE/ports.env" ]]; then
    # shellcheck source=/dev/null
    source "$STATE/ports.env"
  else
    [[ "$base" =~ ^[0-9]+$ ]] && (( base > 1024 && base < 65000 )) ||
      die "KUBEPOLARIS_CLUSTER_PORT_BASE: got '$base'; allowed: a number from 1025 to 64999"
    PORT_APISERVER=$((base + 3)) PORT_ETCD=$((base + 4)) PORT_ETCD_PEER=$((base + 5))
    PORT_KCM=$((base + 6)) PORT_SCHEDULER=$((base + 7)) PORT_KWOK=$((base + 8))
  fi
}
save_ports() {
  printf 'PORT_APISERVER=%s PORT_ETCD=%s PORT_ETCD_PEER=%s PORT_KCM=%s PORT_SCHEDULER=%s PORT_KWOK=%s\n' \
    "$PORT_APISERVER" "$PORT_ETCD" "$PORT_ETCD_PEER" "$PORT_KCM" "$PORT_SCHEDULER" "$PORT_KWOK" > "$STATE/ports.env"
}
all_ports() { echo "$PORT_ETCD $PORT_ETCD_PEER $PORT_APISERVER $PORT_KCM $PORT_SCHEDULER $PORT_KWOK"; }

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

# ------------------------------------------------------------------------ processes
pid_of() { [[ -f "$PIDS/$1.pid" ]] && cat "$PIDS/$1.pid"; }
# Alive and still the process we started (its command line names this state dir).
alive() {
  local pid; pid="$(pid_of "$1")" || return 1
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$STATE/"
}

start() { # <name> <binary> <args...>: its own session and process group, log in $LOGS
  local name="$1"; shift
  echo "==== $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >> "$LOGS/$name.log"
  # 8>&-: the child must not inherit the state lock (see lock()).
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null 8>&- &
  echo $! > "$PIDS/$name.pid"
}

stop() { # <name>: TERM its process group, KILL what is left after 10 s
  local name="$1" pid i
  pid="$(pid_of "$name")" || return 0
  if alive "$name"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
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

# Processes whose command line names this state dir but which have no pid file (an `up` killed
# half-way): found by their arguments, never by a process name.
strays() {
  local p exe
  for p in /proc/[0-9]*; do
    exe="$(readlink "$p/exe" 2>/dev/null)" || continue
    case "${exe##*/}" in etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok) ;; *) continue ;; esac
    if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF -- "$STATE/"; then echo "${p#/proc/}"; fi
  done
}

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

fail_component() { # <name> <why>: the tail of its log, then stop what this run started
  echo "cluster: $1 $2; the last 30 lines of $LOGS/$1.log:" >&2
  tail -30 "$LOGS/$1.log" 2>/dev/null | sed 's/^/  | /' >&2
  echo "cluster: stopping the components; logs stay in $LOGS until 'npm run cluster:down'" >&2
  local c
  for ((c = ${#COMPONENTS[@]} - 1; c >= 0; c--)); do stop "${COMPONENTS[c]}"; done
  exit 1
}

wait_for() { # <name> <timeout s> <command...>: until the command succeeds; fail if the process dies
  local name="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || fail_component "$name" "exited during start-up"
    (( $(date +%s) < deadline )) || fail_component "$name" "was not healthy within ${timeout}s"
    sleep 0.2
  done
}

https_ok() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1"; }
http_ok() { curl -fsS --max-time 2 "$1"; }
insecure_ok() { curl -fsSk --max-time 2 "$1"; }

# ------------------------------------------------------------------------------ pki
# EC P-256 keys (fast to make); one CA signs the serving and client certificates.
make_pki() {
  [[ -f "$PKI/done" ]] && return 0
  say "making certificates and the service-account key pair (openssl) in $PKI"
  rm -rf "$PKI"; mkdir -p "$PKI"
  local o="$PKI"
  ( umask 077
    openssl ecparam -name prime256v1 -genkey -noout -out "$o/ca.key"
    openssl req -x509 -new -key "$o/ca.key" -sha256 -days 3650 -subj "/CN=kubepolaris-local-ca" -out "$o/ca.crt"
    openssl ecparam -name prime256v1 -genkey -noout -out "$o/sa.key"
    openssl ec -in "$o/sa.key" -pubout -out "$o/sa.pub" 2>/dev/null
    cert() { # <name> <subject> [<subjectAltName>]
      openssl ecparam -name prime256v1 -genkey -noout -out "$o/$1.key"
      openssl req -new -key "$o/$1.key" -subj "$2" -out "$o/$1.csr"
      {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ -n "${3:-}" ]]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$3"
        else echo "extendedKeyUsage=clientAuth"; fi
      } > "$o/$1.ext"
      openssl x509 -req -in "$o/$1.csr" -CA "$o/ca.crt" -CAkey "$o/ca.key" -CAcreateserial -sha256 -days 3650 \
        -extfile "$o/$1.ext" -out "$o/$1.crt" 2>/dev/null
      rm -f "$o/$1.csr" "$o/$1.ext"
    }
    cert apiserver "/CN=kube-apiserver" \
      "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin "/O=system:masters/CN=kubepolaris-admin"
    cert controller-manager "/CN=system:kube-controller-manager"
    cert scheduler "/CN=system:kube-scheduler"
    cert kwok "/O=system:masters/CN=kwok"
  ) >> "$LOGS/pki.log" 2>&1 || { tail -20 "$LOGS/pki.log" >&2; die "openssl failed (log: $LOGS/pki.log)"; }
  touch "$PKI/done"
}

kubeconfig_for() { # <client cert name> <file>
  local b64="base64 -w0"
  cat > "$2" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubepolaris-local
  cluster:
    server: https://127.0.0.1:$PORT_APISERVER
    certificate-authority-data: $($b64 < "$PKI/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $($b64 < "$PKI/$1.crt")
    client-key-data: $($b64 < "$PKI/$1.key")
contexts:
- name: kubepolaris-local
  context:
    cluster: kubepolaris-local
    user: $1
current-context: kubepolaris-local
EOF
  chmod 600 "$2"
}

# ------------------------------------------------------------------------ components
# Every component's command line names files under $STATE: alive() and strays() rely on it.
start_etcd() {
  start etcd "$BIN/etcd" --name local --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$PORT_ETCD" --advertise-client-urls "http://127.0.0.1:$PORT_ETCD" \
    --listen-peer-urls "http://127.0.0.1:$PORT_ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PORT_ETCD_PEER" \
    --initial-cluster "local=http://127.0.0.1:$PORT_ETCD_PEER" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
  wait_for etcd 30 http_ok "http://127.0.0.1:$PORT_ETCD/health"
}

start_apiserver() {
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$PORT_ETCD" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT_APISERVER" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.96.0.0/16 --service-node-port-range 30000-32767 \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins PodSecurity,ResourceQuota,LimitRanger \
    --allow-privileged=true --profiling=false
  wait_for kube-apiserver 60 https_ok "https://127.0.0.1:$PORT_APISERVER/readyz"
}

start_controllers() {
  kubeconfig_for controller-manager "$STATE/controller-manager.kubeconfig"
  kubeconfig_for scheduler "$STATE/scheduler.kubeconfig"
  kubeconfig_for kwok "$STATE/kwok.kubeconfig"
  local kcm="$STATE/controller-manager.kubeconfig" sch="$STATE/scheduler.kubeconfig"
  alive kube-controller-manager || start kube-controller-manager \
    "$BIN/kube-controller-manager" \
    --kubeconfig "$kcm" --authentication-kubeconfig "$kcm" --authorization-kubeconfig "$kcm" \
    --bind-address 127.0.0.1 --secure-port "$PORT_KCM" --cert-dir "$STATE/controller-manager-certs" \
    --controllers '*' --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range 10.96.0.0/16 --allocate-node-cidrs=false \
    --leader-elect=false --profiling=false
  alive kube-scheduler || start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$sch" --authentication-kubeconfig "$sch" --authorization-kubeconfig "$sch" \
    --bind-address 127.0.0.1 --secure-port "$PORT_SCHEDULER" --cert-dir "$STATE/scheduler-certs" \
    --leader-elect=false --profiling=false
  if ! alive kwok; then
    sed -e "s/@START_DELAY_MS@/$START_DELAY_MS/g" -e "s/@STOP_DELAY_MS@/$STOP_DELAY_MS/g" \
      "$HERE/kwok-pod-stages.yaml" > "$STATE/kwok-pod-stages.yaml"
    start kwok "$BIN/kwok" \
      --kubeconfig "$STATE/kwok.kubeconfig" --config "$STATE/kwok-pod-stages.yaml" \
      --manage-all-nodes=false --manage-nodes-with-label-selector "$FAKE_NODE_LABEL=fake" \
      --server-address "127.0.0.1:$PORT_KWOK" --node-lease-duration-seconds 40 --cidr 10.244.0.0/16 \
      --node-ip 10.0.0.1
  fi
  wait_for kube-controller-manager 60 insecure_ok "https://127.0.0.1:$PORT_KCM/healthz"
  wait_for kube-scheduler 60 insecure_ok "https://127.0.0.1:$PORT_SCHEDULER/healthz"
  wait_for kwok 60 http_ok "http://127.0.0.1:$PORT_KWOK/healthz"
}

# ------------------------------------------------------------------- cluster objects
nodes_yaml() {
  local count="${KUBEPOLARIS_CLUSTER_NODES:-6}" i zone name
  [[ "$count" =~ ^[0-9]+$ ]] && (( count >= 3 )) ||
    die "KUBEPOLARIS_CLUSTER_NODES: got '$count'; allowed: a number ≥ 3 (nodes spread over 3 zones)"
  for ((i = 0; i < count; i++)); do
    zone="${ZONES[i % 3]}"
    name="kwok-node-$((i + 1))"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  labels:
    $FAKE_NODE_LABEL: fake
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node.kubernetes.io/instance-type: m5.xlarge
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: $zone
status:
  capacity: {cpu: "4", memory: 16Gi, pods: "110", ephemeral-storage: 100Gi}
  allocatable: {cpu: 3920m, memory: 15Gi, pods: "110", ephemeral-storage: 95Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
EOF
  done
}

# No volume provisioner: a default StorageClass and pre-made PersistentVolumes, two per zone,
# bound when a pod using the claim is scheduled (WaitForFirstConsumer, as on EKS).
storage_yaml() {
  local i zone
  cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-volumes
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
  for ((i = 1; i <= 6; i++)); do
    zone="${ZONES[(i - 1) % 3]}"
    mkdir -p "$STATE/volumes/pv-$i"
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv-$i
  labels:
    topology.kubernetes.io/zone: $zone
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-volumes
  hostPath: {path: "$STATE/volumes/pv-$i", type: DirectoryOrCreate}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.kubernetes.io/zone, operator: In, values: [$zone]}
EOF
  done
}

edge_yaml() {
  cat <<EOF
---
apiVersion: v1
kind: Namespace
metadata:
  name: ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
EOF
}

kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# The CRDs (4 MB of schemas: the slowest step) go in while the controllers start.
apply_crds_in_background() {
  say "applying the Prometheus Operator CRDs (in the background)"
  kubectl_ apply --server-side --field-manager kubepolaris-cluster -f "$CRDS" > "$LOGS/crds.log" 2>&1 &
  CRDS_JOB=$!
}

bootstrap() {
  say "applying the nodes, IngressClass, ingress-nginx namespace, StorageClass and volumes"
  { nodes_yaml; storage_yaml; edge_yaml; } > "$STATE/bootstrap.yaml"
  kubectl_ apply --server-side --field-manager kubepolaris-cluster -f "$STATE/bootstrap.yaml" >> "$LOGS/bootstrap.log" 2>&1 ||
    fail_component bootstrap "could not apply $STATE/bootstrap.yaml"
  kubectl_ wait --for condition=Ready --timeout 60s node -l "$FAKE_NODE_LABEL=fake" >> "$LOGS/bootstrap.log" 2>&1 ||
    fail_component kwok "did not make the nodes Ready within 60s"
  say "nodes Ready"
  wait "$CRDS_JOB" || fail_component crds "could not be applied"
  kubectl_ wait --for condition=established --timeout 60s crd --all >> "$LOGS/crds.log" 2>&1 ||
    fail_component crds "were not established within 60s"
  say "Prometheus Operator CRDs established"
  # Pods need their namespace's default ServiceAccount (the controller-manager makes it).
  wait_for kube-controller-manager 60 kubectl_ get serviceaccount default -n default
}

# Claims deleted with their workload (a `pulumi destroy`) leave their volume Released: make it
# Available again, as a fresh disk would be.
recycle_released_volumes() {
  local pv
  for pv in $(kubectl_ get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{end}' 2>/dev/null); do
    kubectl_ patch pv "$pv" --type json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null 2>&1 &&
      say "volume $pv was Released: made Available again"
  done
}

# ----------------------------------------------------------------------------- verbs
lock() { mkdir -p "$STATE"; exec 8>"$STATE/.lock"; flock 8; }

running() { # every component alive and the API server ready
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  https_ok "https://127.0.0.1:$PORT_APISERVER/readyz" >/dev/null 2>&1
}

cmd_up() {
  START_DELAY_MS="$(duration_ms KUBEPOLARIS_POD_START_DELAY "${KUBEPOLARIS_POD_START_DELAY:-10s}")"
  STOP_DELAY_MS="$(duration_ms KUBEPOLARIS_POD_STOP_DELAY "${KUBEPOLARIS_POD_STOP_DELAY:-0s}")"
  BIN="$(bash "$HERE/ensure.sh" | tail -1)" || die "scripts/cluster/ensure.sh failed"
  CRDS="$(bash "$HERE/ensure.sh" --crds | tail -1)"
  lock
  load_ports
  if [[ -f "$READY_MARK" ]] && running; then
    recycle_released_volumes
    say "already running (state: $STATE); reusing it"
    echo "$KUBECONFIG_FILE"
    return 0
  fi
  mkdir -p "$LOGS" "$PIDS"
  rm -f "$READY_MARK"
  # Interrupted half-way: leave no half-started cluster behind (the logs stay until `down`).
  trap 'echo "cluster: interrupted; stopping the components" >&2; for ((c = ${#COMPONENTS[@]} - 1; c >= 0; c--)); do stop "${COMPONENTS[c]}"; done; exit 130' INT TERM
  local c p
  for c in "${COMPONENTS[@]}"; do alive "$c" || rm -f "$PIDS/$c.pid"; done
  if ! alive etcd && ! alive kube-apiserver; then
    for p in $(all_ports); do
      port_busy "$p" && die "port 127.0.0.1:$p is in use by another process ($(ss -Htlnp "sport = :$p" | head -1)); set KUBEPOLARIS_CLUSTER_PORT_BASE"
    done
  fi
  save_ports
  say "starting the control plane (state: $STATE, logs: $LOGS, pod start-up delay ${START_DELAY_MS}ms)"
  make_pki
  kubeconfig_for admin "$KUBECONFIG_FILE"
  alive etcd || { start_etcd; say "etcd ready on 127.0.0.1:$PORT_ETCD"; }
  alive kube-apiserver || { start_apiserver; say "kube-apiserver ready on https://127.0.0.1:$PORT_APISERVER"; }
  apply_crds_in_background
  bash "$HERE/gateway-api.sh" "$BIN/kubectl" "$KUBECONFIG_FILE" > "$LOGS/gateway-api.log" 2>&1 &
  GATEWAY_API_JOB=$!
  start_controllers
  say "controller-manager, scheduler and kwok healthy"
  bootstrap
  wait "$GATEWAY_API_JOB" || fail_component gateway-api "could not apply the Gateway API CRDs and GatewayClass"
  say "$(tail -1 "$LOGS/gateway-api.log")"
  recycle_released_volumes
  touch "$READY_MARK"
  say "up: $(kubectl_ get nodes --no-headers | wc -l) nodes Ready in ${#ZONES[@]} zones; kubectl --kubeconfig $KUBECONFIG_FILE get nodes -L topology.kubernetes.io/zone"
  echo "$KUBECONFIG_FILE"
}

cmd_down() {
  if [[ ! -d "$STATE" ]]; then say "not running (no $STATE)"; return 0; fi
  lock
  load_ports
  local c pid
  for ((c = ${#COMPONENTS[@]} - 1; c >= 0; c--)); do
    alive "${COMPONENTS[c]}" && say "stopping ${COMPONENTS[c]} (pid $(pid_of "${COMPONENTS[c]}"))"
    stop "${COMPONENTS[c]}"
  done
  for pid in $(strays); do
    say "stopping leftover process $pid"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.1
  for pid in $(strays); do kill -KILL "$pid" 2>/dev/null || true; done
  for c in $(all_ports); do
    port_busy "$c" && say "warning: 127.0.0.1:$c is still in use: $(ss -Htlnp "sport = :$c" | head -1)"
  done
  rm -rf "$STATE"
  say "down: every process stopped, $STATE removed"
}

cmd_kubeconfig() {
  load_ports
  [[ -f "$KUBECONFIG_FILE" && -f "$READY_MARK" ]] || die "not running: start it with npm run cluster:up"
  echo "$KUBECONFIG_FILE"
}

cmd_status() {
  load_ports
  local c
  for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then echo "$c running (pid $(pid_of "$c"))"; else echo "$c stopped"; fi
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  kubeconfig) cmd_kubeconfig ;;
  status) cmd_status ;;
  -h|--help|"") sed -n '2,32p' "$0" ;;
  *) die "unknown command '$1'; allowed: up, down, kubeconfig, status" ;;
esac

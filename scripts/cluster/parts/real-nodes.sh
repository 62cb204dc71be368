# The real nodes' parts: hostnet (the node address, routes, forwarding guard), node<N> (containerd +
# kubelet, one per zone), proxy (kube-proxy, iptables mode) and dns (CoreDNS pods).
# Each part: <part>_start, <part>_ready; its stop is the ledger's inverse (scripts/cluster/lib.sh).
#
# Everything a pod can reach stays on this host: pods get addresses on local bridges
# (10.244.<n>.0/24 on kp-br<n>); the rest of the pod range is an `unreachable` route; the service
# range is routed into the node link (a bridge with no ports: dropped unless kube-proxy rewrote the
# address); the API server listens on the node address, on that link; the KUBEPOLARIS-FORWARD
# chain rejects any forwarded packet that does not go from one local bridge to another.

NODE_LINK=kp-node
POD_CIDR=10.244.0.0/16
bridge_of() { echo "kp-br$1"; }
subnet_of() { echo "10.244.$1.0/24"; }

# ---------------------------------------------------------------------------- hostnet
hostnet_ready() {
  ip -br addr show dev "$NODE_LINK" 2>/dev/null | grep -qF "$NODE_IP/32" &&
    iptables -w -C FORWARD -j KUBEPOLARIS-FORWARD 2>/dev/null
}
hostnet_start() {
  # ipsets and chains that exist now: the ones made later (kube-router's sets; kubelet's,
  # kube-proxy's, kube-router's chains) are removed on stop, the chains first (they use the sets).
  ipset list -n > "$STATE/ipsets.before"
  record ipsets-since "$STATE/ipsets.before"
  chain_list > "$STATE/chains.before"
  record chains-since "$STATE/chains.before"
  # A bridge with no ports: this kernel has no dummy driver (and no modprobe). Its address is local;
  # what is routed into it goes nowhere.
  ip link add "$NODE_LINK" type bridge && record link "$NODE_LINK"
  ip addr add "$NODE_IP/32" dev "$NODE_LINK"
  ip link set "$NODE_LINK" up
  ip route add unreachable "$POD_CIDR" && record route unreachable "$POD_CIDR"
  ip route add "$SERVICE_CIDR" dev "$NODE_LINK" && record route "$SERVICE_CIDR" dev "$NODE_LINK"
  iptables -w -N KUBEPOLARIS-FORWARD
  record chain filter KUBEPOLARIS-FORWARD FORWARD
  iptables -w -A KUBEPOLARIS-FORWARD -i 'kp-br+' -o 'kp-br+' -j RETURN
  iptables -w -A KUBEPOLARIS-FORWARD -j REJECT
  iptables -w -I FORWARD 1 -j KUBEPOLARIS-FORWARD
  set_sysctl net.ipv4.ip_forward 1
  set_sysctl net.bridge.bridge-nf-call-iptables 1
  say "hostnet: node address $NODE_IP on $NODE_LINK; $POD_CIDR beyond the bridges unreachable; forwarding only between bridges"
}

# ------------------------------------------------------------------------- node<N>
node_dir() { echo "$STATE/nodes/node$1"; }
node_sock() { echo "$(node_dir "$1")/containerd.sock"; }
ctr_() { local n="$1"; shift; ctr --address "$(node_sock "$n")" --namespace k8s.io "$@"; }

node_ready() { # <n>
  alive "containerd-node$1" && alive "kubelet-node$1" &&
    curl -fsS --max-time 2 "http://127.0.0.1:$((PORT_BASE + 20 + $1))/healthz" >/dev/null 2>&1
}

node_config() { # <n>: containerd's and the kubelet's configuration files
  local n="$1" d; d="$(node_dir "$1")"
  mkdir -p "$d"/{containerd/root,containerd/state,cni,ipam,kubelet,certs,pod-logs,volume-plugins,runc}
  cat > "$d/containerd.toml" <<TOML
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: runc cannot set a negative oom_score_adj otherwise.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$d/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$d/cni"
    max_conf_num = 1
TOML
  cat > "$d/cni/10-kubepolaris.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "kubepolaris-node$n",
  "plugins": [
    {
      "type": "bridge", "bridge": "$(bridge_of "$n")", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$d/ipam", "ranges": [[{ "subnet": "$(subnet_of "$n")" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] }
    }
  ]
}
JSON
  kubeconfig_for "kubelet-node$n" "$d/kubelet.kubeconfig"
  cat > "$d/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $((PORT_BASE + 10 + n))
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $((PORT_BASE + 20 + n))
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$d/containerd.sock
imageServiceEndpoint: unix://$d/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /kubepolaris-node$n
failCgroupV1: false
failSwapOn: false
podLogsDir: $d/pod-logs
volumePluginDir: $d/volume-plugins
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: $STATE/resolv.conf
maxPods: 110
# Local images cannot be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
serializeImagePulls: false
YAML
}

node_start() { # <n>
  local n="$1" d zone; d="$(node_dir "$1")"; zone="${ZONES[(n - 1) % 3]}"
  node_config "$n"
  # What pods with dnsPolicy Default (CoreDNS's own) get: the cluster DNS, which answers nothing
  # outside cluster.local (nothing is resolved or forwarded off this host).
  [[ -f "$STATE/resolv.conf" ]] || echo "nameserver $DNS_IP" > "$STATE/resolv.conf"
  make_cgroup "/kubepolaris-node$n"
  record mounts-under "$d"
  ip link add "$(bridge_of "$n")" type bridge && record link "$(bridge_of "$n")"
  start "containerd-node$n" containerd --config "$d/containerd.toml"
  record processes-naming "$d/containerd.sock"
  record tasks-of "$n"
  wait_for "containerd-node$n" 30 ctr_ "$n" version
  import_images "$n"
  # kubelet's own sysctl settings (protectKernelDefaults: false), recorded so down restores them.
  set_sysctl vm.overcommit_memory 1
  set_sysctl vm.panic_on_oom 0
  set_sysctl kernel.panic 10
  set_sysctl kernel.panic_on_oops 1
  start "kubelet-node$n" "$BIN/kubelet" --config "$d/kubelet.yaml" --kubeconfig "$d/kubelet.kubeconfig" \
    --root-dir "$d/kubelet" --cert-dir "$d/certs" --hostname-override "node$n" --node-ip "$NODE_IP" \
    --node-labels "topology.kubernetes.io/zone=$zone,topology.kubernetes.io/region=local"
  wait_for "kubelet-node$n" 60 node_ready "$n"
  say "node$n ($zone): containerd and kubelet running, pods on $(bridge_of "$n") $(subnet_of "$n")"
}

# The pod sandboxes' tasks are killed through containerd (the shims outlive it), then their
# network namespaces (under containerd's state folder) go with the mounts.
undo_tasks_of() { # <n>
  local n="$1" t
  [[ -S "$(node_sock "$n")" ]] || return 0
  for t in $(ctr_ "$n" tasks ls -q 2>/dev/null); do ctr_ "$n" tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
  sleep 0.3
  for t in $(ctr_ "$n" tasks ls -q 2>/dev/null); do ctr_ "$n" tasks delete -f "$t" >/dev/null 2>&1 || true; done
  for t in $(ctr_ "$n" containers ls -q 2>/dev/null); do ctr_ "$n" containers delete "$t" >/dev/null 2>&1 || true; done
}

# A node that stops as a whole machine would (a zone's partition in the drills): its pods' processes
# frozen (the node's cgroup in the freezer hierarchy), then its container shims, containerd and
# kubelet stopped (SIGSTOP). Nothing on it answers: connections to its pods are accepted by the
# kernel and hang; its kubelet stops heartbeating, so the node controller marks it NotReady; the
# API server keeps the Node. heal undoes it in the reverse order. `down` needs no heal first: a
# stopped process still dies of SIGKILL, and remove_cgroup thaws before it kills.
node_processes() { # <n>: kubelet, containerd and the shims (their command lines name the node's socket)
  local n="$1"
  pid_of "kubelet-node$n"
  pid_of "containerd-node$n"
  pids_naming "$(node_sock "$n")"
}
node_freezer() { echo "$CGROUP_FS/freezer/kubepolaris-node$1/freezer.state"; }
node_partition() { # <n>
  local n="$1" pid
  alive "kubelet-node$n" || die "node$n is not running"
  echo FROZEN > "$(node_freezer "$n")"
  for pid in $(node_processes "$n" | sort -u); do kill -STOP "$pid" 2>/dev/null || true; done
  say "node$n partitioned: its pods frozen, kubelet, containerd and shims stopped"
}
node_heal() { # <n>
  local n="$1" pid
  for pid in $(node_processes "$n" | sort -u); do kill -CONT "$pid" 2>/dev/null || true; done
  echo THAWED > "$(node_freezer "$n")"
  say "node$n healed: kubelet, containerd and shims running again, its pods thawed"
}

# An image tar into node <n>, once: a stamp beside the node's image store (the tar's name carries
# its inputs' hash), so a second `up` or `load` spends no time importing.
import_image() { # <n> <tar>
  local stamp; stamp="$(node_dir "$1")/containerd/root/kubepolaris-loaded/$(basename "$2")"
  [[ -f "$stamp" ]] && return 0
  ctr_ "$1" images import "$2" >> "$LOGS/images.log" 2>&1 || return 1
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
}

# The cluster's own images (the sandbox's, CoreDNS, the tests' busybox) into this node; the app's
# come with `cluster.sh load` (scripts/up.sh).
import_images() { # <n>
  local n="$1" tar
  for tar in "${NODE_IMAGES[@]}"; do
    import_image "$n" "$tar" || fail_component images "could not import $tar into node$n"
  done
}

# ---------------------------------------------------------------------------- proxy
proxy_ready() { alive kube-proxy && http_ok "http://127.0.0.1:$((PORT_BASE + 30))/healthz" >/dev/null 2>&1; }
proxy_start() {
  kubeconfig_for kube-proxy "$STATE/kube-proxy.kubeconfig"
  cat > "$STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
mode: iptables
hostnameOverride: node1
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$((PORT_BASE + 30))
metricsBindAddress: 127.0.0.1:$((PORT_BASE + 31))
clusterCIDR: $POD_CIDR
# NodePorts on loopback and the node address only, never on this host's other interfaces.
nodePortAddresses: [127.0.0.0/8, $NODE_IP/32]
iptables: {localhostNodePorts: true, masqueradeAll: false}
# 0: leave the host's conntrack settings as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  record command "$BIN/kube-proxy" --cleanup
  set_sysctl net.ipv4.conf.all.route_localnet 1
  start kube-proxy "$BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
  wait_for kube-proxy 30 proxy_ready
  say "kube-proxy (iptables) serving every node"
}

# ------------------------------------------------------------------------------ dns
# CoreDNS as a cluster runs it: pods in kube-system labelled k8s-app=kube-dns behind the kube-dns
# Service ($DNS_IP, part objects), so NetworkPolicies that admit DNS by those labels (the program's
# allow-dns-egress) hold here as on EKS. It answers cluster.local only; every other name is
# NXDOMAIN, so nothing is forwarded off this host.
DNS_REPLICAS=2
dns_ready() {
  [[ "$(kubectl_ -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" == "$DNS_REPLICAS" ]]
}
dns_start() {
  coredns_yaml > "$STATE/coredns.yaml"
  kubectl_ apply --server-side --field-manager kubepolaris-cluster -f "$STATE/coredns.yaml" >> "$LOGS/bootstrap.log" 2>&1 ||
    fail_component coredns "could not apply $STATE/coredns.yaml"
  wait_for coredns 120 dns_ready
  say "CoreDNS: $DNS_REPLICAS pods in kube-system behind the kube-dns Service ($DNS_IP)"
}
coredns_yaml() {
  cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 5
    }
    .:53 {
        template ANY ANY {
            rcode NXDOMAIN
        }
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: $DNS_REPLICAS
  selector: {matchLabels: {k8s-app: kube-dns}}
  strategy: {rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm: {labelSelector: {matchLabels: {k8s-app: kube-dns}}, topologyKey: kubernetes.io/hostname}
      # Over the zones too: a zone that took every DNS pod would be a cluster DNS outage (the
      # drills saw replacement pods crash-loop, unable to resolve anything, until it came back).
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {k8s-app: kube-dns}}}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile: {type: RuntimeDefault}
        # Port 53 without a capability (a safe, namespaced sysctl).
        sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "53"}]
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        resources:
          requests: {cpu: 50m, memory: 64Mi}
          limits: {memory: 170Mi}
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        livenessProbe: {httpGet: {path: /health, port: 8080}, periodSeconds: 10, failureThreshold: 5}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes: [{name: config, configMap: {name: coredns}}]
YAML
}

# --------------------------------------------------------------------------- netpol
# NetworkPolicies enforced by kube-router, firewall only (no routing, no service proxy), one for
# every node: kube-router treats as its own the pods whose hostIP is its node's address, and every
# real node here has the same one. Its health port would listen on every interface: off; it is
# ready once its filter chain is in place. Its iptables chains and ipsets go with
# `kube-router --cleanup-config` on stop.
netpol_ready() { alive kube-router && iptables -w -S KUBE-ROUTER-FORWARD >/dev/null 2>&1; }
netpol_start() {
  kubeconfig_for kube-router "$STATE/kube-router.kubeconfig"
  record command "$ADDONS_BIN/kube-router" --cleanup-config
  start kube-router "$ADDONS_BIN/kube-router" --kubeconfig "$STATE/kube-router.kubeconfig" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --hostname-override node1 --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-node-port-range 30000-32767 --health-port 0 --metrics-port 0 --iptables-sync-period 1m
  wait_for kube-router 60 netpol_ready
  say "kube-router enforcing NetworkPolicies on every node"
}

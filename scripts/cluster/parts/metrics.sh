# Part metrics (real nodes only): the resource metrics API, metrics.k8s.io, that the
# HorizontalPodAutoscalers read, served by metrics-server (scripts/cluster/metrics-server.sh) as a
# process on this host, as kube-router is: a pod would have to reach the kubelets on the node
# address and be reached by the API server through an address only kube-proxy's rules answer; as a
# host process it is one address, started before any workload and undone by the ledger.
# kwok's nodes have no kubelet to scrape: the part is not in a kwok cluster's PARTS.
#
# It listens on the node address only ($NODE_IP:PORT_BASE+32), with a serving certificate of the
# cluster CA (pki part) for metrics-server.kube-system.svc, the name the API server checks; the
# APIService v1beta1.metrics.k8s.io names the selector-less Service kube-system/metrics-server,
# whose EndpointSlice points at that address (the API server dials it: --enable-aggregator-routing).
# It authenticates the API server's proxied requests by the front-proxy CA it reads from the
# extension-apiserver-authentication ConfigMap, and reads the API server and the kubelets as
# system:kubepolaris-metrics-server (the standard metrics-server RBAC below).

metrics_port() { echo $((PORT_BASE + 32)); }

metrics_ready() {
  alive metrics-server &&
    [[ "$(kubectl_ get apiservice v1beta1.metrics.k8s.io \
      -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" == True ]] &&
    kubectl_ get --raw /apis/metrics.k8s.io/v1beta1/nodes >/dev/null 2>&1
}

# Undone newest first: the APIService goes while metrics-server still answers (an APIService whose
# backend is gone fails discovery, and namespace deletion with it), then the process, then its RBAC.
metrics_start() {
  local port kc="$STATE/metrics-server.kubeconfig"
  port="$(metrics_port)"
  kubeconfig_for metrics-server "$kc"
  metrics_rbac_yaml > "$STATE/metrics-server-rbac.yaml"
  metrics_api_yaml "$port" > "$STATE/metrics-server-api.yaml"
  # It reads the extension-apiserver-authentication ConfigMap as it starts, and exits if refused.
  metrics_apply "$STATE/metrics-server-rbac.yaml"
  wait_for metrics-server 30 kubectl_ auth can-i get configmap/extension-apiserver-authentication \
    -n kube-system --as system:kubepolaris-metrics-server
  # --kubelet-insecure-tls: each kubelet here serves a self-signed certificate (made in its own
  # cert dir at start, no CA to check it against); the kubelets are on the node address of this
  # host, reached by their InternalIP and the port each Node reports (kubelet-use-node-status-port).
  start metrics-server "$METRICS_SERVER_BIN" \
    --kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address "$NODE_IP" --secure-port "$port" --cert-dir "$STATE/metrics-server-certs" \
    --tls-cert-file "$PKI/metrics-server-serving.crt" --tls-private-key-file "$PKI/metrics-server-serving.key" \
    --kubelet-preferred-address-types InternalIP --kubelet-use-node-status-port --kubelet-insecure-tls \
    --metric-resolution 15s --profiling=false
  metrics_apply "$STATE/metrics-server-api.yaml"
  wait_for metrics-server 120 metrics_ready
  say "metrics-server serving metrics.k8s.io on https://$NODE_IP:$port (scrapes the kubelets every 15 s)"
}

metrics_apply() { # <file>: applied, and recorded to be deleted
  record command "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" --request-timeout 10s \
    delete --ignore-not-found --wait=false -f "$1"
  kubectl_ apply --server-side --field-manager kubepolaris-cluster -f "$1" >> "$LOGS/bootstrap.log" 2>&1 ||
    fail_component metrics-server "could not apply $1"
}

# The standard metrics-server RBAC (its release's components.yaml), bound to its certificate's user.
metrics_rbac_yaml() {
  cat <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: system:kubepolaris-metrics-server, labels: {k8s-app: metrics-server}}
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregated-metrics-reader
  labels:
    k8s-app: metrics-server
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: [metrics.k8s.io]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: system:kubepolaris-metrics-server, labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:kubepolaris-metrics-server}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kubepolaris-metrics-server}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kubepolaris-metrics-server:system:auth-delegator", labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kubepolaris-metrics-server}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubepolaris-metrics-server-auth-reader, namespace: kube-system, labels: {k8s-app: metrics-server}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kubepolaris-metrics-server}
YAML
}

# Its registration: the selector-less Service, its EndpointSlice (the node address), the APIService.
metrics_api_yaml() { # <port>
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system, labels: {k8s-app: metrics-server}}
spec:
  ports:
  - {name: https, port: 443, protocol: TCP, targetPort: $1}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: metrics-server
  namespace: kube-system
  labels: {k8s-app: metrics-server, kubernetes.io/service-name: metrics-server, endpointslice.kubernetes.io/managed-by: kubepolaris-cluster}
addressType: IPv4
ports:
- {name: https, port: $1, protocol: TCP}
endpoints:
- addresses: [$NODE_IP]
  conditions: {ready: true}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io, labels: {k8s-app: metrics-server}}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service: {name: metrics-server, namespace: kube-system, port: 443}
  caBundle: $(base64 -w0 < "$PKI/ca.crt")
YAML
}

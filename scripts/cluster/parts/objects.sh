# Part objects: what the program expects around it, applied with server-side apply (idempotent):
# the Prometheus Operator CRDs, the nginx IngressClass and the ingress-nginx namespace, a default
# StorageClass with pre-made PersistentVolumes (no provisioner); kwok's fake nodes; for real nodes
# CoreDNS' Service, EndpointSlice and ClusterRole, and each node's podCIDR (its bridge's subnet).

kubectl_() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

objects_ready() { [[ -f "$STATE/objects-applied" ]]; }

fake_nodes_yaml() {
  local count="$KWOK_NODES" i zone name
  for ((i = 0; i < count; i++)); do
    zone="${ZONES[i % 3]}"
    name="kwok-node-$((i + 1))"
    cat <<YAML
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
YAML
  done
}

# No volume provisioner: a default StorageClass and pre-made PersistentVolumes, three per zone
# (the database members, its backups, a drill's or a check's own database),
# bound when a pod using the claim is scheduled (WaitForFirstConsumer, as on EKS).
storage_yaml() {
  local i zone
  cat <<YAML
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
YAML
  for ((i = 1; i <= 9; i++)); do
    zone="${ZONES[(i - 1) % 3]}"
    mkdir -p "$STATE/volumes/pv-$i"
    # Real pods write as their own non-root users.
    chmod 0777 "$STATE/volumes/pv-$i"
    cat <<YAML
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
YAML
  done
}

edge_yaml() {
  cat <<YAML
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
YAML
}

dns_yaml() {
  cat <<YAML
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:kubepolaris-kube-router
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:kubepolaris-kube-router
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:kubepolaris-kube-router}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kubepolaris-kube-router}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:kubepolaris-coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:kubepolaris-coredns
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:kubepolaris-coredns}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: $DNS_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
YAML
}

objects_start() {
  say "applying the Prometheus Operator CRDs (in the background)"
  kubectl_ apply --server-side --field-manager kubepolaris-cluster -f "$CRDS" > "$LOGS/crds.log" 2>&1 &
  local crds_job=$! n
  bash "$HERE/gateway-api.sh" "$BIN/kubectl" "$KUBECONFIG_FILE" > "$LOGS/gateway-api.log" 2>&1 &
  local gateway_api_job=$!
  say "applying the IngressClass, ingress-nginx namespace, StorageClass, volumes and ($KIND) the fake nodes or the DNS Service"
  {
    storage_yaml; edge_yaml
    if [[ $KIND == kwok ]]; then fake_nodes_yaml; else dns_yaml; fi
  } > "$STATE/bootstrap.yaml"
  kubectl_ apply --server-side --field-manager kubepolaris-cluster -f "$STATE/bootstrap.yaml" >> "$LOGS/bootstrap.log" 2>&1 ||
    fail_component bootstrap "could not apply $STATE/bootstrap.yaml"
  if [[ $KIND == real ]]; then
    for ((n = 1; n <= REAL_NODES; n++)); do
      wait_for "kubelet-node$n" 60 kubectl_ get node "node$n"
      if [[ -z "$(kubectl_ get node "node$n" -o jsonpath='{.spec.podCIDR}')" ]]; then
        kubectl_ patch node "node$n" --type merge -p "{\"spec\":{\"podCIDR\":\"$(subnet_of "$n")\",\"podCIDRs\":[\"$(subnet_of "$n")\"]}}" \
          >> "$LOGS/bootstrap.log" 2>&1 || fail_component bootstrap "could not set node$n's podCIDR"
      fi
    done
    kubectl_ wait --for condition=Ready --timeout 90s node --all >> "$LOGS/bootstrap.log" 2>&1 ||
      fail_component bootstrap "the real nodes did not become Ready within 90s"
  else
    kubectl_ wait --for condition=Ready --timeout 60s node -l "$FAKE_NODE_LABEL=fake" >> "$LOGS/bootstrap.log" 2>&1 ||
      fail_component kwok "did not make the nodes Ready within 60s"
  fi
  say "nodes Ready"
  wait "$crds_job" || fail_component crds "could not be applied"
  kubectl_ wait --for condition=established --timeout 60s crd --all >> "$LOGS/crds.log" 2>&1 ||
    fail_component crds "were not established within 60s"
  say "Prometheus Operator CRDs established"
  wait "$gateway_api_job" || fail_component gateway-api "could not apply the Gateway API CRDs and GatewayClass"
  say "$(tail -1 "$LOGS/gateway-api.log")"
  # Pods need their namespace's default ServiceAccount (the controller-manager makes it).
  wait_for kube-controller-manager 60 kubectl_ get serviceaccount default -n default
  touch "$STATE/objects-applied"
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

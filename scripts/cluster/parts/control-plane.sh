# The control plane's parts: pki, etcd, apiserver, controllers (and kwok, the fake nodes).
# Each part: <part>_start, <part>_ready (a cheap check); its stop is the ledger's inverse.
# Sourced by scripts/cluster/cluster.sh, which holds the order of the parts.

# ------------------------------------------------------------------------------ pki
# EC P-256 keys (fast to make); one CA signs the serving and client certificates.
pki_ready() { [[ -f "$PKI/done" ]]; }
pki_start() {
  say "making certificates and the service-account key pair (openssl) in $PKI"
  rm -rf "$PKI"; mkdir -p "$PKI"
  local o="$PKI" n
  ( umask 077
    openssl ecparam -name prime256v1 -genkey -noout -out "$o/ca.key"
    openssl req -x509 -new -key "$o/ca.key" -sha256 -days 3650 -subj "/CN=kubepolaris-local-ca" -out "$o/ca.crt"
    openssl ecparam -name prime256v1 -genkey -noout -out "$o/sa.key"
    openssl ec -in "$o/sa.key" -pubout -out "$o/sa.pub" 2>/dev/null
    cert() { # <name> <subject> [<subjectAltName>]: signed by the cluster CA, or by $o/$SIGNER.crt
      local ca="$o/${SIGNER:-ca}"
      openssl ecparam -name prime256v1 -genkey -noout -out "$o/$1.key"
      openssl req -new -key "$o/$1.key" -subj "$2" -out "$o/$1.csr"
      {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        if [[ -n "${3:-}" ]]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$3"
        else echo "extendedKeyUsage=clientAuth"; fi
      } > "$o/$1.ext"
      openssl x509 -req -in "$o/$1.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -sha256 -days 3650 \
        -extfile "$o/$1.ext" -out "$o/$1.crt" 2>/dev/null
      rm -f "$o/$1.csr" "$o/$1.ext"
    }
    cert apiserver "/CN=kube-apiserver" \
      "IP:127.0.0.1,IP:$NODE_IP,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin "/O=system:masters/CN=kubepolaris-admin"
    cert controller-manager "/CN=system:kube-controller-manager"
    cert scheduler "/CN=system:kube-scheduler"
    cert kwok "/O=system:masters/CN=kwok"
    # Real nodes: the kubelets (Node authorizer), the API server's client to them, kube-proxy
    # (bound to system:node-proxier), (CoreDNS runs as pods with a service account).
    for ((n = 1; n <= REAL_NODES; n++)); do cert "kubelet-node$n" "/O=system:nodes/CN=system:node:node$n"; done
    cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
    cert kube-proxy "/CN=system:kube-proxy"
    cert kube-router "/CN=system:kubepolaris-kube-router"
    # The aggregation layer: the API server proxies metrics.k8s.io to metrics-server (part metrics)
    # with the front-proxy client certificate, issued by a CA of its own (requestheader-client-ca-file)
    # so that no other certificate of the cluster CA can assert an X-Remote-User. metrics-server
    # serves a certificate of the cluster CA (the APIService's caBundle) for the name the API server
    # checks, metrics-server.kube-system.svc, and reads the API server and the kubelets as its own user.
    openssl ecparam -name prime256v1 -genkey -noout -out "$o/front-proxy-ca.key"
    openssl req -x509 -new -key "$o/front-proxy-ca.key" -sha256 -days 3650 -subj "/CN=kubepolaris-front-proxy-ca" -out "$o/front-proxy-ca.crt"
    SIGNER=front-proxy-ca cert front-proxy-client "/CN=front-proxy-client"
    cert metrics-server-serving "/CN=metrics-server.kube-system.svc" \
      "DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local,IP:$NODE_IP"
    cert metrics-server "/CN=system:kubepolaris-metrics-server"
  ) >> "$LOGS/pki.log" 2>&1 || { tail -20 "$LOGS/pki.log" >&2; die "openssl failed (log: $LOGS/pki.log)"; }
  kubeconfig_for admin "$KUBECONFIG_FILE"
  touch "$PKI/done"
}

# A state dir whose pki an older cluster.sh made lacks the aggregation layer's certificates, and
# its API server runs without the aggregation flags: it cannot be reused (`up` refuses, touching
# nothing), only stopped and started anew.
pki_outdated() { [[ -f "$PKI/done" && ! -f "$PKI/front-proxy-ca.crt" ]]; }

kubeconfig_for() { # <client cert name> <file>
  local b64="base64 -w0"
  cat > "$2" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: kubepolaris-local
  cluster:
    server: https://$API_ADDR:$PORT_APISERVER
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
YAML
  chmod 600 "$2"
}

# ----------------------------------------------------------------------------- etcd
etcd_ready() { alive etcd && http_ok "http://127.0.0.1:$PORT_ETCD/health" >/dev/null 2>&1; }
etcd_start() {
  start etcd "$BIN/etcd" --name local --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$PORT_ETCD" --advertise-client-urls "http://127.0.0.1:$PORT_ETCD" \
    --listen-peer-urls "http://127.0.0.1:$PORT_ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PORT_ETCD_PEER" \
    --initial-cluster "local=http://127.0.0.1:$PORT_ETCD_PEER" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
  wait_for etcd 30 etcd_ready
  say "etcd ready on 127.0.0.1:$PORT_ETCD"
}

# ------------------------------------------------------------------------ apiserver
# With real nodes it listens on the node address (on the node link, part hostnet),
# which pods reach through the `kubernetes` Service; with kwok nodes on 127.0.0.1.
# The aggregation layer (requestheader-*, proxy-client-*): API servers registered by an APIService
# (metrics-server, part metrics) trust the front-proxy client certificate and the X-Remote-* headers
# it sends. --enable-aggregator-routing: it dials the Service's endpoint (an EndpointSlice), not its
# cluster IP, which only kube-proxy's rules on this host would answer.
apiserver_ready() { alive kube-apiserver && https_ok "https://$API_ADDR:$PORT_APISERVER/readyz" >/dev/null 2>&1; }
apiserver_start() {
  local real=()
  if [[ $KIND == real ]]; then
    real=(--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key"
      --kubelet-preferred-address-types InternalIP)
  fi
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$PORT_ETCD" \
    --bind-address "$API_ADDR" --advertise-address "$API_ADDR" --secure-port "$PORT_APISERVER" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range "$SERVICE_CIDR" --service-node-port-range 30000-32767 \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins PodSecurity,ResourceQuota,LimitRanger \
    --allow-privileged=true --profiling=false "${real[@]}" \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true
  wait_for kube-apiserver 60 apiserver_ready
  say "kube-apiserver ready on https://$API_ADDR:$PORT_APISERVER"
}

# ---------------------------------------------------------------------- controllers
# Pod CIDRs are not allocated: each real node's is patched to its bridge's subnet (part objects).
controllers_ready() {
  alive kube-controller-manager && alive kube-scheduler &&
    insecure_ok "https://127.0.0.1:$PORT_KCM/healthz" >/dev/null 2>&1 &&
    insecure_ok "https://127.0.0.1:$PORT_SCHEDULER/healthz" >/dev/null 2>&1
}
controllers_start() {
  kubeconfig_for controller-manager "$STATE/controller-manager.kubeconfig"
  kubeconfig_for scheduler "$STATE/scheduler.kubeconfig"
  local kcm="$STATE/controller-manager.kubeconfig" sch="$STATE/scheduler.kubeconfig"
  alive kube-controller-manager || start kube-controller-manager \
    "$BIN/kube-controller-manager" \
    --kubeconfig "$kcm" --authentication-kubeconfig "$kcm" --authorization-kubeconfig "$kcm" \
    --bind-address 127.0.0.1 --secure-port "$PORT_KCM" --cert-dir "$STATE/controller-manager-certs" \
    --controllers '*' --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false \
    --leader-elect=false --profiling=false
  alive kube-scheduler || start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$sch" --authentication-kubeconfig "$sch" --authorization-kubeconfig "$sch" \
    --bind-address 127.0.0.1 --secure-port "$PORT_SCHEDULER" --cert-dir "$STATE/scheduler-certs" \
    --leader-elect=false --profiling=false
  wait_for kube-controller-manager 60 insecure_ok "https://127.0.0.1:$PORT_KCM/healthz"
  wait_for kube-scheduler 60 insecure_ok "https://127.0.0.1:$PORT_SCHEDULER/healthz"
  say "controller-manager and scheduler healthy"
}

# ----------------------------------------------------------------------------- kwok
# Fake nodes (labelled kwok.x-k8s.io/node=fake) and their pods' lifecycle; the drills use it.
kwok_ready() { alive kwok && http_ok "http://127.0.0.1:$PORT_KWOK/healthz" >/dev/null 2>&1; }
kwok_start() {
  kubeconfig_for kwok "$STATE/kwok.kubeconfig"
  sed -e "s/@START_DELAY_MS@/$START_DELAY_MS/g" -e "s/@STOP_DELAY_MS@/$STOP_DELAY_MS/g" \
    "$HERE/kwok-pod-stages.yaml" > "$STATE/kwok-pod-stages.yaml"
  start kwok "$BIN/kwok" \
    --kubeconfig "$STATE/kwok.kubeconfig" --config "$STATE/kwok-pod-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-label-selector "$FAKE_NODE_LABEL=fake" \
    --server-address "127.0.0.1:$PORT_KWOK" --node-lease-duration-seconds 40 --cidr 10.244.0.0/16 \
    --node-ip 10.0.0.1
  wait_for kwok 60 kwok_ready
  say "kwok healthy"
}

#!/usr/bin/env bash
# The edge's part of the local control plane (cluster.sh `up` calls it once the API server is ready):
# the Gateway API CRDs at GATEWAY_API_VERSION (scripts/toolchain.versions; the standard channel,
# config/crd/standard, the bundle the pinned Traefik is built against), the `traefik` GatewayClass the
# local stack's Gateway names, and the namespace its edge Service goes in. Traefik itself runs as a
# process against this API server (test/cluster/edge.test.ts) until real pods exist.
#
#   scripts/cluster/gateway-api.sh <kubectl> <kubeconfig>
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBECTL="$1" KUBECONFIG_FILE="$2"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

CRDS="$(bash "$HERE/../edge/traefik.sh" --crds | tail -1)"
k apply --server-side --field-manager kubepolaris-cluster -f "$CRDS" >/dev/null
k wait --for condition=established --timeout 60s crd/gatewayclasses.gateway.networking.k8s.io \
  crd/gateways.gateway.networking.k8s.io crd/httproutes.gateway.networking.k8s.io crd/referencegrants.gateway.networking.k8s.io >/dev/null
k apply --server-side --field-manager kubepolaris-cluster -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: traefik
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: traefik
spec:
  controllerName: traefik.io/gateway-controller
YAML
echo "Gateway API $(k get crd gateways.gateway.networking.k8s.io -o jsonpath='{.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}') CRDs, GatewayClass traefik"

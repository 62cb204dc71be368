#!/usr/bin/env bash
# What `npm test` needs, installed or built once and cached (npm runs this as `pretest`):
#   - promtool, for the alert rule unit tests (scripts/install-promtool.sh);
#   - MariaDB and socat from Debian, for the app contract test (test/app; needs root);
#   - nginx from Debian, for the frontend contract test;
#   - the KubePolaris backend and UI built from their release source (scripts/app/backend.sh, frontend.sh);
#   - the real Pulumi engine (scripts/toolchain.sh) and the local control plane's binaries
#     (scripts/cluster/ensure.sh), for the engine and cluster tests;
#   - as root, the real nodes' add-ons (scripts/cluster/ensure.sh --node), for the real-node test.
#   - crane (scripts/images/crane.sh: the release download, else built niced from the Go module
#     proxy, ~1 min of CPU, in the background), for the image mirror test (test/images);
#   - vegeta (scripts/drill/vegeta.sh: the release download, else ~10 s of `go install`), the load
#     generator of the served drill in the real-node test;
#   - metrics-server (scripts/cluster/metrics-server.sh: the release download, else built niced from
#     the Go module proxy), the resource metrics API a real-node cluster serves for the HPAs;
#   - Traefik and the Gateway API CRDs (scripts/edge/traefik.sh, niced, started first and in the
#     background: the official release where GitHub answers, else ~3 min of module downloads, then
#     ~4.5 min and ~3.4 GB compiling), for the edge test;
#   - as root, the local stack's images (scripts/cluster/images.sh), for the main job on real nodes.
# Cold, the Go builds take a long while (docs/engine.md); warm, this takes about a second.
# KUBEPOLARIS_TEST_PREREQS=skip skips it all (the tests that need a missing piece then skip).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ "${KUBEPOLARIS_TEST_PREREQS:-}" == skip ]] && exit 0
say() { printf '[test-prereqs] %s\n' "$*" >&2; }

# The longest build, niced and overlapping the others; waited for at the end.
nice -n 10 bash scripts/edge/traefik.sh >/dev/null &
traefik_build=$!

# crane for the image mirror test: small, beside the others.
bash scripts/images/crane.sh >/dev/null &
crane_build=$!
bash scripts/drill/vegeta.sh >/dev/null &
vegeta_build=$!
bash scripts/cluster/metrics-server.sh >/dev/null &
metrics_server_build=$!

bash scripts/install-promtool.sh >&2

missing=()
for pair in mariadbd:mariadb-server mariadb:mariadb-client socat:socat ip:iproute2 setpriv:util-linux curl:curl nginx:nginx-light; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} (Debian packages, for the app contract tests)"
    # The server is started by the test itself, never as a service.
    [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  else
    say "not installed: ${missing[*]} (needs root and apt-get); the app contract test will skip"
  fi
fi

# The UI builds with npm while the Go builds below run: it finishes inside them on a cold machine.
say "KubePolaris UI (cached after the first build; built in the background)"
bash scripts/app/frontend.sh >/dev/null &
ui_build=$!
# Real nodes' add-ons (Debian's containerd, runc, CNI plugins, iptables, ipset, image tools; CoreDNS
# and kube-router built with go install): in the background, beside the builds below.
node_addons=""
if [[ "$(id -u)" -eq 0 ]]; then
  say "real nodes' add-ons, in the background (cached after the first build)"
  bash scripts/cluster/ensure.sh --node >/dev/null &
  node_addons=$!
else
  say "not root: the real-node cluster test will skip (it needs root)"
fi

# The backend, the engine and the control plane side by side too: each starts with minutes of
# module downloads (the CPU idle), which one after the other put on the cold critical path
# (backend 8.5 min, then the engine 22.5 min, then the control plane 11 min on a cold run).
say "KubePolaris backend, Pulumi engine toolchain, local control plane binaries (cached after the first build)"
bash scripts/app/backend.sh >/dev/null &
backend_build=$!
bash scripts/toolchain.sh >/dev/null &
engine_build=$!
bash scripts/cluster/ensure.sh >/dev/null &
control_plane_build=$!
wait "$backend_build" || { say "scripts/app/backend.sh failed"; exit 1; }
wait "$engine_build" || { say "scripts/toolchain.sh failed"; exit 1; }
wait "$control_plane_build" || { say "scripts/cluster/ensure.sh failed"; exit 1; }
if [[ -n "$node_addons" ]]; then
  wait "$node_addons" || { say "scripts/cluster/ensure.sh --node failed"; exit 1; }
fi
wait "$ui_build" || { say "the KubePolaris UI build failed (scripts/app/frontend.sh)"; exit 1; }
say "crane (cached after the first build)"
wait "$crane_build" || { say "scripts/images/crane.sh failed"; exit 1; }
wait "$vegeta_build" || { say "scripts/drill/vegeta.sh failed"; exit 1; }
wait "$metrics_server_build" || { say "scripts/cluster/metrics-server.sh failed"; exit 1; }
say "Traefik and the Gateway API CRDs (cached after the first build)"
wait "$traefik_build" || { say "scripts/edge/traefik.sh failed"; exit 1; }
if [[ -n "$node_addons" ]]; then
  # The local stack's images for the real-node tests (test/cluster/local-app.test.ts), side by side:
  # cold, mostly mmdebstrap waiting on apt (~3 min together); warm, a hash check each.
  say "the local stack's images (cached after the first build)"
  image_builds=()
  for image in backend frontend database traefik coredns; do
    bash scripts/cluster/images.sh --tar "$image" >/dev/null & image_builds+=($!)
  done
  for pid in "${image_builds[@]}"; do wait "$pid" || { say "scripts/cluster/images.sh failed"; exit 1; }; done
fi
say "ready"

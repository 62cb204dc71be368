#!/usr/bin/env bash
# The main job: the local stack, deployed by the real Pulumi engine into the local control plane.
#
#   scripts/up.sh [up]             npm run up: start the cluster if needed (scripts/cluster/cluster.sh up),
#                                  `pulumi up --stack local --yes` with the policy pack
#                                  (policy/config/local.json), then print the stack outputs
#   scripts/up.sh destroy          npm run destroy: `pulumi destroy --stack local --yes`, then check
#                                  that the namespace is gone
#   scripts/up.sh pulumi ARGS...   any pulumi command on the local stack, same setup (e.g.
#                                  `scripts/up.sh pulumi preview --expect-no-changes`)
#   (extra arguments after `up` or `destroy` go to pulumi, e.g. `npm run up -- --diff`)
#
# Setup every verb shares:
#  - the toolchain on PATH (scripts/toolchain.sh --env: CLI, language host, Kubernetes provider);
#  - a file backend outside the repo: PULUMI_BACKEND_URL=file://$KUBEPOLARIS_STATE_DIR
#    (default ~/.cache/kubepolaris-state); PULUMI_CONFIG_PASSPHRASE=kubepolaris-local (Pulumi.local.yaml);
#  - KUBECONFIG: the local cluster's (scripts/cluster/cluster.sh; KUBEPOLARIS_CLUSTER_DIR and
#    KUBEPOLARIS_CLUSTER_PORT_BASE choose which cluster);
#  - the engine runs from a mirror of the project (scripts/lib/engine-workdir.sh) holding a copy of
#    Pulumi.local.yaml, so neither `stack init` nor `config set` edits the repo's stack file. The
#    mirror is a fresh temp dir per run (the repo's config as it is now), or KUBEPOLARIS_STACK_WORKDIR
#    when set: made once and then reused, so `scripts/up.sh pulumi config set ...` changes the copy
#    there for the commands that follow (the cluster test does this).
# A stack whose resources were in a cluster that has since been removed (`npm run cluster:down`)
# is refreshed before `up`, so the engine recreates them instead of failing on objects that are gone.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK=local
CLUSTER="$REPO/scripts/cluster/cluster.sh"
VERB="${1:-up}"
[[ $# -gt 0 ]] && shift
START=$(date +%s)
say() { printf '[%s %4ss] %s\n' "$VERB" "$(( $(date +%s) - START ))" "$*" >&2; }

case "$VERB" in
  up|destroy|pulumi) ;;
  -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
  *) echo "up.sh: unknown verb '$VERB'; allowed: up, destroy, pulumi" >&2; exit 2 ;;
esac

# ------------------------------------------------------------------------------ setup
if [[ $VERB == up ]]; then
  # A new cluster has real nodes (root needed) unless KUBEPOLARIS_CLUSTER_KIND=kwok says fake ones (a
  # running cluster keeps its kind). On real nodes the stack's images are built here and loaded first.
  KUBECONFIG="$(bash "$CLUSTER" up | tail -1)" || { echo "up.sh: the local cluster did not start" >&2; exit 1; }
  bash "$CLUSTER" load backend frontend database traefik || { echo "up.sh: the local images could not be built or loaded" >&2; exit 1; }
else
  KUBECONFIG="$(bash "$CLUSTER" kubeconfig | tail -1)" || {
    echo "up.sh: the local cluster is not running (npm run cluster:up, or npm run up)" >&2; exit 1; }
fi
export KUBECONFIG

TOOLCHAIN_ENV="$("$REPO/scripts/toolchain.sh" --env)"   # builds on the first run
eval "$TOOLCHAIN_ENV"
STATE_DIR="${KUBEPOLARIS_STATE_DIR:-$HOME/.cache/kubepolaris-state}"
mkdir -p "$STATE_DIR"
export PULUMI_BACKEND_URL="file://$STATE_DIR"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-kubepolaris-local}"
# The engine runs the TypeScript program without type-checking it again (`npm run build` does, and
# CI fails on its errors): a minute less per `up` on a small machine.
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
# shellcheck source=lib/engine-workdir.sh
source "$REPO/scripts/lib/engine-workdir.sh"

if [[ -n "${KUBEPOLARIS_STACK_WORKDIR:-}" ]]; then
  WORK="$KUBEPOLARIS_STACK_WORKDIR"
  [[ -e "$WORK/Pulumi.yaml" ]] || engine_workdir "$REPO" "$WORK"
else
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  engine_workdir "$REPO" "$WORK"
fi
cd "$WORK"
pulumi stack select "$STACK" --create --non-interactive >/dev/null

kubectl_() { # the cluster's own kubectl (built with it)
  "$(bash "$REPO/scripts/cluster/ensure.sh" --check | tail -1)/kubectl" --kubeconfig "$KUBECONFIG" "$@"
}
namespace() { pulumi config get --stack "$STACK" kubepolaris:namespace 2>/dev/null || echo kubepolaris; }
resource_count() {
  pulumi stack export --stack "$STACK" | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log((s.deployment?.resources ?? []).filter((r) => r.type.startsWith("kubernetes:")).length);'
}

# ------------------------------------------------------------------------------ verbs
case "$VERB" in
  up)
    # Which cluster the state describes: the kube-system namespace's UID, kept beside the state.
    uid="$(kubectl_ get namespace kube-system -o jsonpath='{.metadata.uid}')"
    mark="$STATE_DIR/.cluster-uid-$STACK"
    if [[ -f "$mark" && "$(cat "$mark")" != "$uid" && "$(resource_count)" != 0 ]]; then
      say "the stack's state describes a cluster that is gone: pulumi refresh first"
      pulumi refresh --stack "$STACK" --yes --skip-preview --non-interactive --suppress-outputs >&2
    fi
    echo "$uid" > "$mark"
    say "pulumi up --stack $STACK (state: $STATE_DIR, kubeconfig: $KUBECONFIG)"
    pulumi up --stack "$STACK" --yes --non-interactive --skip-preview --suppress-outputs \
      --policy-pack "$REPO/policy" --policy-pack-config "$REPO/policy/config/local.json" "$@"
    say "done; stack outputs:"
    pulumi stack output --stack "$STACK"
    say "look at it: kubectl --kubeconfig $KUBECONFIG -n $(namespace) get all"
    ;;
  destroy)
    ns="$(namespace)"
    say "pulumi destroy --stack $STACK (state: $STATE_DIR)"
    pulumi destroy --stack "$STACK" --yes --non-interactive --skip-preview "$@"
    if kubectl_ get namespace "$ns" >/dev/null 2>&1; then
      echo "destroy: namespace $ns is still there: $(kubectl_ get namespace "$ns" -o jsonpath='{.status.phase}')" >&2
      exit 1
    fi
    say "namespace $ns is gone"
    ;;
  pulumi)
    pulumi "$@"
    ;;
esac

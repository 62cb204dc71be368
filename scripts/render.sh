#!/usr/bin/env bash
# npm run render: run the program through the real Pulumi engine (`pulumi up --yes`) with the
# kubernetes provider in renderYamlToDirectory mode, so every manifest is written to rendered/
# (git-ignored) and nothing touches a cluster.
#
#   scripts/render.sh [--stack local] [--out DIR] [--program DIR] [-- extra pulumi up args]
#
# The stack's config file is not modified: the engine runs from a mirror of the project
# (scripts/lib/engine-workdir.sh) whose copy of Pulumi.<stack>.yaml gets
# kubepolaris:kubernetes.renderYamlToDirectory. State goes to a throwaway file backend,
# so each run writes every manifest afresh.
# PULUMI_CONFIG_PASSPHRASE defaults to the local stack's throwaway passphrase.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK=local
OUT="$REPO/rendered"
PROGRAM="$REPO"
EXTRA=()
while (($#)); do
  case "$1" in
    --stack) STACK="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --program) PROGRAM="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "render.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PROGRAM="$(cd "$PROGRAM" && pwd)"

TOOLCHAIN_ENV="$("$REPO/scripts/toolchain.sh" --env)"   # fails here if the install fails
eval "$TOOLCHAIN_ENV"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-kubepolaris-local}"

# shellcheck source=lib/engine-workdir.sh
source "$REPO/scripts/lib/engine-workdir.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PULUMI_BACKEND_URL="file://$WORK/state"
mkdir -p "$WORK/state"
# Run from a mirror of the project: Pulumi.<stack>.yaml is a copy there, so neither
# `stack init` nor `config set` can touch the real one.
engine_workdir "$PROGRAM" "$WORK/project"
PROJECT="$(project_name "$PROGRAM")"

cd "$WORK/project"
pulumi stack init "$STACK" --non-interactive >/dev/null
pulumi config set --stack "$STACK" --path "$PROJECT:kubernetes.renderYamlToDirectory" "$OUT"

# Old manifests would survive a resource rename: clear what the provider writes.
rm -rf "$OUT/0-crd" "$OUT/1-manifests"
pulumi up --stack "$STACK" --yes --skip-preview --non-interactive ${EXTRA[@]+"${EXTRA[@]}"}
echo "rendered $(find "$OUT" -type f -name '*.yaml' | wc -l) manifests into $OUT" >&2

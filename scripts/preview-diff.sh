#!/usr/bin/env bash
# Shows what a config change would do to a stack, through the real Pulumi engine
# (`pulumi preview --diff`), without editing Pulumi.<stack>.yaml or any state: the engine runs
# from a mirror of the project (scripts/lib/engine-workdir.sh) with copies of the stack files.
#
#   scripts/preview-diff.sh [options] STACK KEY=VALUE [KEY=VALUE ...]
#   e.g. scripts/preview-diff.sh local kubepolaris:tier=medium
#        scripts/preview-diff.sh local tier=large backend.minReplicas=4   (bare keys get the project prefix;
#                                                                            dots are config paths)
# Options:
#   --against-state  preview against the stack's existing state in $PULUMI_BACKEND_URL (e.g. a real
#                    dev/staging/prod stack: needs the AWS provider plugin, credentials, kubeconfig).
#                    Default: a throwaway file backend, where the stack as configured now is first
#                    deployed in render mode (manifests to a temp dir, no cluster), so the diff shows
#                    exactly what the change does relative to today's config.
#   --program DIR    the Pulumi project (default: the repo root)
#   --secret         set the values as secrets
#   -- ARGS          extra arguments for `pulumi preview`
# Exit status: pulumi preview's (non-zero on errors, or with --expect-no-changes in ARGS).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROGRAM="$REPO"
AGAINST_STATE=0
SECRET=()
EXTRA=()
POS=()
while (($#)); do
  case "$1" in
    --against-state) AGAINST_STATE=1; shift ;;
    --program) PROGRAM="$2"; shift 2 ;;
    --secret) SECRET=(--secret); shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) POS+=("$1"); shift ;;
  esac
done
if ((${#POS[@]} < 2)); then
  echo "usage: scripts/preview-diff.sh [--against-state] [--program DIR] STACK KEY=VALUE [KEY=VALUE ...]" >&2
  exit 2
fi
STACK="${POS[0]}"
CHANGES=("${POS[@]:1}")
PROGRAM="$(cd "$PROGRAM" && pwd)"

TOOLCHAIN_ENV="$("$REPO/scripts/toolchain.sh" --env)"   # fails here if the install fails
eval "$TOOLCHAIN_ENV"
if [[ "$STACK" == local ]]; then
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-kubepolaris-local}"
fi
# shellcheck source=lib/engine-workdir.sh
source "$REPO/scripts/lib/engine-workdir.sh"
PROJECT="$(project_name "$PROGRAM")"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The engine runs from a mirror of the project (copies of the stack files), so the real
# Pulumi.<stack>.yaml is never edited. BASE and NEXT are two copies of the stack file.
engine_workdir "$PROGRAM" "$WORK/project"
STACKFILE="$WORK/project/Pulumi.$STACK.yaml"
[[ -f "$STACKFILE" ]] || : > "$STACKFILE"
cd "$WORK/project"

if [[ $AGAINST_STATE == 0 ]]; then
  export PULUMI_BACKEND_URL="file://$WORK/state"
  mkdir -p "$WORK/state"
  pulumi stack init "$STACK" --non-interactive >/dev/null
  # Render mode keeps the baseline away from any cluster; it is the same in both configs.
  pulumi config set --stack "$STACK" --path "$PROJECT:kubernetes.renderYamlToDirectory" "$WORK/rendered"
fi
BASE="$WORK/Pulumi.$STACK.base.yaml"
NEXT="$WORK/Pulumi.$STACK.next.yaml"
cp "$STACKFILE" "$BASE"
for change in "${CHANGES[@]}"; do
  key="${change%%=*}"
  value="${change#*=}"
  [[ "$change" == *=* && -n "$key" ]] || { echo "preview-diff: expected KEY=VALUE, got '$change'" >&2; exit 2; }
  [[ "$key" == *:* ]] || key="$PROJECT:$key"
  pulumi config set --stack "$STACK" --path ${SECRET[@]+"${SECRET[@]}"} "$key" "$value"
done
cp "$STACKFILE" "$NEXT"

if [[ $AGAINST_STATE == 0 ]]; then
  echo "preview-diff: deploying the current $STACK config to a throwaway backend (render mode) as the baseline..." >&2
  cp "$BASE" "$STACKFILE"
  pulumi up --stack "$STACK" --yes --skip-preview --non-interactive --suppress-outputs \
    >"$WORK/baseline.log" 2>&1 || { cat "$WORK/baseline.log" >&2; exit 1; }
  cp "$NEXT" "$STACKFILE"
fi
echo "preview-diff: ${CHANGES[*]} on stack $STACK" >&2
pulumi preview --stack "$STACK" --diff --non-interactive ${EXTRA[@]+"${EXTRA[@]}"}

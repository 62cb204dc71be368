#!/usr/bin/env bash
# npm run checks:external: the checkers operators already run on manifests, on every stack.
# Renders each stack's Kubernetes objects from the mock run (tools/renderManifests.ts: one YAML
# file per object, Secret values redacted) under build/ (git-ignored), runs kube-score and
# Checkov on them (pinned in scripts/toolchain.versions, installed once outside the repo by
# scripts/external-tools.sh) and prints every finding that is neither fixed nor waived in the
# manifest itself (docs/external-checks.md lists the waivers).
#
#   scripts/external-checks.sh [--out DIR] [--stack NAME ...]     (default: every stack)
#
# Exit 0: no unwaived finding; 1: findings (each printed); 2: a tool could not be installed or run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/build/external-checks"
STACK_ARGS=()
while (($#)); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --stack) STACK_ARGS+=(--stack "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "external-checks.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# The kubernetes version kube-score judges API versions against: EKS 1.30+ (the preStop sleep action).
KUBE_SCORE_K8S_VERSION=v1.30

PREFIX="$(bash "$REPO/scripts/external-tools.sh")" || { echo "external-checks.sh: kube-score/Checkov could not be installed" >&2; exit 2; }
KUBE_SCORE="$PREFIX/bin/kube-score"
CHECKOV="$PREFIX/venv/bin/checkov"

rm -rf "$OUT"
mkdir -p "$OUT"
cd "$REPO"
node_modules/.bin/ts-node --transpile-only --project tsconfig.json tools/renderManifests.ts --out "$OUT/manifests" ${STACK_ARGS[@]+"${STACK_ARGS[@]}"} \
  || { echo "external-checks.sh: rendering the manifests failed" >&2; exit 2; }

for dir in "$OUT"/manifests/*/; do
  stack="$(basename "$dir")"
  mkdir -p "$OUT/reports/$stack"
  # Both exit 1 on findings; their JSON reports are read (and checked for sanity) below.
  set +e
  "$KUBE_SCORE" score --kubernetes-version "$KUBE_SCORE_K8S_VERSION" --output-format json "$dir"*.yaml \
    > "$OUT/reports/$stack/kube-score.json" 2> "$OUT/reports/$stack/kube-score.err"
  ks=$?
  # --skip-download: no calls to the vendor's platform (nothing but package registries is reachable).
  "$CHECKOV" --directory "$dir" --framework kubernetes --output json --compact --skip-download \
    > "$OUT/reports/$stack/checkov.json" 2> "$OUT/reports/$stack/checkov.err"
  ck=$?
  set -e
  for rc_tool in "$ks:kube-score" "$ck:checkov"; do
    if [ "${rc_tool%%:*}" -gt 1 ]; then
      echo "external-checks.sh: ${rc_tool#*:} failed on $stack (exit ${rc_tool%%:*}):" >&2
      cat "$OUT/reports/$stack/${rc_tool#*:}.err" >&2
      exit 2
    fi
  done
done

node_modules/.bin/ts-node --transpile-only --project tsconfig.json tools/externalFindings.ts "$OUT/reports"

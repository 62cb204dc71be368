#!/usr/bin/env bash
# The engine checks on their own: install the Pulumi toolchain (scripts/toolchain.sh; cached
# outside the repo, minutes cold, < 1 s warm) and promtool, then run test/engine with the
# toolchain required (a missing toolchain fails instead of skipping).
#   scripts/engine-check.sh [extra jest args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/toolchain.sh >/dev/null
if [[ -x scripts/install-promtool.sh ]] || [[ -f scripts/install-promtool.sh ]]; then
  bash scripts/install-promtool.sh >&2
fi
KUBEPOLARIS_REQUIRE_ENGINE=1 npx --no-install jest test/engine "$@"

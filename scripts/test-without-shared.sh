#!/usr/bin/env bash
# Runs the suite from a fresh clone of this checkout placed where no sibling shared/ exists,
# as a newcomer from a code host would have it: the tests that need ../shared/ must be
# skipped (each with its reason) and everything else must pass. Uses the checkout's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-hardlinks "$here" "$tmp/handover-dossier"
cd "$tmp/handover-dossier"
[ ! -e ../shared ] || { echo "unexpected sibling shared/ at $tmp" >&2; exit 1; }
# Installed in editable mode, handover_dossier resolves to this checkout's code: the same commit.
env -u DOSSIER_SHARED "$here/.venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider -rs "$@" | tee "$tmp/out.txt"
grep -q "skipped" "$tmp/out.txt" || { echo "expected the shared-data tests to be skipped" >&2; exit 1; }

# Sourced by the other scripts: make .venv and install the project into it.
# Re-installs only when pyproject.toml changed, so repeated runs start fast.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Optional extras on top of dev (bench/run adds "bench": OR-Tools for comparisons).
extras=${FIELDSYNC_EXTRAS:-dev}
stamp=.venv/.fieldsync-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  echo "$want" > "$stamp"
fi
# shellcheck disable=SC1091
. .venv/bin/activate

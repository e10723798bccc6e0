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

# Front-end packages of the manager map (Leaflet, Geoman, Chart.js) from the npm
# registry into web/node_modules; again only when the lock file changed.
if [ -f web/package-lock.json ]; then
  web_stamp=web/node_modules/.fieldsync-installed
  web_want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_want" ]; then
    command -v npm >/dev/null || { echo "npm (Node.js 18+) is needed for the map page" >&2; exit 1; }
    npm ci --prefix web --no-audit --no-fund --loglevel=error
    echo "$web_want" > "$web_stamp"
  fi
fi

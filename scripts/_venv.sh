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
want="$(cat pyproject.toml clients/python/pyproject.toml | sha256sum | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The service, and the reference Python client (its own package in clients/python).
  .venv/bin/python -m pip install --quiet -e ".[$extras]" -e clients/python
  echo "$want" > "$stamp"
fi
# shellcheck disable=SC1091
. .venv/bin/activate

# npm packages, each directory from its own lock file, again only when that file changed:
# web/ (the manager map's browser libraries: Leaflet, Geoman, Chart.js) and
# clients/watermelondb/ (WatermelonDB + LokiJS for the real-client sync test) and
# clients/js/ (the JavaScript SDK: Dexie, decimal.js; fake-indexeddb and TypeScript for its
# tests and type check).
_fieldsync_npm_ci() {
  local dir=$1 why=$2 stamp want
  [ -f "$dir/package-lock.json" ] || return 0
  stamp=$dir/node_modules/.fieldsync-installed
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    command -v npm >/dev/null || { echo "npm is needed for $why" >&2; exit 1; }
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}
_fieldsync_npm_ci web "the map page (Node.js 18+)"
_fieldsync_npm_ci clients/watermelondb "the WatermelonDB client test (Node.js 20+)"
_fieldsync_npm_ci clients/js "the JavaScript SDK tests (Node.js 20+)"
# clients/app/ (the reps' app, served at /app/): installed from its lock file, then built
# into clients/app/dist/ when its sources, the SDK's or the message catalogue changed.
_fieldsync_npm_ci clients/app "the reps' app at /app/ (Node.js 20+)"
_fieldsync_app_build() {
  local stamp=clients/app/dist/.fieldsync-built want
  [ -f clients/app/package-lock.json ] || return 0
  want=$(cat clients/app/package-lock.json clients/app/vite.config.js clients/app/index.html \
    $(find clients/app/src clients/app/public clients/js/src server/web/static/i18n -type f | sort) \
    | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    npm run build --prefix clients/app --silent >/dev/null
    echo "$want" > "$stamp"
  fi
}
_fieldsync_app_build
unset -f _fieldsync_npm_ci _fieldsync_app_build  # this file is sourced: leave no helper behind

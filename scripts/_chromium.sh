# Sourced by scripts/test: the browser tests drive Debian's Chromium through
# Playwright. Installs it with apt when missing and we are root; otherwise the
# browser tests say why they skip (and fail in CI).
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "chromium is not installed (apt-get install chromium): browser tests will skip" >&2
  fi
fi

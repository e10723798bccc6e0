# Sourced by scripts/test: the production-stack test (tests/e2e/test_production_stack.py)
# starts Debian's nginx with deploy/nginx.conf. Installs it with apt when missing and we
# are root (with gettext-base for envsubst); otherwise that test says why it skips (and
# fails in CI).
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing nginx (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q nginx gettext-base >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q nginx gettext-base >/dev/null; }
    # Debian starts the packaged site on port 80: the tests start their own nginx.
    if command -v service >/dev/null; then service nginx stop >/dev/null 2>&1 || true; fi
  else
    echo "nginx is not installed (apt-get install nginx): the production-stack test will skip" >&2
  fi
fi

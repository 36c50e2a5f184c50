#!/usr/bin/env bash
# Runs every test of balcao. On a fresh machine it first installs and starts what the
# tests need: Debian's Chromium (browser tests), Firefox ESR and Xvfb (the call pages in
# Firefox), WebKitGTK's WebKitWebDriver and MiniBrowser (the call pages in WebKit,
# Safari's engine), axe-core from npm (accessibility audits) and a PostgreSQL server
# (every store test runs on SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Chromium" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Firefox ESR: the citizen's call pages are also tested in Firefox, driven over WebDriver
# BiDi (no geckodriver); Xvfb gives it a virtual screen to share.
firefox_pkgs=()
command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || firefox_pkgs+=(firefox-esr)
command -v Xvfb >/dev/null 2>&1 || firefox_pkgs+=(xvfb)
if [ ${#firefox_pkgs[@]} -gt 0 ]; then
  echo "test.sh: installing ${firefox_pkgs[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${firefox_pkgs[@]}" >/dev/null
fi

# WebKitGTK: the citizen's device check and waiting room are also tested in WebKit,
# driven by WebKitWebDriver (package webkit2gtk-driver, which brings
# libwebkit2gtk-4.1-0 and its MiniBrowser) under Xvfb.
webkit_pkgs=()
command -v WebKitWebDriver >/dev/null 2>&1 || webkit_pkgs+=(webkit2gtk-driver)
compgen -G '/usr/lib/*/webkit2gtk-4.1/MiniBrowser' >/dev/null || webkit_pkgs+=(libwebkit2gtk-4.1-0)
command -v Xvfb >/dev/null 2>&1 || webkit_pkgs+=(xvfb)
if [ ${#webkit_pkgs[@]} -gt 0 ]; then
  echo "test.sh: installing ${webkit_pkgs[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${webkit_pkgs[@]}" >/dev/null
fi

if [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "test.sh: installing axe-core" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# Mailpit: a real SMTP server for the e-mail tests, built from the Go module proxy.
if ! command -v mailpit >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/mailpit" ]; then
  echo "test.sh: installing Mailpit" >&2
  go install github.com/axllent/mailpit@v1.33.1
fi
export PATH="$PATH:$(go env GOPATH)/bin"

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if [ ! -d /etc/postgresql ]; then
    echo "test.sh: installing PostgreSQL" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  echo "test.sh: starting PostgreSQL" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
  # Trust authentication on loopback, as the tests connect as postgres without a password.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    echo "test.sh: PostgreSQL at 127.0.0.1:5432 does not accept user postgres without a password;" >&2
    echo "          set BALCAO_TEST_POSTGRES to a URL the tests can use." >&2
  fi
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 9m ./...

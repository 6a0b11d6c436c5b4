#!/usr/bin/env bash
# Installs Debian's headless browser for the dashboard's end-to-end tests, if missing:
# `chromium` (the browser, /usr/bin/chromium) and `chromium-driver`. Playwright for Python
# drives it with executable_path=/usr/bin/chromium; no browser is ever downloaded by Playwright
# (never run `playwright install`).
#   bash scripts/browser.sh        install if missing, print the version
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser: installing ${missing[*]} from Debian packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-noto-cjk >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null || { echo "browser: /usr/bin/chromium missing after install" >&2; exit 1; }

#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium for test/browser.test.ts.
# Playwright's own browser download cannot work where only package registries are reachable,
# so the browser test drives the distribution's chromium through playwright-core instead.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is not installed and this is not root; install it with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
  echo "(test/browser.test.ts skips until $CHROMIUM exists)" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and apt-get is unavailable: install a Chromium at $CHROMIUM by hand" >&2
  exit 0
fi

echo "installing Debian's chromium..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

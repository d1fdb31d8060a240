#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium for the browser tests (ui-tests/):
# Playwright drives it through launchOptions.executablePath and never downloads a browser.
# As root it runs apt-get; otherwise it tries `sudo -n` and fails with what to run when it cannot.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
say() { printf 'ensure-chromium: %s\n' "$*" >&2; }

[[ -x "$CHROMIUM" ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  say "$CHROMIUM is missing and there is no apt-get here: install Chromium so that $CHROMIUM runs it."
  exit 1
fi

install=(apt-get install -y --no-install-recommends chromium)
if [[ "$(id -u)" == 0 ]]; then
  say "installing Debian's chromium (apt-get)…"
  apt-get update
  DEBIAN_FRONTEND=noninteractive "${install[@]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  say "installing Debian's chromium (sudo -n apt-get)…"
  sudo -n apt-get update
  sudo -n env DEBIAN_FRONTEND=noninteractive "${install[@]}"
else
  say "$CHROMIUM is missing, and installing it needs root. Run:"
  say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium"
  exit 1
fi

if [[ ! -x "$CHROMIUM" ]]; then
  say "apt-get finished but $CHROMIUM is still missing"
  exit 1
fi
say "installed: $("$CHROMIUM" --version 2>/dev/null | tail -n 1)"

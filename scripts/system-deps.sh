#!/usr/bin/env bash
# Installs the Debian packages Stretch Coach needs, only those that are missing.
# Uses sudo when not root. Safe to run again: does nothing when all are present.
# With --test also the browser the phone page's tests drive (not needed on a coach).
set -euo pipefail
PACKAGES=(libportaudio2 espeak-ng sox libsox-fmt-all alsa-utils systemd)
[ "${1:-}" = "--test" ] && PACKAGES+=(chromium chromium-driver)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "system-deps: apt-get not found; install these yourself: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

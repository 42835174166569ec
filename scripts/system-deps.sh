#!/usr/bin/env bash
# Installs the Debian packages Stretch Coach needs, only those that are missing.
# Uses sudo when not root. Safe to run again: does nothing when all are present.
#   (no argument)  what `make demo` and `make test` need: the coach's and the tests' tools
#   --test         also the browser the phone page's tests drive and shellcheck (not on a coach)
#   --runtime      only what the coach itself needs (make setup/run, systemd/install.sh)
set -euo pipefail
# The coach: PortAudio for sounddevice (Piper carries its own espeak-ng); `aplay -l` and
# `arecord -l`, which its messages about missing devices suggest.
RUNTIME=(libportaudio2 alsa-utils)
# The demo and the tests: espeak-ng voices, sox, systemd-analyze.
DEV=(espeak-ng sox libsox-fmt-all systemd)
case "${1:-}" in
  "") PACKAGES=("${RUNTIME[@]}" "${DEV[@]}") ;;
  --test) PACKAGES=("${RUNTIME[@]}" "${DEV[@]}" chromium chromium-driver shellcheck) ;;
  --runtime) PACKAGES=("${RUNTIME[@]}") ;;
  *)
    echo "usage: bash scripts/system-deps.sh [--test | --runtime]" >&2
    exit 2
    ;;
esac
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

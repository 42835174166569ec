#!/usr/bin/env bash
# Installs Stretch Coach as a system service, or removes it again.
#   sudo bash systemd/install.sh install     (make install)
#   sudo bash systemd/install.sh uninstall   (make uninstall; keeps settings and progress)
# Layout: app venv /opt/stretch-coach/venv, unit /etc/systemd/system/stretch-coach.service,
# settings /etc/stretch-coach, progress and models /var/lib/stretch-coach, cache
# /var/cache/stretch-coach, service user `stretch-coach` (groups audio, gpio).
# Installs the Debian packages the coach needs (scripts/system-deps.sh --runtime) and the
# Python packages at the versions constraints.txt pins; the repository's .venv is not used.
set -euo pipefail
umask 022

APP=stretch-coach
PREFIX=/opt/$APP
VENV=$PREFIX/venv
UNIT_DIR=/etc/systemd/system
UNIT=$APP.service
CONFIG_DIR=/etc/$APP
STATE_DIR=/var/lib/$APP
CACHE_DIR=/var/cache/$APP
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONSTRAINTS=$REPO/constraints.txt
# The system's Python: the service cannot reach one under /root or /home (ProtectHome=yes).
PYTHON=${PYTHON:-/usr/bin/python3}

say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root: sudo bash systemd/install.sh $1"
}

systemd_running() {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null
}

is_pi() {
  local model
  for model in /proc/device-tree/model /sys/firmware/devicetree/base/model; do
    [ -r "$model" ] && tr -d '\0' <"$model" | grep -q "Raspberry Pi" && return 0
  done
  return 1
}

create_user() {
  if ! id -u "$APP" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "Stretch Coach service" "$APP"
    say "created system user $APP"
  fi
  local group
  for group in audio gpio; do
    if getent group "$group" >/dev/null; then
      usermod -aG "$group" "$APP"
    else
      # The unit names both groups (SupplementaryGroups=); a missing one stops it starting.
      groupadd --system "$group"
      usermod -aG "$group" "$APP"
      say "created the missing (empty) group $group"
    fi
  done
}

install_system_deps() {
  # PortAudio (the microphone and speaker) and the ALSA tools; without apt-get it stops
  # here and names them.
  bash "$REPO/scripts/system-deps.sh" --runtime ||
    die "could not install the Debian packages the service needs (see above); install them and run this again"
}

install_app() {
  # On a Pi the venv sees the system's python3-lgpio (the GPIO library the unit allows).
  local venv_args=()
  if is_pi; then
    venv_args+=(--system-site-packages)
    if ! dpkg-query -W -f='${Status}' python3-lgpio 2>/dev/null | grep -q "ok installed"; then
      say "note: the button and LED need python3-lgpio under the service (the Pi 5 has no other"
      say "  choice; elsewhere the fallbacks need /sys/class/gpio, which the unit keeps read-only):"
      say "  sudo apt install python3-lgpio"
    fi
  fi
  mkdir -p "$PREFIX"
  "$PYTHON" -m venv "${venv_args[@]}" "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # A regular (not editable) install: the wheel carries skill/ and the exercises/ folder.
  # The dependencies at the exact versions of constraints.txt, the ones `make test` checks.
  [ -f "$CONSTRAINTS" ] || die "$CONSTRAINTS is missing: it pins the versions to install"
  "$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS" "$REPO" ||
    die "pip could not install $REPO into $VENV (it needs PyPI for the dependencies)"
  if [ -f "$REPO/README.md" ]; then cp "$REPO/README.md" "$PREFIX/README.md"; fi
  cp "$REPO/systemd/README.md" "$PREFIX/SERVICE.md"
  say "installed the app in $VENV"
}

prepare_dirs() {
  install -d -m 0755 "$CONFIG_DIR"
  install -d -m 0700 -o "$APP" -g "$APP" "$STATE_DIR" "$CACHE_DIR"
  if [ ! -e "$CONFIG_DIR/config.yaml" ]; then
    "$VENV/bin/python" -c 'from skill.config import describe; print(describe(), end="")' |
      sed -e 's/^\([a-z_]*:\)/# \1/' >"$CONFIG_DIR/config.yaml"
    chmod 0644 "$CONFIG_DIR/config.yaml"
    say "wrote $CONFIG_DIR/config.yaml (every key commented out, with its default)"
  fi
  # Models and voices are fetched now, as the service user, where the service looks for
  # them: the service itself never downloads, and its unit lets it reach only loopback,
  # link-local and private addresses (IPAddressDeny=any, IPAddressAllow=), not the internet.
  if "$VENV/bin/stretch-coach" setup --help >/dev/null 2>&1; then
    runuser -u "$APP" -- env STATE_DIRECTORY="$STATE_DIR" CACHE_DIRECTORY="$CACHE_DIR" \
      CONFIGURATION_DIRECTORY="$CONFIG_DIR" HOME="$STATE_DIR" \
      "$VENV/bin/stretch-coach" setup ||
      say "warning: 'stretch-coach setup' failed; run it again later as shown in systemd/README.md"
  fi
}

# The command line a person uses for the service (see systemd/stretch-coach-cli).
CLI=/usr/local/bin/$APP

install_cli() {
  install -m 0755 "$REPO/systemd/stretch-coach-cli" "$CLI"
  say "installed $CLI: 'stretch-coach history', 'status' or 'check' read the service's files"
}

install_unit() {
  install -m 0644 "$REPO/systemd/$UNIT" "$UNIT_DIR/$UNIT"
  if ! systemd_running; then
    say "systemd is not running here: the unit is installed in $UNIT_DIR but not started."
    say "On the Pi: sudo systemctl daemon-reload && sudo systemctl enable --now $APP"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --now "$UNIT"
  say "started. Status: systemctl status $APP   Logs: journalctl -u $APP -f"
}

do_install() {
  need_root install
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install python3 and python3-venv"
  case "$(readlink -f "$(command -v "$PYTHON")")" in
    /root/* | /home/*) die "$PYTHON lives under /root or /home, which the service cannot read; use PYTHON=/usr/bin/python3" ;;
  esac
  install_system_deps
  create_user
  install_app
  prepare_dirs
  install_cli
  install_unit
}

do_uninstall() {
  need_root uninstall
  if systemd_running && systemctl cat "$UNIT" >/dev/null 2>&1; then
    systemctl disable --now "$UNIT" || true
  fi
  rm -f "$UNIT_DIR/$UNIT"
  if systemd_running; then systemctl daemon-reload; fi
  rm -rf "$PREFIX" "$CACHE_DIR"
  rm -f "$CLI"
  say "removed the service, $PREFIX, $CLI and the cache $CACHE_DIR."
  say "kept your settings in $CONFIG_DIR and progress/models in $STATE_DIR,"
  say "and the system user $APP. To remove those too:"
  say "  sudo rm -rf $CONFIG_DIR $STATE_DIR && sudo userdel $APP"
}

case "${1:-}" in
  install) do_install ;;
  uninstall) do_uninstall ;;
  *) die "usage: bash systemd/install.sh install|uninstall" ;;
esac

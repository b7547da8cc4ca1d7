#!/usr/bin/env bash
# Makes sure the host tools the build and the tests rely on are installed and
# that a Docker engine answers. Safe to run any number of times; when all is in
# place it only asks dpkg and the engine, and prints nothing.
set -euo pipefail

# prometheus (promtool, and a server the tests start on 127.0.0.1 to scrape a scheduler) and
# chromium (the status page's browser tests): the tests run the binaries themselves and never
# use the package's own service.
readonly PACKAGES=(docker.io docker-compose git openssh-client openssh-server mmdebstrap busybox-static tini logrotate acl prometheus chromium)
readonly PIDFILE=/var/run/dockerd-ci.pid
readonly LOGFILE=/var/log/dockerd-ci.log
readonly DEADLINE_SECONDS=${DOCKERD_START_TIMEOUT:-60}

say() { printf 'ensure-docker: %s\n' "$*"; }
die() { printf 'ensure-docker: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "this step needs root (or password-less sudo): $*"
  fi
}

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

install_missing() {
  local missing log
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]}"
  log=$(mktemp)
  # Lock timeout: another apt run on the same machine may hold the lock for a
  # while. needrestart has nothing to restart in a build machine's session.
  if ! as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
      sh -c 'apt-get -o DPkg::Lock::Timeout=600 -q update &&
             apt-get -o DPkg::Lock::Timeout=600 -q -y install "$@"' apt "${missing[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    die "apt-get could not install ${missing[*]}"
  fi
  rm -f "$log"
}

engine_answers() {
  # /usr/local/bin/docker may be another client than Debian's; either one
  # answering is enough, both speak to the same socket.
  docker info >/dev/null 2>&1 || /usr/bin/docker info >/dev/null 2>&1
}

dockerd_alive() {
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_engine() {
  engine_answers && return 0
  if dockerd_alive; then
    say "dockerd (pid $(cat "$PIDFILE")) is starting; waiting for it"
  elif pgrep -x dockerd >/dev/null 2>&1; then
    say "a dockerd not started by this script is running; waiting for it"
  else
    # A pidfile left by an engine that died would make dockerd refuse to start.
    as_root rm -f "$PIDFILE"
    say "starting dockerd (log: $LOGFILE)"
    # setsid + nohup: the engine must outlive the shell (and make job) that
    # started it, and must not hold that shell's terminal or pipes open.
    # shellcheck disable=SC2016 # expanded by the inner sh
    as_root setsid nohup sh -c 'exec dockerd --pidfile "$1" >>"$2" 2>&1' dockerd-ci "$PIDFILE" "$LOGFILE" \
      </dev/null >/dev/null 2>&1 &
  fi
  local deadline=$((SECONDS + DEADLINE_SECONDS))
  until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
      die "the Docker engine did not answer within ${DEADLINE_SECONDS}s; see $LOGFILE"
    fi
    sleep 0.5
  done
  say "docker engine is up"
}

install_missing
start_engine

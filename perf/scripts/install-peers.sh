#!/usr/bin/env bash
# Installs the peers that `kvhoard-perf blocks` compares kvhoard with: Debian's memcached and
# redis-server. Does nothing for a binary already on the PATH. Needs root (or sudo) and apt.
#
# apt starts each package's service on port 11211 / 6379; the benchmark starts its own servers
# on free ports, so those services are stopped again (systemd if it runs, else the init script).
set -euo pipefail

need=()
command -v memcached >/dev/null 2>&1 || need+=(memcached)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-peers.sh: ${need[*]} missing and there is no apt-get; install them by hand" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "install-peers.sh: ${need[*]} missing; run as root (or with sudo) to apt-get install them" >&2
    exit 1
  fi
fi

echo "install-peers.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2

# Stop the services apt may have started: they hold the default ports and memory.
for svc in memcached redis-server; do
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    "${sudo[@]}" systemctl stop "$svc" >/dev/null 2>&1 || true
    "${sudo[@]}" systemctl disable "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ]; then
    "${sudo[@]}" "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done

command -v memcached >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 || {
  echo "install-peers.sh: apt-get finished but memcached or redis-server is still not on the PATH" >&2
  exit 1
}

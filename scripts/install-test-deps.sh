#!/usr/bin/env bash
# Installs what the vLLM KV-event test (VllmRealFormatTest) runs besides Java: Debian's python3
# with python3-zmq and python3-msgpack, the publisher side of vLLM's event format. Does nothing
# when /usr/bin/python3 already imports both. Needs root (or sudo) and apt; prints the
# interpreter to use on its last line.
set -euo pipefail

PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import zmq, msgpack' 2>/dev/null; then
  echo "$PY"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps.sh: python3-zmq and python3-msgpack missing and there is no apt-get;" \
    "install them by hand" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "install-test-deps.sh: python3-zmq and python3-msgpack missing; run as root (or with" \
      "sudo) to apt-get install them" >&2
    exit 1
  fi
fi

echo "install-test-deps.sh: installing python3 python3-zmq python3-msgpack" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y -q python3 python3-zmq python3-msgpack >&2; then
  "${sudo[@]}" apt-get update -q >&2
  "${sudo[@]}" apt-get install -y -q python3 python3-zmq python3-msgpack >&2
fi
"$PY" -c 'import zmq, msgpack' >&2
echo "$PY"

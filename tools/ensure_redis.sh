#!/bin/sh
# Make sure redis-server and redis-cli exist: the tests start private servers with them.
# Installs Debian's redis-server when missing and allowed (root or passwordless sudo, apt-get present);
# otherwise stops with a message that says how.
set -eu
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    exit 0
fi
echo "redis-server/redis-cli not found: the tests need them to start private servers." >&2
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        SUDO="none"
    fi
    if [ "$SUDO" != "none" ]; then
        echo "Installing Debian's redis-server with apt-get..." >&2
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
        # The package may start a system service on 6379; the tests never use it.
        command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && exit 0
    fi
fi
cat >&2 <<'MSG'
Could not install redis-server automatically. Install Redis 6.2 or newer so that `redis-server`
and `redis-cli` are on PATH, for example:
    sudo apt-get install redis-server      (Debian/Ubuntu)
    brew install redis                     (macOS)
then run `make test` again.
MSG
exit 1

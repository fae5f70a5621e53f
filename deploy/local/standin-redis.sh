#!/bin/sh
# The redis image runs as the redis user with protected mode off (its build patches the
# default: the server is reached over the compose network, without a password).
set -eu
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
exec "$@" --protected-mode no

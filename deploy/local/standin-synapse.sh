#!/bin/sh
# What the upstream image's /start.py does with SYNAPSE_CONFIG_PATH set and no arguments: run
# the homeserver with that config as UID:GID (default 991), dropping root first.
set -eu
: "${SYNAPSE_CONFIG_PATH:=/data/homeserver.yaml}"
if [ "$#" -gt 0 ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid="${UID:-991}" --regid="${GID:-991}" --clear-groups \
    python -m synapse.app.homeserver --config-path "$SYNAPSE_CONFIG_PATH"
fi
exec python -m synapse.app.homeserver --config-path "$SYNAPSE_CONFIG_PATH"

#!/bin/bash
# A replica set with authentication needs a key file for its members' internal
# authentication, even with a single member. Made once per volume, readable only by
# mongod's user, then the image's own entrypoint runs as usual (its first start creates
# the root user and runs initdb/ without --replSet and --keyFile).
set -euo pipefail
key=/data/db/replica-set.key
if [ ! -s "$key" ]; then
  openssl rand -base64 756 > "$key"
fi
chown 999:999 "$key"
chmod 400 "$key"
exec docker-entrypoint.sh "$@"

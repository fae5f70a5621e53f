#!/bin/sh
# Creates the Synapse and bots databases (C collation) with their own users. Runs once, on
# an empty data volume, inside the official postgres image.
set -eu
synapse_pw=$(cat /run/secrets/synapse_db_password)
bots_pw=$(cat /run/secrets/bots_db_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
  -v synapse_pw="$synapse_pw" -v bots_pw="$bots_pw" <<'SQL'
CREATE USER synapse WITH PASSWORD :'synapse_pw';
CREATE DATABASE synapse OWNER synapse TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE USER keerpunt WITH PASSWORD :'bots_pw';
CREATE DATABASE keerpunt OWNER keerpunt TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
SQL

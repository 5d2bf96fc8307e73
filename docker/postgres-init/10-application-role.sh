#!/bin/sh
# Run once by the postgres image when it creates the database (as POSTGRES_USER, the owner of
# the tables). The application's role logs in and owns nothing: `manage.py migrate`, run as
# the owner, grants it row access, and it can never switch the ledger's triggers off.
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$POSTGRES_APP_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE collections LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
SQL

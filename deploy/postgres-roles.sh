#!/bin/sh
# Run once by the postgres image on a new volume (/docker-entrypoint-initdb.d): a role for each onestop
# service, with the password given in <SERVICE>_DATABASE_PASSWORD, owning its own database and nothing else.
set -e
for service in intake routing cases notify analytics; do
    password="$(printenv "$(echo "$service" | tr '[:lower:]' '[:upper:]')_DATABASE_PASSWORD")"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v role="onestop_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE CONNECT, TEMPORARY ON DATABASE :"role" FROM PUBLIC;
SQL
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -c "REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC"

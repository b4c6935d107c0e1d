#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to
# the version of this admin-tools image. Every step is idempotent: it runs
# on each `docker compose up`, and after an image upgrade it applies the new
# schema versions before the new server starts.
#
# Reads SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (temporal-sql-tool reads
# the password from the environment), TEMPORAL_DB and
# TEMPORAL_VISIBILITY_DB.
set -eu

: "${SQL_HOST:?}" "${SQL_PORT:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
: "${TEMPORAL_DB:?}" "${TEMPORAL_VISIBILITY_DB:?}"
schemas=/etc/temporal/schema/postgresql/v12

sql() {
	temporal-sql-tool --plugin postgres12 --endpoint "$SQL_HOST" --port "$SQL_PORT" --user "$SQL_USER" "$@"
}

for pair in "$TEMPORAL_DB:temporal" "$TEMPORAL_VISIBILITY_DB:visibility"; do
	db=${pair%%:*}
	kind=${pair#*:}
	echo "temporal-schema: database $db ($kind)"
	sql --database "$db" create-database
	sql --database "$db" setup-schema --version 0.0
	sql --database "$db" update-schema --schema-dir "$schemas/$kind/versioned"
done
echo "temporal-schema: done"

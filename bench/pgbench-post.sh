#!/usr/bin/env bash
# bench/pgbench-post.sh runs pgbench's floor for a SCIM POST: one
# profile-sized and one event-sized row per transaction (pgbench_post.sql)
# on a fresh database holding only the contract's indexes
# (pgbench_post_schema.sql). It creates the database, loads the schema,
# runs pgbench with the given options (default: 8 clients, 2 threads,
# 10 s, simple protocol) and drops the database; pgbench's report goes to
# stdout.
#
# Usage: bench/pgbench-post.sh [pgbench options...]
# Environment: PGHOST (default 127.0.0.1), PGPORT (5432), PGUSER (postgres),
# PGDB (scimbridge_pgbench_post).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
db=${PGDB:-scimbridge_pgbench_post}
if [ $# -eq 0 ]; then
	set -- -c 8 -j 2 -T 10
fi

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"' EXIT
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$here/pgbench_post_schema.sql"
pgbench -n -f "$here/pgbench_post.sql" "$@" "$db"

#!/usr/bin/env bash
# bench/scale-rest.sh measures the rest of the system at a 1M-user
# organization's size on PostgreSQL (BENCHMARKS.md, "The rest of the system
# at 1M"): it seeds a database with bench/seedscale (organization big: a
# first sync's 1,000,000 profiles, events and change records plus 1,000,000
# SCIM events; organization archive: 10,000,000 events older than
# retention), then runs, each with SCIMBRIDGE_BENCH_SEEDED_URL pointing at
# it so that every harness adds its seeded case beside its fresh one:
#   scim     BenchmarkSCIMLoad, PostgreSQL (a fresh database, 100,000 users)
#            and PostgreSQL_seeded (the big organization, with the same
#            100,000 SCIM users added), clients in a child process
#   events   BenchmarkEventsPage (store: the console's and the API's query;
#            fresh tables of 2,000,000 events, then analysed, then the
#            seeded organization) and BenchmarkAPI_EventsPage (the admin API
#            handler on the seeded organization)
#   feed     BenchmarkFeedLag at 100 changes/s (a fresh database and the
#            seeded organization) and BenchmarkFeedReadAll (a consumer
#            reading the seeded feed from its start)
#   purge    BenchmarkPurgeUnderLoad: PurgeEvents of the 10,000,000 old
#            events while 8 clients POST (last: it deletes them)
# Each step prints the load average before it.
#
# Usage: bench/scale-rest.sh [STEP...]   (default: seed scim events feed purge)
# Environment: PGDB (default scimbridge_scale_rest; created and dropped
# through psql -h 127.0.0.1 -U postgres), USERS (1000000), SCIM_EVENTS
# (1000000), OLD_EVENTS (10000000), BENCHTIME (SCIM load per workload,
# default 15s), PURGE_BATCH (1000), KEEP=1 keeps the database.
# Step "reseed-old" adds OLD_EVENTS old events again (after a purge).
set -euo pipefail

PGDB=${PGDB:-scimbridge_scale_rest}
USERS=${USERS:-1000000}
SCIM_EVENTS=${SCIM_EVENTS:-1000000}
OLD_EVENTS=${OLD_EVENTS:-10000000}
BENCHTIME=${BENCHTIME:-15s}
PURGE_BATCH=${PURGE_BATCH:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SCIMBRIDGE_BENCH_SEEDED_URL="postgres://postgres@127.0.0.1:5432/$PGDB?sslmode=disable"
export SCIMBRIDGE_TEST_REQUIRE_POSTGRES=1
if [ $# -eq 0 ]; then
	set -- seed scim events feed purge
fi
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres "$@"; }
step() { echo; echo "== $1 ($(date -u +%H:%M:%S), load average: $(cut -d' ' -f1-3 /proc/loadavg))"; }
if [ "${KEEP:-0}" != 1 ]; then
	trap 'psql_ -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)"' EXIT
fi

for s in "$@"; do
	case $s in
	seed)
		step "seed: $USERS users, $SCIM_EVENTS SCIM events, $OLD_EVENTS old events"
		psql_ -d postgres -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" -c "CREATE DATABASE $PGDB"
		go run ./bench/seedscale -database-url "$SCIMBRIDGE_BENCH_SEEDED_URL" \
			-users "$USERS" -scim-events "$SCIM_EVENTS" -old-events "$OLD_EVENTS"
		psql_ -d "$PGDB" -c "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) AS size
			FROM pg_stat_user_tables WHERE relname IN ('profiles', 'profile_emails', 'events', 'changes') ORDER BY 1"
		;;
	reseed-old)
		step "reseed-old: $OLD_EVENTS old events"
		go run ./bench/seedscale -database-url "$SCIMBRIDGE_BENCH_SEEDED_URL" -old-events-only -old-events "$OLD_EVENTS"
		;;
	scim)
		step "scim: BenchmarkSCIMLoad fresh and seeded, $BENCHTIME per workload"
		go test -run '^$' -bench 'SCIMLoad/PostgreSQL' -benchtime "$BENCHTIME" -timeout 60m ./scimserver/ \
			-args -load-client-process
		;;
	events)
		step "events: store page (fresh 2M, analysed, seeded) and admin API page (seeded)"
		SCIMBRIDGE_BENCH_EVENTS=2000000 go test -run '^$' -bench 'BenchmarkEventsPage/postgres' -benchtime 100x \
			-timeout 60m ./store/
		go test -run '^$' -bench 'EventsPage/PostgreSQL_seeded' -benchtime 100x -timeout 60m ./adminapi/
		;;
	feed)
		step "feed: lag at 100 changes/s (fresh, seeded) and a read of the seeded feed from its start"
		go test -run '^$' -bench 'FeedLag/PostgreSQL(_seeded)?$' -benchtime 1x ./feed/ -args -lag-rate 100 -lag-for 20s
		go test -run '^$' -bench 'FeedReadAll' -benchtime 1x -timeout 60m ./feed/
		;;
	purge)
		step "purge: PurgeEvents (batch $PURGE_BATCH) while 8 clients POST"
		go test -run '^$' -bench 'PurgeUnderLoad' -benchtime 1x -timeout 120m -v ./scimserver/ \
			-args -purge-batch "$PURGE_BATCH"
		;;
	*)
		echo "unknown step $s" >&2
		exit 2
		;;
	esac
done
step done

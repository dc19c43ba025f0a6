#!/usr/bin/env bash
# bench/bridge-sync.sh measures the Google bridge as it runs in production:
# the real scimbridge binary syncing a generated directory served by the fake
# Google in a separate process on 127.0.0.1, on SQLite and on PostgreSQL.
#
# For each database it runs three syncs with `scimbridge bridge sync`, each
# under /usr/bin/time -v: the first (every user created), a second with
# nothing changed, and one after the fake changed 1% of its users. Before
# each sync, bench/bridgefloor times the Google client alone paging through
# the same fake directory: the floor. It prints a table: wall time, floor,
# the sync's maximum RSS, users.list pages (and showDeleted pages), the
# report's counts and the profile rows written (the change of
# SUM(profiles.version): 1 per created row, 1 per update).
#
# Usage: bench/bridge-sync.sh [sqlite] [postgres]
# Environment: USERS (default 100000), SEED (default 1), PASSES (floor
# passes, default 3), KEEP=1 keeps the work directory.
# PostgreSQL: a database scimbridge_bench is created and dropped through
# psql -h 127.0.0.1 -U postgres.
set -euo pipefail

USERS=${USERS:-100000}
SEED=${SEED:-1}
PASSES=${PASSES:-3}
BACKENDS=("$@")
if [ ${#BACKENDS[@]} -eq 0 ]; then
	BACKENDS=(sqlite postgres)
fi
PGDB=scimbridge_bench
ADMIN=admin@example.com
ORG=bench

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bridge-bench.XXXXXX)
fake_pid=""
pg_created=""

cleanup() {
	if [ -n "$fake_pid" ]; then
		kill "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
	fi
	if [ -n "$pg_created" ]; then
		psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

log() { echo "# $*" >&2; }

log "building into $work"
(cd "$root" && go build -o "$work/scimbridge" ./cmd/scimbridge &&
	go build -o "$work/fakegoogle" ./bench/fakegoogle &&
	go build -o "$work/bridgefloor" ./bench/bridgefloor)

log "starting the fake Google with $USERS users (seed $SEED)"
"$work/fakegoogle" -users "$USERS" -seed "$SEED" -dir "$work" -listen 127.0.0.1:0 >"$work/fake.json" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 600); do
	if grep -q '^}' "$work/fake.json"; then
		break
	fi
	if ! kill -0 "$fake_pid" 2>/dev/null; then
		cat "$work/fake.err" >&2
		exit 1
	fi
	sleep 0.1
done
api=$(jq -r .api_endpoint "$work/fake.json")
token_url=$(jq -r .token_url "$work/fake.json")
key=$(jq -r .service_account "$work/fake.json")
base=${api%/}
case "$base" in http://127.0.0.1:*) ;; *) echo "fake is not on 127.0.0.1: $base" >&2; exit 1 ;; esac

fake() { curl -fsS -X "$1" "$base/_admin/$2"; }

# db_state prints "rows version_sum google_events" of the bench database.
db_state() {
	local q="SELECT (SELECT COUNT(*) FROM profiles) || ' ' || (SELECT COALESCE(SUM(version), 0) FROM profiles)
		|| ' ' || (SELECT COUNT(*) FROM events WHERE source = 'google')"
	case "$1" in
	sqlite) sqlite3 "$work/data-sqlite/scimbridge.db" "$q" ;;
	postgres) psql -h 127.0.0.1 -U postgres -d "$PGDB" -qAt -c "$q" ;;
	esac
}

rows=()
for backend in "${BACKENDS[@]}"; do
	data="$work/data-$backend"
	mkdir -p "$data"
	case "$backend" in
	sqlite) url="sqlite://$data/scimbridge.db" ;;
	postgres)
		psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
		psql -h 127.0.0.1 -U postgres -qAt -c "CREATE DATABASE $PGDB" >/dev/null
		pg_created=1
		url="postgres://postgres@127.0.0.1:5432/$PGDB?sslmode=disable"
		;;
	*) echo "unknown backend $backend (sqlite or postgres)" >&2; exit 2 ;;
	esac
	export SCIMBRIDGE_DATA_DIR="$data" SCIMBRIDGE_DATABASE_URL="$url"
	# PostgreSQL needs a configured encryption key (none is generated).
	(umask 077 && head -c 32 /dev/urandom >"$data/encryption-key")
	export SCIMBRIDGE_ENCRYPTION_KEY_FILE="$data/encryption-key"
	export SCIMBRIDGE_GOOGLE_API_ENDPOINT="$api" SCIMBRIDGE_GOOGLE_TOKEN_URL="$token_url"
	export SCIMBRIDGE_PUBLIC_URL="http://127.0.0.1:8080" SCIMBRIDGE_LOG_LEVEL=info
	sb="$work/scimbridge"
	"$sb" migrate >/dev/null 2>&1
	"$sb" org create "$ORG" --name "Bridge benchmark" >/dev/null
	"$sb" bridge google set --org "$ORG" --credentials "$key" --admin-email "$ADMIN" >/dev/null

	for phase in first unchanged one-percent; do
		if [ "$phase" = one-percent ]; then
			changed=$(fake POST "mutate?percent=1" | jq .changed)
			log "$backend: the fake changed $changed users"
		fi
		log "$backend $phase: floor"
		"$work/bridgefloor" -api-endpoint "$api" -token-url "$token_url" -credentials "$key" \
			-admin-email "$ADMIN" -passes "$PASSES" >"$work/floor.json"
		floor=$(jq .best_seconds "$work/floor.json")
		read -r rows_before ver_before ev_before <<<"$(db_state "$backend")"
		fake POST reset >/dev/null
		log "$backend $phase: sync"
		start=$EPOCHREALTIME
		status=0
		/usr/bin/time -v -o "$work/time.txt" "$sb" bridge sync --org "$ORG" --json \
			>"$work/report.json" 2>"$work/sync-$backend-$phase.log" || status=$?
		end=$EPOCHREALTIME
		if [ "$status" != 0 ]; then
			echo "sync failed ($status):" >&2
			tail -20 "$work/sync-$backend-$phase.log" >&2
			exit 1
		fi
		read -r rows_after ver_after ev_after <<<"$(db_state "$backend")"
		stats=$(fake GET stats)
		wall=$(echo "$end - $start" | bc -l)
		rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
		cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/time.txt")
		counts=$(jq -r '.counts | "\(.created)/\(.updated)/\(.deactivated)/\(.reactivated)/\(.unchanged)/\(.skipped)/\(.failed)"' "$work/report.json")
		status_text=$(jq -r .status "$work/report.json")
		pages=$(jq -r '"\(.pages - .show_deleted_pages)+\(.show_deleted_pages)"' <<<"$stats")
		retries=$(jq -r '.requests - .pages' <<<"$stats")
		rows+=("$(printf '| %-8s | %-11s | %7.2f | %5.1f | %5.2f | %6d | %-7s | %7s | %-27s | %-7s | %12d | %6d |' \
			"$backend" "$phase" "$wall" "$cpu" "$floor" "$((rss_kb / 1024))" "$pages" "$retries" "$counts" "$status_text" \
			"$((ver_after - ver_before))" "$((ev_after - ev_before))")")
		log "${rows[-1]}"
	done
	if [ "$backend" = postgres ]; then
		psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
		pg_created=""
	fi
done

echo
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "users: $USERS, expected pages per listing pass: $(((USERS + 499) / 500))"
echo "counts: created/updated/deactivated/reactivated/unchanged/skipped/failed"
echo "pages: listing pages + showDeleted pages; retries: failed users.list requests"
echo "cpu: user + system seconds of the sync; RSS: its maximum resident set size (/usr/bin/time -v)"
echo "floor: the Google client alone, best of $PASSES passes (bench/bridgefloor)"
echo "rows written: change of SUM(profiles.version); events: google events added"
echo
echo "| database | sync        |  wall s | cpu s | floor |  RSS MB | pages   | retries | counts                      | status  | rows written | events |"
echo "|----------|-------------|---------|-------|-------|--------|---------|---------|-----------------------------|---------|--------------|--------|"
printf '%s\n' "${rows[@]}"

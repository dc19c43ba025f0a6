#!/usr/bin/env bash
# bench/bridge-scale.sh measures the Google bridge at a directory size and
# user shape on PostgreSQL: the real scimbridge binary syncing a directory
# the fake Google (bench/fakegoogle) computes page by page in a separate
# process on 127.0.0.1.
#
# It measures, in one run:
#   floor       the Google client alone listing the directory (bench/bridgefloor,
#               best of PASSES)
#   copy floor  listing plus mapping every user into its profile, change record
#               and event and bulk-inserting them with COPY into an empty
#               database of its own
#               (bench/bridgecopyfloor): the first sync's floor
#   first       `scimbridge bridge sync` into an empty database (every user created)
#   unchanged   the same again, nothing changed in Google
#   one-percent (ONE_PERCENT=1) after the fake changed 1% of its users
# each sync under /usr/bin/time -v (wall time, CPU, peak RSS), with the
# report's phases (listing, planning, applying seconds; pages and changes a
# second).
#
# Usage: bench/bridge-scale.sh [USERS [SHAPE]]
#   USERS  directory size (default 100000)
#   SHAPE  lean (bench/bridge-sync.sh's users) or full (Google's full
#          projection, about 720 bytes of JSON a user); default full
# Environment: SEED (default 1), PASSES (floor passes, default 2),
# ONE_PERCENT=1 adds the one-percent sync, SEED_BY_COPY=1 replaces the first
# sync by the copy floor's rows (resyncs only), KEEP=1 keeps the work directory.
# Databases $PGDB (default scimbridge_scale) and ${PGDB}_floor are created
# and dropped through psql -h 127.0.0.1 -U postgres.
set -euo pipefail

USERS=${1:-${USERS:-100000}}
SHAPE=${2:-${SHAPE:-full}}
SEED=${SEED:-1}
PASSES=${PASSES:-2}
PGDB=${PGDB:-scimbridge_scale}
FLOORDB=${PGDB}_floor
ADMIN=admin@example.com
ORG=bench

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bridge-scale.XXXXXX)
fake_pid=""

psqlc() { PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -qAt "$@"; }

cleanup() {
	if [ -n "$fake_pid" ]; then
		kill "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
	fi
	psqlc -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true
	psqlc -c "DROP DATABASE IF EXISTS $FLOORDB" >/dev/null 2>&1 || true
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
	go build -o "$work/bridgefloor" ./bench/bridgefloor &&
	go build -o "$work/bridgecopyfloor" ./bench/bridgecopyfloor)

log "starting the fake Google: $USERS $SHAPE users (seed $SEED)"
"$work/fakegoogle" -users "$USERS" -shape "$SHAPE" -seed "$SEED" -dir "$work" -listen 127.0.0.1:0 \
	>"$work/fake.json" 2>"$work/fake.err" &
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

# setup_db creates database $1 in data directory $2, migrated, with the
# organization and its bridge.
setup_db() {
	psqlc -c "DROP DATABASE IF EXISTS $1" >/dev/null
	psqlc -c "CREATE DATABASE $1" >/dev/null
	mkdir -p "$2"
	(umask 077 && head -c 32 /dev/urandom >"$2/encryption-key")
	SCIMBRIDGE_DATA_DIR="$2" SCIMBRIDGE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$1?sslmode=disable" \
		SCIMBRIDGE_ENCRYPTION_KEY_FILE="$2/encryption-key" SCIMBRIDGE_GOOGLE_API_ENDPOINT="$api" \
		SCIMBRIDGE_GOOGLE_TOKEN_URL="$token_url" bash -c '
		"$0" migrate >/dev/null 2>&1
		"$0" org create '"$ORG"' --name "Bridge benchmark" >/dev/null
		"$0" bridge google set --org '"$ORG"' --credentials "$1" --admin-email '"$ADMIN"' >/dev/null' \
		"$work/scimbridge" "$key"
}

log "floor: the Google client alone"
"$work/bridgefloor" -api-endpoint "$api" -token-url "$token_url" -credentials "$key" \
	-admin-email "$ADMIN" -passes "$PASSES" >"$work/floor.json"
floor=$(jq .best_seconds "$work/floor.json")

if [ "${SEED_BY_COPY:-0}" != 1 ]; then
log "copy floor: list, map and COPY every user with its change record and event"
setup_db "$FLOORDB" "$work/data-floor"
org_id=$(psql -h 127.0.0.1 -U postgres -d "$FLOORDB" -qAt -c "SELECT id FROM organizations WHERE slug = '$ORG'")
/usr/bin/time -v -o "$work/time-floor.txt" "$work/bridgecopyfloor" -api-endpoint "$api" -token-url "$token_url" \
	-credentials "$key" -admin-email "$ADMIN" -org "$org_id" \
	-database-url "postgres://postgres@127.0.0.1:5432/$FLOORDB?sslmode=disable" >"$work/copyfloor.json"
copy_floor=$(jq .seconds "$work/copyfloor.json")
copy_rows=$(jq .rows "$work/copyfloor.json")
psqlc -c "DROP DATABASE IF EXISTS $FLOORDB" >/dev/null
fi

data="$work/data"
setup_db "$PGDB" "$data"
export SCIMBRIDGE_DATA_DIR="$data" SCIMBRIDGE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB?sslmode=disable"
export SCIMBRIDGE_ENCRYPTION_KEY_FILE="$data/encryption-key"
export SCIMBRIDGE_GOOGLE_API_ENDPOINT="$api" SCIMBRIDGE_GOOGLE_TOKEN_URL="$token_url"
export SCIMBRIDGE_PUBLIC_URL="http://127.0.0.1:8080" SCIMBRIDGE_LOG_LEVEL=info

phases=(first unchanged)
if [ "${SEED_BY_COPY:-0}" = 1 ]; then
	# The first sync's rows written by COPY instead (as the copy floor
	# writes them), to measure the resyncs of a large directory sooner.
	phases=(unchanged)
	log "seeding by COPY"
	/usr/bin/time -v -o "$work/time-floor.txt" "$work/bridgecopyfloor" -api-endpoint "$api" -token-url "$token_url" \
		-credentials "$key" -admin-email "$ADMIN" -org "$(psqlc -d "$PGDB" -c "SELECT id FROM organizations WHERE slug = '$ORG'")" \
		-database-url "$SCIMBRIDGE_DATABASE_URL" >"$work/copyfloor.json"
	copy_floor=$(jq .seconds "$work/copyfloor.json")
	copy_rows=$(jq .rows "$work/copyfloor.json")
fi
if [ "${ONE_PERCENT:-0}" = 1 ]; then
	phases+=(one-percent)
fi
rows=()
for phase in "${phases[@]}"; do
	if [ "$phase" = one-percent ]; then
		changed=$(curl -fsS -X POST "$base/_admin/mutate?percent=1" | jq .changed)
		log "the fake changed $changed users"
	fi
	log "$phase: sync"
	start=$EPOCHREALTIME
	status=0
	/usr/bin/time -v -o "$work/time.txt" "$work/scimbridge" bridge sync --org "$ORG" \
		>"$work/sync-$phase.out" 2>"$work/sync-$phase.log" || status=$?
	end=$EPOCHREALTIME
	if [ "$status" != 0 ]; then
		echo "sync failed ($status):" >&2
		tail -20 "$work/sync-$phase.log" >&2
		exit 1
	fi
	# The report as stored (reading a million items back is not the point).
	psqlc -d "$PGDB" -c "SELECT json_build_object('status', status, 'counts', counts::json,
		'phases', phases::json) FROM reports ORDER BY started_at DESC LIMIT 1" >"$work/report.json"
	wall=$(echo "$end - $start" | bc -l)
	rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
	cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/time.txt")
	counts=$(jq -r '.counts | "\(.created)/\(.updated)/\(.deactivated)/\(.reactivated)/\(.unchanged)/\(.skipped)/\(.failed)"' "$work/report.json")
	phase_text=$(jq -r '.phases // {} | "\(.listing_seconds // "-")/\(.planning_seconds // "-")/\(.applying_seconds // "-") s, \(.pages_per_second // "-") pages/s, \(.changes_per_second // "-") changes/s"' "$work/report.json")
	ref=$floor
	if [ "$phase" = first ]; then
		ref=$copy_floor
	fi
	ratio=$(echo "$wall / $ref" | bc -l)
	rows+=("$(printf '| %-11s | %8.2f | %6.1f | %7d | %5.2fx | %-27s | %-7s | %s |' "$phase" "$wall" "$cpu" \
		"$((rss_kb / 1024))" "$ratio" "$counts" "$(jq -r .status "$work/report.json")" "$phase_text")")
	log "${rows[-1]}"
done

echo
echo "users: $USERS ($SHAPE shape, seed $SEED); load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
printf 'listing floor (the Google client alone, best of %s): %.2f s\n' "$PASSES" "$floor"
printf 'first-sync floor (list + map + COPY %s profiles with their change records and events): %.2f s, peak RSS %d MB\n' "$copy_rows" "$copy_floor" \
	"$(($(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time-floor.txt") / 1024))"
echo "ratio: wall / first-sync floor for the first sync, wall / listing floor otherwise"
echo "counts: created/updated/deactivated/reactivated/unchanged/skipped/failed"
echo "phases: listing/planning/applying seconds as the report records them"
echo
echo "| sync        |   wall s |  cpu s | RSS MB |  ratio | counts                      | status  | phases |"
echo "|-------------|----------|--------|--------|--------|-----------------------------|---------|--------|"
printf '%s\n' "${rows[@]}"

#!/usr/bin/env bash
# bench/bridge-groups.sh measures the Google bridge with groups on, as it
# runs in production: the real scimbridge binary syncing a generated
# directory of users, groups and members served by the fake Google in a
# separate process on 127.0.0.1, WITH Google's default quota of 2,400
# queries a minute enforced by the fake, on PostgreSQL.
#
# It runs three syncs with `scimbridge bridge sync` (groups all), each under
# /usr/bin/time -v: the first (every user and group created), a second with
# nothing changed, and one after the fake replaced 1% of the group members.
# Before each sync, bench/bridgefloor -groups times the Google client alone
# listing the users, the groups and every group's members (one pass, the
# same quota): the floor. Each sync and each floor starts after a quiet
# minute, so neither inherits the other's quota window.
#
# With SEED_BY_COPY=1 the users are first written by COPY, as a first sync
# writes them (bench/bridgecopyfloor, the way bench/bridge-scale.sh seeds),
# so the measured syncs are the group-syncing resyncs of a large directory:
# "first" then creates the groups with every user unchanged.
#
# Usage: bench/bridge-groups.sh
# Environment: USERS (default 100000), NGROUPS (default 5000), MEMBERS
# (about, per group; default 50), SEED (default 1), QUOTA (default 2400),
# SEED_BY_COPY=1 (above), PHASES (default "first unchanged churn-1pct"),
# KEEP=1 keeps the work directory. A database scimbridge_bench_groups is
# created and dropped through psql -h 127.0.0.1 -U postgres.
set -euo pipefail

USERS=${USERS:-100000}
NGROUPS=${NGROUPS:-5000}
MEMBERS=${MEMBERS:-50}
SEED=${SEED:-1}
QUOTA=${QUOTA:-2400}
QUIET=${QUIET:-62}
PHASES=${PHASES:-first unchanged churn-1pct}
PGDB=scimbridge_bench_groups
ADMIN=admin@example.com
ORG=bench

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bridge-groups-bench.XXXXXX)
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

log() { echo "# $(date -u +%H:%M:%S) $*" >&2; }

log "building into $work"
(cd "$root" && go build -o "$work/scimbridge" ./cmd/scimbridge &&
	go build -o "$work/fakegoogle" ./bench/fakegoogle &&
	go build -o "$work/bridgefloor" ./bench/bridgefloor &&
	go build -o "$work/bridgecopyfloor" ./bench/bridgecopyfloor)

log "starting the fake Google: $USERS users, $NGROUPS groups of about $MEMBERS members, quota $QUOTA a minute"
"$work/fakegoogle" -users "$USERS" -groups "$NGROUPS" -members "$MEMBERS" -quota "$QUOTA" -seed "$SEED" \
	-dir "$work" -listen 127.0.0.1:0 >"$work/fake.json" 2>"$work/fake.err" &
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

# db_state prints "groups memberships group_version_sum google_group_events".
db_state() {
	psql -h 127.0.0.1 -U postgres -d "$PGDB" -qAt -c "SELECT (SELECT COUNT(*) FROM groups) || ' ' ||
		(SELECT COUNT(*) FROM group_members) || ' ' || (SELECT COALESCE(SUM(version), 0) FROM groups) || ' ' ||
		(SELECT COUNT(*) FROM events WHERE source = 'google' AND kind LIKE 'group%')"
}

data="$work/data"
mkdir -p "$data"
psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
psql -h 127.0.0.1 -U postgres -qAt -c "CREATE DATABASE $PGDB" >/dev/null
pg_created=1
export SCIMBRIDGE_DATA_DIR="$data" SCIMBRIDGE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB?sslmode=disable"
(umask 077 && head -c 32 /dev/urandom >"$data/encryption-key")
export SCIMBRIDGE_ENCRYPTION_KEY_FILE="$data/encryption-key"
export SCIMBRIDGE_GOOGLE_API_ENDPOINT="$api" SCIMBRIDGE_GOOGLE_TOKEN_URL="$token_url"
export SCIMBRIDGE_PUBLIC_URL="http://127.0.0.1:8080" SCIMBRIDGE_LOG_LEVEL="${LOG_LEVEL:-info}"
sb="$work/scimbridge"
"$sb" migrate >/dev/null 2>&1
"$sb" org create "$ORG" --name "Bridge groups benchmark" >/dev/null
"$sb" bridge google set --org "$ORG" --credentials "$key" --admin-email "$ADMIN" --groups all >/dev/null

seeded=""
if [ "${SEED_BY_COPY:-0}" = 1 ]; then
	log "seeding the users by COPY"
	/usr/bin/time -v -o "$work/time-copy.txt" "$work/bridgecopyfloor" -api-endpoint "$api" -token-url "$token_url" \
		-credentials "$key" -admin-email "$ADMIN" \
		-org "$(psql -h 127.0.0.1 -U postgres -d "$PGDB" -qAt -c "SELECT id FROM organizations WHERE slug = '$ORG'")" \
		-database-url "$SCIMBRIDGE_DATABASE_URL" >"$work/copy.json"
	seeded="users seeded by COPY: $(jq -c . "$work/copy.json")"
	log "$seeded"
fi

rows=()
for phase in $PHASES; do
	if [ "$phase" = churn-1pct ]; then
		fake POST "churn-members?percent=1" >/dev/null
		log "the fake replaced 1% of the group members"
	fi
	sleep "$QUIET"
	log "$phase: floor"
	"$work/bridgefloor" -groups -api-endpoint "$api" -token-url "$token_url" -credentials "$key" \
		-admin-email "$ADMIN" -warmup 0 -passes 1 >"$work/floor.json"
	floor=$(jq .best_seconds "$work/floor.json")
	log "$phase: floor $floor s ($(jq -c '{users, groups, members}' "$work/floor.json"))"
	sleep "$QUIET"
	read -r g_before m_before v_before ev_before <<<"$(db_state)"
	fake POST reset >/dev/null
	log "$phase: sync"
	start=$EPOCHREALTIME
	status=0
	/usr/bin/time -v -o "$work/time.txt" "$sb" bridge sync --org "$ORG" \
		>"$work/sync-$phase.out" 2>"$work/sync-$phase.log" || status=$?
	end=$EPOCHREALTIME
	if [ "$status" != 0 ]; then
		echo "sync failed ($status):" >&2
		tail -20 "$work/sync-$phase.log" >&2
		exit 1
	fi
	# The report as stored: --json would print its every item (a million
	# in a first sync of 1M users), more than the figures need.
	psql -h 127.0.0.1 -U postgres -d "$PGDB" -qAt -c "SELECT json_build_object('status', status,
		'counts', counts::json) FROM reports ORDER BY started_at DESC LIMIT 1" >"$work/report.json"
	read -r g_after m_after v_after ev_after <<<"$(db_state)"
	stats=$(fake GET stats)
	wall=$(echo "$end - $start" | bc -l)
	rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
	cpu=$(awk -F: '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/time.txt")
	counts=$(jq -r '.counts | "\(.created)/\(.updated)/\(.deactivated)/\(.unchanged)"' "$work/report.json")
	gcounts=$(jq -r '.counts.groups | "\(.created)/\(.updated)/\(.deleted)/\(.unchanged) +\(.members_added) -\(.members_removed)"' "$work/report.json")
	listing=$(jq -r '.counts.groups.listing_ms / 1000' "$work/report.json")
	status_text=$(jq -r .status "$work/report.json")
	calls=$(jq -r '"\(.requests)+\(.group_requests)+\(.member_requests) (\(.rate_limited) refused)"' <<<"$stats")
	rows+=("$(printf '| %-10s | %7.1f | %7.1f | %5.2f | %6.1f | %6d | %-32s | %-15s | %-30s | %-7s | %7d | %6d |' \
		"$phase" "$wall" "$floor" "$(echo "$wall / $floor" | bc -l)" "$cpu" "$((rss_kb / 1024))" "$calls" "$counts" "$gcounts" \
		"$status_text" "$((v_after - v_before))" "$((ev_after - ev_before))")")
	log "${rows[-1]} (groups listed in $listing s; $g_after groups, $m_after memberships)"
done

echo
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "users: $USERS, groups: $NGROUPS of about $MEMBERS members, quota: $QUOTA queries a minute (enforced by the fake)"
if [ -n "$seeded" ]; then
	echo "$seeded"
fi
echo "calls: users.list + groups.list + members.list requests (refused by the quota)"
echo "users: created/updated/deactivated/unchanged; groups: created/updated/deleted/unchanged +members added -removed"
echo "floor: the Google client alone listing users, groups and members (bench/bridgefloor -groups, one pass)"
echo "group writes: change of SUM(groups.version); events: google group events added"
echo
echo "| sync       |  wall s | floor s | ratio | cpu s | RSS MB | calls                            | users           | groups                         | status  | group writes | events |"
echo "|------------|---------|---------|-------|-------|--------|----------------------------------|-----------------|--------------------------------|---------|---------|--------|"
printf '%s\n' "${rows[@]}"

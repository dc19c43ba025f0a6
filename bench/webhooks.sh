#!/usr/bin/env bash
# bench/webhooks.sh measures webhook delivery of a burst of changes: the
# real scimbridge serve runs a first Google sync of USERS users (the fake
# Google of bench/fakegoogle, on 127.0.0.1), whose change records are
# delivered to bench/hookreceiver on 127.0.0.1, which checks every
# signature. It runs once per database and per batch size (1: one change
# per request; 100: batched) and prints, for each: the sync's wall time,
# the time from the sync's end (its report's finished_at) to the last
# delivery, changes and requests delivered per second (first to last
# delivery), and the changes received against the feed's records.
#
# Usage: bench/webhooks.sh [sqlite] [postgres]
# Environment: USERS (default 100000), BATCHES (default "1 100"), SEED
# (default 1), KEEP=1 keeps the work directory.
set -euo pipefail

USERS=${USERS:-100000}
SEED=${SEED:-1}
BATCHES=${BATCHES:-"1 100"}
BACKENDS=("$@")
if [ ${#BACKENDS[@]} -eq 0 ]; then
	BACKENDS=(sqlite postgres)
fi
PGDB=scimbridge_hookbench
ADMIN=admin@example.com
ORG=bench

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/webhooks-bench.XXXXXX)
pids=()
pg_created=""

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
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

# wait_json FILE: waits until a background process wrote its JSON line.
wait_json() {
	for _ in $(seq 600); do
		if [ -s "$1" ] && jq -e . "$1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "no output in $1" >&2
	exit 1
}

log "building into $work"
(cd "$root" && go build -o "$work/scimbridge" ./cmd/scimbridge &&
	go build -o "$work/fakegoogle" ./bench/fakegoogle &&
	go build -o "$work/hookreceiver" ./bench/hookreceiver)

log "starting the fake Google with $USERS users (seed $SEED)"
"$work/fakegoogle" -users "$USERS" -seed "$SEED" -dir "$work" -listen 127.0.0.1:0 >"$work/fake.json" 2>"$work/fake.err" &
pids+=($!)
for _ in $(seq 600); do
	grep -q '^}' "$work/fake.json" && break
	sleep 0.1
done
api=$(jq -r .api_endpoint "$work/fake.json")
token_url=$(jq -r .token_url "$work/fake.json")
key=$(jq -r .service_account "$work/fake.json")

# feed_count prints how many change records the bench organization has.
feed_count() {
	local q="SELECT COUNT(*) FROM changes"
	case "$1" in
	sqlite) sqlite3 "$work/data/scimbridge.db" "$q" ;;
	postgres) psql -h 127.0.0.1 -U postgres -d "$PGDB" -qAt -c "$q" ;;
	esac
}

rows=()
for backend in "${BACKENDS[@]}"; do
	for batch in $BATCHES; do
		data="$work/data"
		rm -rf "$data"
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
		(umask 077 && head -c 32 /dev/urandom >"$data/encryption-key")
		export SCIMBRIDGE_ENCRYPTION_KEY_FILE="$data/encryption-key"
		export SCIMBRIDGE_GOOGLE_API_ENDPOINT="$api" SCIMBRIDGE_GOOGLE_TOKEN_URL="$token_url"
		export SCIMBRIDGE_LISTEN=127.0.0.1:0 SCIMBRIDGE_OPS_LISTEN=127.0.0.1:0 SCIMBRIDGE_LOG_LEVEL=info
		export SCIMBRIDGE_PUBLIC_URL="http://127.0.0.1:8080" SCIMBRIDGE_BOOTSTRAP=false
		export SCIMBRIDGE_WEBHOOKS_ALLOWED_CIDRS=127.0.0.1/32 SCIMBRIDGE_TEST_BRIDGE_POLL=200ms
		sb="$work/scimbridge"
		"$sb" migrate >/dev/null 2>&1
		"$sb" org create "$ORG" >/dev/null

		"$work/hookreceiver" >"$work/receiver.json" 2>"$work/receiver.err" &
		rpid=$!
		pids+=($rpid)
		wait_json "$work/receiver.json"
		rurl=$(jq -r .url "$work/receiver.json")
		"$sb" webhooks add --org "$ORG" --url "$rurl/hook" --batch "$batch" --json >"$work/hook.json"
		jq -r .secret "$work/hook.json" | curl -fsS -X POST --data-binary @- "$rurl/_secret"

		"$sb" serve >"$work/serve.out" 2>"$work/serve-$backend-$batch.log" &
		spid=$!
		pids+=($spid)
		for _ in $(seq 300); do
			grep -q 'msg=ready' "$work/serve-$backend-$batch.log" && break
			sleep 0.1
		done
		log "$backend batch $batch: serve ready; the bridge's first sync starts"
		"$sb" bridge google set --org "$ORG" --credentials "$key" --admin-email "$ADMIN" >/dev/null
		while :; do
			finished=$("$sb" reports list --org "$ORG" --json | jq -r '[.[] | select(.finished_at != null)][0] // empty | .finished_at')
			[ -n "$finished" ] && break
			sleep 0.2
		done
		report=$("$sb" reports list --org "$ORG" --json | jq -c '.[0]')
		log "$backend batch $batch: sync finished at $finished: $(jq -c .counts <<<"$report")"
		want=$(feed_count "$backend")
		# Wait for every change, or for 30 s without a delivery.
		quiet=0
		last_n=-1
		while :; do
			st=$(curl -fsS "$rurl/_stats")
			n=$(jq .distinct <<<"$st")
			[ "$n" -ge "$want" ] && break
			if [ "$n" = "$last_n" ]; then
				quiet=$((quiet + 1))
				[ "$quiet" -ge 150 ] && break
			else
				quiet=0
			fi
			last_n=$n
			sleep 0.2
		done
		st=$(curl -fsS "$rurl/_stats")
		kill "$spid" && wait "$spid" 2>/dev/null || true
		kill "$rpid" && wait "$rpid" 2>/dev/null || true
		started=$(jq -r .started_at <<<"$report")
		row=$(jq -r --arg fin "$finished" --arg start "$started" --arg backend "$backend" --arg batch "$batch" --arg want "$want" '
			def t: sub("\\.[0-9]+"; "") | sub("Z$"; "Z") | fromdateiso8601;
			def frac: (capture("\\.(?<f>[0-9]+)") // {f: "0"}).f | ("0." + .) | tonumber;
			def ts: (t + frac);
			(.last | ts) as $last | (.first | ts) as $first |
			($fin | ts) as $syncend | ($start | ts) as $syncstart |
			"| \($backend) | \($batch) | \($want) | \(.distinct) | \(.requests) | \(($syncend - $syncstart) * 10 | round / 10) | \(($last - $syncend) * 10 | round / 10) | \((.distinct / ($last - $first)) | round) | \((.requests / ($last - $first)) | round) | \(.bad_signatures) |"' <<<"$st")
		rows+=("$row")
		log "$row"
		if [ "$backend" = postgres ]; then
			psql -h 127.0.0.1 -U postgres -qAt -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
			pg_created=""
		fi
	done
done

echo
echo "load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "users: $USERS; changes: the feed's records; received: distinct changes the receiver got"
echo "sync s: the first sync, started to finished; drain s: from the sync's end to the last delivery"
echo "changes/s and requests/s: delivered between the first and the last delivery"
echo
echo "| database | batch | changes | received | requests | sync s | drain s | changes/s | requests/s | bad signatures |"
echo "|----------|-------|---------|----------|----------|--------|---------|-----------|------------|----------------|"
printf '%s\n' "${rows[@]}"

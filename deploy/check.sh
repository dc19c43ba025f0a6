#!/usr/bin/env bash
# Checks the monitoring examples: `promtool check rules` and `promtool test
# rules` on deploy/prometheus (the Go test daemon.TestDeployMetricNames
# checks that the rules and the Grafana dashboard are valid and use only
# metrics scimbridge exports).
#
# promtool comes from PATH, else from Debian's prometheus package, unpacked
# into a cache directory without installing it (installing would start a
# Prometheus server where systemd runs).
set -euo pipefail
cd "$(dirname "$0")"

promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$promtool" ]; then
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/scimbridge-tools/prometheus-deb
	promtool=$cache/usr/bin/promtool
	if [ ! -x "$promtool" ]; then
		dl=$(mktemp -d)
		trap 'rm -rf "$dl"' EXIT
		(cd "$dl" && { apt-get download prometheus 2>/dev/null || { apt-get update && apt-get download prometheus; }; })
		mkdir -p "$cache"
		dpkg-deb -x "$dl"/prometheus_*.deb "$cache"
	fi
fi
"$promtool" --version | head -n 1
(cd prometheus && "$promtool" check rules scimbridge.rules.yml && "$promtool" test rules scimbridge.rules.test.yml)
echo "deploy: rules ok"

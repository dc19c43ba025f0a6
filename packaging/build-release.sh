#!/usr/bin/env bash
# Release build of the scimbridge binary: static, reproducible paths, and
# the version, commit and build date linked in (`scimbridge version`).
#
#   packaging/build-release.sh [OUTPUT]        # default: dist/scimbridge
#
# VERSION, COMMIT and BUILD_DATE override what is derived from Git (the
# latest v* tag, HEAD, and SOURCE_DATE_EPOCH or now); GOOS and GOARCH
# cross-compile as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/scimbridge}

git_ok() { git rev-parse --git-dir >/dev/null 2>&1; }

if [ -z "${VERSION:-}" ]; then
	if git_ok && tag=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
		VERSION=${tag#v}
	elif git_ok; then
		VERSION=0.0.0~git$(git show -s --format=%cd --date=format:%Y%m%d HEAD).$(git rev-parse --short=12 HEAD)
	else
		VERSION=0.0.0~dev
	fi
fi
if [ -z "${COMMIT:-}" ]; then
	COMMIT=unknown
	if git_ok; then
		COMMIT=$(git rev-parse HEAD)
		[ -z "$(git status --porcelain --untracked-files=no)" ] || COMMIT=$COMMIT-dirty
	fi
fi
if [ -z "${BUILD_DATE:-}" ]; then
	BUILD_DATE=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)
fi

pkg=github.com/scimbridge/scimbridge/daemon
mkdir -p "$(dirname "$out")"
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$COMMIT -X $pkg.buildDate=$BUILD_DATE" \
	-o "$out" ./cmd/scimbridge
echo "built $out: scimbridge $VERSION ($COMMIT, $BUILD_DATE)" >&2

#!/usr/bin/env bash
# Builds the Debian package dist/scimbridge_VERSION_ARCH.deb with nfpm:
# the release binary (build-release.sh), the unit adapted to the package
# (a scimbridge system user instead of a dynamic one, /usr/bin, the
# configuration file in /etc/scimbridge), scimbridgectl, the configuration
# examples as conffiles, the docs and the monitoring examples.
#
#   packaging/build-deb.sh            # VERSION, COMMIT, BUILD_DATE as build-release.sh
#
# nfpm is a build tool, not a dependency of scimbridge: it runs from its
# own module (NFPM overrides the command).
set -euo pipefail
cd "$(dirname "$0")/.."

NFPM_VERSION=v2.48.0
arch=${GOARCH:-$(go env GOARCH)}
work=dist/deb # packaging/nfpm.yaml takes the files from here
rm -rf "$work"
mkdir -p "$work"

packaging/build-release.sh "$work/scimbridge"
# Versions from Git may hold "-" (v1.2.0-3-gabc): not an upstream version
# for dpkg, where "-" starts the Debian revision.
version=$("$work/scimbridge" version --json | sed -n 's/^ *"version": "\(.*\)",$/\1/p')
deb_version=${version//-/+}

# The packaged unit: systemd/scimbridge.service with the package's paths and
# user. Each substitution must apply, so that a change of the source unit
# cannot silently produce a different package.
unit=$work/scimbridge.service
{
	cat <<'HEAD'
# scimbridge: SCIM 2.0 provisioning server and Google Workspace bridge.
# Installed by the scimbridge Debian package (see
# /usr/share/doc/scimbridge/README.md, "Install from the Debian package").
#
# Settings: /etc/scimbridge/scimbridge.yaml, and SCIMBRIDGE_* variables in
# /etc/scimbridge/scimbridge.env (they win over the file). Secrets are
# systemd credentials in /etc/credstore (scimbridge.encryption-key,
# scimbridge.database-password), never in those files. Data: the scimbridge
# user's /var/lib/scimbridge. Change this unit with `systemctl edit
# scimbridge`, not here. Run commands as the service with
# `sudo scimbridgectl COMMAND`.

HEAD
	sed -n '/^\[Unit\]/,$p' systemd/scimbridge.service
} >"$unit.in"
want() { # want PATTERN: the source unit has a line matching PATTERN
	grep -qx -- "$1" "$unit.in" || { echo "build-deb: systemd/scimbridge.service has no line $1" >&2; exit 1; }
}
want 'Documentation=.*'
want 'ExecStart=/usr/local/bin/scimbridge serve'
want 'DynamicUser=yes'
want 'User=scimbridge'
sed -e 's#^Documentation=.*#Documentation=file:///usr/share/doc/scimbridge/README.md#' \
	-e 's#^ExecStart=/usr/local/bin/scimbridge serve$#ExecStart=/usr/bin/scimbridge serve --config /etc/scimbridge/scimbridge.yaml#' \
	-e '/^DynamicUser=yes$/d' \
	-e 's#^User=scimbridge$#User=scimbridge\nGroup=scimbridge#' \
	-e 's#^\# Identity and files: .*#\# Identity and files: the scimbridge system user the package creates;#' \
	-e 's#^\# systemd-run (above) get the same one; only the state directory is$#\# only its state directory is#' \
	"$unit.in" >"$unit"
rm "$unit.in"
if grep -q '/usr/local\|DynamicUser' "$unit"; then
	echo "build-deb: the packaged unit still names /usr/local or DynamicUser" >&2
	exit 1
fi

nfpm=${NFPM:-}
if [ -z "$nfpm" ]; then
	# One directory per version: `nfpm --version` of a go-installed nfpm
	# does not tell it.
	gobin=${XDG_CACHE_HOME:-$HOME/.cache}/scimbridge-tools/nfpm-$NFPM_VERSION
	if [ ! -x "$gobin/nfpm" ]; then
		GOBIN=$gobin GOFLAGS=-buildvcs=false go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
	fi
	nfpm=$gobin/nfpm
fi
mkdir -p dist
SCIMBRIDGE_DEB_VERSION=$deb_version SCIMBRIDGE_DEB_ARCH=$arch \
	"$nfpm" package --config packaging/nfpm.yaml --packager deb --target dist/
ls dist/scimbridge_"${deb_version}"_"$arch".deb

#!/usr/bin/env bash
# CI check of the Debian package on this machine (as root; systemd need
# not run): build it, install it with dpkg -i, check its files, user and
# unit (systemd-analyze verify), run scimbridge and scimbridgectl, then
# purge it and check what purge removes.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "test-deb: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root: it installs the package"

need=()
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v setpriv >/dev/null || need+=(util-linux)
command -v deb-systemd-helper >/dev/null || need+=(init-system-helpers)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

deb=$(packaging/build-deb.sh | tail -n 1)
[ -f "$deb" ] || fail "build-deb.sh made no package"

tmp=$(mktemp -d)
cleanup() {
	rm -rf "$tmp"
	if dpkg-query -W -f='${Status}' scimbridge 2>/dev/null | grep -q installed; then
		dpkg --purge scimbridge >/dev/null || true
	fi
}
trap cleanup EXIT

# A leftover from an interrupted run would hide what a fresh install does.
if dpkg-query -W -f='${Status}' scimbridge 2>/dev/null | grep -q 'installed\|config-files'; then
	dpkg --purge scimbridge
fi
dpkg -i "$deb"

echo "test-deb: files"
for f in /usr/bin/scimbridge /usr/sbin/scimbridgectl; do
	[ -x "$f" ] || fail "$f is not installed or not executable"
done
for f in /lib/systemd/system/scimbridge.service /etc/scimbridge/scimbridge.yaml /etc/scimbridge/scimbridge.env \
	/usr/share/doc/scimbridge/README.md /usr/share/doc/scimbridge/copyright \
	/usr/share/doc/scimbridge/examples/prometheus/scimbridge.rules.yml /usr/share/doc/scimbridge/examples/grafana/scimbridge.json; do
	[ -f "$f" ] || fail "$f is not installed"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' scimbridge)
for f in /etc/scimbridge/scimbridge.yaml /etc/scimbridge/scimbridge.env; do
	grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile: $conffiles"
done
cmp -s configs/scimbridge.example.yaml /etc/scimbridge/scimbridge.yaml || fail "/etc/scimbridge/scimbridge.yaml is not the example"

echo "test-deb: user and state directory"
IFS=: read -r _ _ uid _ _ home shell <<<"$(getent passwd scimbridge)" || fail "no user scimbridge"
[ "$home" = /var/lib/scimbridge ] || fail "scimbridge's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "scimbridge's shell is $shell"
[ "$uid" -lt 1000 ] || fail "scimbridge is not a system user (uid $uid)"
[ "$(stat -c '%U:%G %a' /var/lib/scimbridge)" = "scimbridge:scimbridge 700" ] ||
	fail "/var/lib/scimbridge is $(stat -c '%U:%G %a' /var/lib/scimbridge)"

echo "test-deb: unit"
unit=/lib/systemd/system/scimbridge.service
grep -qx 'ExecStart=/usr/bin/scimbridge serve --config /etc/scimbridge/scimbridge.yaml' "$unit" || fail "ExecStart of $unit"
grep -qx 'User=scimbridge' "$unit" || fail "$unit runs as another user"
! grep -q 'DynamicUser' "$unit" || fail "$unit still uses a dynamic user"
systemd-analyze verify "$unit"
# Enabled for the next boot even though systemd is not running here.
[ -L /etc/systemd/system/multi-user.target.wants/scimbridge.service ] || fail "the unit is not enabled"

echo "test-deb: commands"
/usr/bin/scimbridge version | grep -q '^scimbridge [0-9]' || fail "scimbridge version: $(/usr/bin/scimbridge version)"
scimbridgectl --version | grep -q '^commit:' || fail "scimbridgectl --version"
scimbridgectl migrate
scimbridgectl org create ci-check --name "CI check" >/dev/null
scimbridgectl org list --json | grep -q '"slug": "ci-check"' || fail "org list does not show the organization"
bad=$(find /var/lib/scimbridge -not -user scimbridge)
[ -z "$bad" ] || fail "files not owned by scimbridge: $bad"
[ -f /var/lib/scimbridge/scimbridge.db ] || fail "no SQLite database in /var/lib/scimbridge: $(ls -A /var/lib/scimbridge)"
# Without root the wrapper refuses instead of running without credentials.
if setpriv --reuid=nobody --regid=nogroup --clear-groups scimbridgectl org list 2>"$tmp/err"; then
	fail "scimbridgectl ran without root"
fi
grep -q 'run it as root' "$tmp/err" || fail "scimbridgectl without root: $(cat "$tmp/err")"

echo "test-deb: scimbridgectl gives the service's environment"
mkdir -p "$tmp/etc" "$tmp/credstore"
printf '# comment\n\nSCIMBRIDGE_LOG_LEVEL=debug\n  SCIMBRIDGE_PUBLIC_URL="https://scim.example.test"\nSCIMBRIDGE_TRUSTED_PROXIES='"'"'10.0.0.0/8, 127.0.0.1'"'"'\n' >"$tmp/etc/scimbridge.env"
printf 'secret-key' >"$tmp/credstore/scimbridge.encryption-key"
cat >"$tmp/show-env" <<'SH'
#!/bin/sh
echo "args=$*"
echo "user=$(id -un)"
echo "pwd=$(pwd)"
echo "umask=$(umask)"
echo "key=$(cat "$CREDENTIALS_DIRECTORY/encryption-key")"
echo "password=$(cat "$CREDENTIALS_DIRECTORY/database-password" 2>/dev/null || echo none)"
env | sort
SH
chmod 0755 "$tmp" "$tmp/show-env"
out=$(SCIMBRIDGECTL_BIN=$tmp/show-env SCIMBRIDGECTL_ETC=$tmp/etc SCIMBRIDGECTL_CREDSTORE="$tmp/credstore" scimbridgectl org list)
for want in "args=--config $tmp/etc/scimbridge.yaml org list" user=scimbridge pwd=/var/lib/scimbridge umask=0077 \
	key=secret-key password=none STATE_DIRECTORY=/var/lib/scimbridge HOME=/var/lib/scimbridge \
	SCIMBRIDGE_LOG_LEVEL=debug SCIMBRIDGE_PUBLIC_URL=https://scim.example.test \
	"SCIMBRIDGE_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1"; do
	grep -qxF -- "$want" <<<"$out" || fail "scimbridgectl: no line $want in:
$out"
done
ls /run/scimbridgectl.* >/dev/null 2>&1 && fail "scimbridgectl left its credentials directory: $(ls -d /run/scimbridgectl.*)"

echo "test-deb: purge"
dpkg --remove scimbridge
[ -d /var/lib/scimbridge ] || fail "remove deleted the data"
[ -f /etc/scimbridge/scimbridge.yaml ] || fail "remove deleted the conffiles"
dpkg --purge scimbridge
[ ! -e /var/lib/scimbridge ] || fail "purge left /var/lib/scimbridge"
[ ! -e /etc/scimbridge ] || fail "purge left /etc/scimbridge"
[ ! -e /lib/systemd/system/scimbridge.service ] || fail "purge left the unit"
[ ! -e /etc/systemd/system/multi-user.target.wants/scimbridge.service ] || fail "purge left the unit enabled"
echo "test-deb: ok ($deb)"

#!/usr/bin/env bash
# test_install.sh — make install / make uninstall with PREFIX and DESTDIR,
# and the hardening of the systemd unit as systemd-analyze rates it.
#
# Installs into temporary DESTDIR folders with the build folder tests/run
# uses (TR_BUILD), checks every installed file, uninstalls and checks they
# are gone. Ends with "N passed, N failed" like every test program.
set -u
top=${TR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${TR_BUILD:-$top/build}
build=${build#"$top"/}
passed=0
failed=0
current=""
current_failed=0

begin() {
	current=$1
	current_failed=0
}
fail() {
	echo "  $current: $*"
	current_failed=1
}
end() {
	if [ "$current_failed" = 0 ]; then
		echo "ok $current"
		passed=$((passed + 1))
	else
		echo "FAIL $current"
		failed=$((failed + 1))
	fi
}

tmp=$(mktemp -d /tmp/tributary-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

installed_files() { # DESTDIR PREFIX
	echo "$1$2/bin/tributary"
	echo "$1$2/share/man/man1/tributary.1"
	echo "$1$2/share/man/man5/feeds.conf.5"
	echo "$1/lib/systemd/system/tributary.service"
	echo "$1/etc/tributary/feeds.conf.example"
}

# install, check, uninstall, check, for one PREFIX.
install_cycle() { # NAME PREFIX (empty: the Makefile's default)
	local dest="$tmp/$1" prefix=${2:-/usr/local} f mode unit
	# -o all: install what the suite built, never rebuild here (a
	# rebuild would not use the suite's flags, the sanitizers' say).
	local args=(-o all BUILD="$build" DESTDIR="$dest")
	[ -n "${2:-}" ] && args+=(PREFIX="$2")

	begin "install_$1"
	if ! make -s -C "$top" "${args[@]}" install >"$tmp/$1.log" 2>&1; then
		fail "make install failed: $(tail -n 5 "$tmp/$1.log")"
		end
		return
	fi
	while read -r f; do
		[ -f "$f" ] || fail "missing ${f#"$dest"}"
	done < <(installed_files "$dest" "$prefix")
	mode=$(stat -c %a "$dest$prefix/bin/tributary" 2>/dev/null)
	[ "$mode" = 755 ] || fail "binary mode $mode, want 755"
	for f in "$dest$prefix/share/man/man1/tributary.1" \
	    "$dest/lib/systemd/system/tributary.service" \
	    "$dest/etc/tributary/feeds.conf.example"; do
		mode=$(stat -c %a "$f" 2>/dev/null)
		[ "$mode" = 644 ] || fail "${f#"$dest"} mode $mode, want 644"
	done
	"$dest$prefix/bin/tributary" --version | grep -q '^tributary ' ||
	    fail "installed binary does not run"
	unit="$dest/lib/systemd/system/tributary.service"
	grep -qx "ExecStart=$prefix/bin/tributary -c /etc/tributary/feeds.conf serve" \
	    "$unit" || fail "unit's ExecStart does not name $prefix/bin: $(grep ^ExecStart= "$unit")"
	# Nothing outside DESTDIR was touched: every file is under it.
	(cd "$dest" && find . -type f | sort) >"$tmp/$1.files"
	[ "$(wc -l <"$tmp/$1.files")" = 5 ] ||
	    fail "expected 5 installed files, got: $(tr '\n' ' ' <"$tmp/$1.files")"
	end

	begin "uninstall_$1"
	if ! make -s -C "$top" "${args[@]}" uninstall >"$tmp/$1.log" 2>&1; then
		fail "make uninstall failed: $(tail -n 5 "$tmp/$1.log")"
	fi
	while read -r f; do
		[ ! -e "$f" ] || fail "still there after uninstall: ${f#"$dest"}"
	done < <(installed_files "$dest" "$prefix")
	end
}

install_cycle default ""
install_cycle opt /opt/tributary

begin man_pages_render
for page in "$top/dist/man/tributary.1" "$top/dist/man/feeds.conf.5"; do
	out=$(groff -mdoc -ww -z "$page" 2>&1)
	[ -z "$out" ] || fail "$(basename "$page"): $out"
	man -l "$page" 2>/dev/null | grep -q 'SYNOPSIS\|DESCRIPTION' ||
	    fail "$(basename "$page") does not render"
done
end

begin man_page_lists_every_setting
# Every key of the table in lib/config.c is documented in feeds.conf.5.
keys=$(sed -n '/^static const struct key keys/,/^};/p' "$top/lib/config.c" |
    grep -o '{"[a-z_]*"' | tr -d '{"' | sort -u)
[ -n "$keys" ] || fail "no keys found in lib/config.c"
for k in $keys; do
	grep -q "^\.It Cm $k " "$top/dist/man/feeds.conf.5" ||
	    fail "feeds.conf.5 does not document $k"
done
end

begin example_config_is_valid
example="$top/dist/feeds.conf.example"
out=$("$top/$build/tributary" -c "$example" check 2>&1)
rc=$?
[ "$rc" = 0 ] || fail "tributary check failed ($rc): $out"
echo "$out" | grep -q 'database /var/lib/tributary/' ||
    fail "the example's database is not under /var/lib/tributary: $out"
end

# systemd-analyze rates the unit's exposure; 2.0 or lower is required.
begin unit_security_exposure
if ! command -v systemd-analyze >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	apt-get install -y -qq systemd >/dev/null 2>&1
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	fail "systemd-analyze is not installed (apt-get install systemd)"
else
	out=$(systemd-analyze security --offline=true \
	    "$top/dist/systemd/tributary.service" 2>&1)
	level=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -z "$level" ]; then
		fail "no exposure level in: $(echo "$out" | tail -n 3)"
	elif ! awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
		fail "exposure $level > 2.0"
	else
		echo "  exposure level $level"
	fi
	for want in Type=notify DynamicUser=yes StateDirectory=tributary \
	    ConfigurationDirectory=tributary 'ExecReload=/bin/kill -HUP $MAINPID'; do
		grep -qxF "$want" "$top/dist/systemd/tributary.service" ||
		    fail "unit lacks $want"
	done
	grep -q '^WatchdogSec=' "$top/dist/systemd/tributary.service" ||
	    fail "unit lacks WatchdogSec="
fi
end

# systemd-analyze verify: every directive known and valid. The one thing
# it may say is that the binary is not installed on this machine.
begin unit_verifies
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze verify --man=no \
	    "$top/dist/systemd/tributary.service" 2>&1 |
	    grep -v 'Command /usr/local/bin/tributary is not executable')
	[ -z "$out" ] || fail "$out"
else
	fail "systemd-analyze is not installed (apt-get install systemd)"
fi
end

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

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

# scripts/install-deps by level: building and running need no test tool,
# no benchmark peer and no compiler but the build's.
begin deps_build_level_lists_no_test_tool
deps="$top/scripts/install-deps"
build_pkgs=$("$deps" --list) || fail "install-deps --list failed"
test_pkgs=$("$deps" --test --list) || fail "install-deps --test --list failed"
all_pkgs=$("$deps" --all --list) || fail "install-deps --all --list failed"
[ -n "$build_pkgs" ] || fail "the build level is empty"
# Every build package is a library the Makefile links (one per pkg-config
# module of PKGS) or a tool of the build itself.
n_pc=$(grep -c '^build [^:]*:pc:' "$deps")
n_pkgs=$(sed -n 's/^PKGS = //p' "$top/Makefile" | wc -w)
[ "$n_pc" = "$n_pkgs" ] ||
    fail "build level has $n_pc pkg-config libraries, the Makefile links $n_pkgs"
for m in $(sed -n 's/^PKGS = //p' "$top/Makefile"); do
	grep -q "^build [^:]*:pc:$m\$" "$deps" ||
	    fail "no build package provides pkg-config module $m"
done
for p in $build_pkgs; do
	case $p in pkg-config | make | gcc) continue ;; esac
	grep -q "^build $p:pc:" "$deps" ||
	    fail "build level lists $p, which no build step uses"
done
for tool in python3 python3-feedparser libxml2-utils trang sqlite3 curl \
    newsboat nginx-light wrk valgrind systemd sfeed hyperfine clang \
    libclang-rt-14-dev chromium chromium-driver python3-bleach; do
	if echo "$build_pkgs" | grep -qx "$tool"; then
		fail "the build level lists the test tool $tool"
	fi
done
for p in $build_pkgs; do
	echo "$test_pkgs" | grep -qx "$p" || fail "--test lacks build's $p"
done
for tool in trang valgrind nginx-light wrk python3-feedparser; do
	echo "$test_pkgs" | grep -qx "$tool" || fail "--test lacks $tool"
	echo "$all_pkgs" | grep -qx "$tool" || fail "--all lacks $tool"
done
for tool in sfeed hyperfine clang; do
	if echo "$test_pkgs" | grep -qx "$tool"; then
		fail "--test lists $tool (a bench or fuzz tool)"
	fi
	echo "$all_pkgs" | grep -qx "$tool" || fail "--all lacks $tool"
done
"$deps" --nonsense >/dev/null 2>&1
[ $? = 2 ] || fail "an unknown option is not a usage error"
end

# Which level each make target installs: run, all and install never the
# test tools; test, check and valgrind the tests'; bench the peers'.
begin make_targets_install_their_level
want_level() { # TARGET WANT (the install-deps arguments, "" for none)
	local out
	out=$(make -n -s -C "$top" BUILD="$build" "$1" 2>/dev/null |
	    grep -o 'scripts/install-deps[^;&|]*' | head -n 1)
	out=${out#scripts/install-deps}
	out=${out# }
	[ "$out" = "$2" ] ||
	    fail "make $1 runs install-deps with '$out', want '$2'"
}
want_level run ""
want_level test --test
want_level check --test
want_level valgrind --test
want_level bench --bench
want_level fuzz --fuzz
for target in all install; do
	if make -n -s -C "$top" BUILD="$build" -o all "$target" 2>/dev/null |
	    grep -q 'install-deps'; then
		fail "make $target installs packages"
	fi
done
# As a user who cannot install, the build level passes when the build's
# packages are there (the test tools are not checked).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$deps" 2>&1) || fail "install-deps as nobody: $out"
fi
# make run PORT= / LISTEN= / CONFIG=
out=$(make -n -s -C "$top" BUILD="$build" PORT=8123 CONFIG=/tmp/x.conf run |
    tail -n 1)
case $out in
*"-c '/tmp/x.conf' serve --listen '127.0.0.1:8123'") ;;
*) fail "make run PORT=8123: $out" ;;
esac
out=$(make -n -s -C "$top" BUILD="$build" LISTEN='[::1]:8124' run | tail -n 1)
case $out in
*"serve --listen '[::1]:8124'") ;;
*) fail "make run LISTEN=[::1]:8124: $out" ;;
esac
out=$(make -n -s -C "$top" BUILD="$build" run | tail -n 1)
case $out in
*"-c 'feeds.conf' serve ") ;;
*"-c 'feeds.conf' serve") ;;
*) fail "make run without PORT: $out" ;;
esac
end

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

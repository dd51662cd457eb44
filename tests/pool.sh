# tests/pool.sh — sourced by tests/run and tests/valgrind: runs test
# programs, TR_TEST_JOBS of them at a time (2 unless told; 1 runs them one
# after the other), and adds up the "N passed, N failed" and "N skipped"
# lines they print.
#
# Most test programs spend their time waiting on their own processes and
# servers, not on a core, so two at a time take about half the wall time
# on a two-core machine. Programs whose checks lean on the machine being
# theirs (a load test, lease expiry across nodes, processes killed at
# random moments and given a deadline to recover) run alone: pool_alone
# waits for the others to end and starts nothing beside it.
#
#   pool_start LOGDIR TIMEOUT   before anything else
#   pool_run NAME CMD...        CMD in the background, its output in
#                               LOGDIR/NAME.log, killed after TIMEOUT s
#   pool_alone NAME CMD...      the same, with nothing else running
#   pool_finish                 waits for all; sets passed, failed,
#                               skipped, failures (names) and times
#                               ("SECONDS NAME" lines), in start order
#   pool_stop                   kills what still runs (a trap's job)
#
# A program that ends without its count line (a crash, a sanitizer
# report, a hang killed by the timeout) counts as one failure, and so does
# one that exits non-zero while counting no failure. Each program's line
# shows the seconds it took (wall clock, on a machine that may be busy);
# a failure's line is followed by its log's failing lines, printed in one
# write so that programs ending together do not mix their lines.

pool_start() {
	_pool_logdir=$1
	_pool_timeout=$2
	_pool_jobs=${TR_TEST_JOBS:-2}
	_pool_names=()
	mkdir -p "$_pool_logdir"
	case $_pool_jobs in
	'' | *[!0-9]* | 0)
		echo "TR_TEST_JOBS is a number of programs at a time, 1 or" \
			"more, not '$_pool_jobs'" >&2
		exit 2
		;;
	esac
}

# Seconds since $1 (nanoseconds from date +%s%N), to the tenth.
seconds_since() {
	local ds=$((($(date +%s%N) - $1) / 100000000))
	echo "$((ds / 10)).$((ds % 10))"
}

# Runs one program; writes "PASSED FAILED SKIPPED SECONDS" to its .result
# file and prints its line.
_pool_one() {
	local name=$1
	shift
	local log="$_pool_logdir/$name.log" rc line p f s t0 secs out
	t0=$(date +%s%N)
	timeout "$_pool_timeout" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(seconds_since "$t0")
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	s=$(grep -aE '^[0-9]+ skipped$' "$log" | tail -n 1)
	s=${s%% *}
	if [ -z "$line" ]; then
		p=0
		f=1
	else
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1
		fi
	fi
	if [ "$f" != 0 ]; then
		out="FAIL $name ($p passed, $f failed, exit $rc) ${secs} s"$'\n'
		out+=$(grep -aE '^(FAIL|  )|ERROR|Sanitizer|runtime error' \
			"$log" | head -n 40 | sed 's/^/    /')
	elif [ -n "$s" ] && [ "$s" != 0 ]; then
		out="ok   $name ($p passed, $s skipped) ${secs} s"
	else
		out="ok   $name ($p passed) ${secs} s"
	fi
	printf '%s\n' "$out"
	echo "$p $f ${s:-0} $secs" >"$_pool_logdir/$name.result"
}

pool_run() {
	rm -f "$_pool_logdir/$1.result"
	_pool_names+=("$1")
	while [ "$(jobs -rp | wc -l)" -ge "$_pool_jobs" ]; do
		wait -n
	done
	_pool_one "$@" &
}

pool_alone() {
	rm -f "$_pool_logdir/$1.result"
	_pool_names+=("$1")
	wait
	_pool_one "$@"
}

pool_finish() {
	local name p f s secs
	wait
	passed=0
	failed=0
	skipped=0
	failures=()
	times=()
	for name in "${_pool_names[@]}"; do
		if ! read -r p f s secs <"$_pool_logdir/$name.result"; then
			p=0 f=1 s=0 secs=0
		fi 2>/dev/null
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
		times+=("$secs $name")
		[ "$f" != 0 ] && failures+=("$name")
	done
}

pool_stop() {
	local pid
	# Each job's timeout passes the signal on to its program.
	for pid in $(jobs -p); do
		pkill -TERM -P "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}

#!/usr/bin/env bash
# Runs a command (a JVM: hopper bench, PerfTest, a worker) and prints the CPU its threads used, summed by thread
# name (numbers stripped, so "hopper-orders-12" and "hopper-orders-3" add up), in seconds, largest first: how much
# of a JVM's CPU is JIT compilation (C1/C2 CompilerThread), GC, start-up ("java", the main thread), and how much the
# work itself. Samples /proc/<pid>/task/*/stat every half second, so a thread that lives less than that may be
# missed; the command's own output goes to the file in $THREAD_CPU_OUT (default: a temporary file, printed at the
# end).
#
# Usage: ops/bench/thread-cpu.sh java -jar ops/target/hopper.jar bench --tasks 100000 --keyed --store redis
#        ops/bench/thread-cpu.sh java -cp 'ops/bench/lib/*' com.rabbitmq.perf.PerfTest …
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: ops/bench/thread-cpu.sh COMMAND [ARGS...]" >&2
  exit 2
fi
out="${THREAD_CPU_OUT:-$(mktemp -t thread-cpu.XXXXXX)}"
"$@" > "$out" 2>&1 &
pid=$!
hz=$(getconf CLK_TCK)
declare -A ticks name
while kill -0 "$pid" 2>/dev/null; do
  jvm=$(pgrep -P "$pid" java || echo "$pid")
  for t in /proc/"$jvm"/task/*; do
    tid=${t##*/}
    stat=$(cat "$t/stat" 2>/dev/null) || continue
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    rest=${stat##*) }
    read -r -a f <<< "$rest"
    ticks[$tid]=$(( f[11] + f[12] )) # utime + stime (fields 14 and 15 of stat)
    name[$tid]=$comm
  done
  sleep 0.5
done
status=0
wait "$pid" || status=$?
echo "CPU seconds by thread name (command exit status $status, its output in $out):"
for tid in "${!ticks[@]}"; do
  printf '%s\t%s\n' "$(sed -E 's/[-#0-9]+$//' <<< "${name[$tid]}")" "${ticks[$tid]}"
done | awk -F'\t' -v hz="$hz" '{c[$1] += $2; all += $2} END {for (k in c) printf "%8.2f  %s\n", c[k] / hz, k; printf "%8.2f  (all threads)\n", all / hz}' \
  | sort -rn | head -25
exit "$status"

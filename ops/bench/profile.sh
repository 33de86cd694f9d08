#!/usr/bin/env bash
# CPU profile of a JVM command with async-profiler: every thread's CPU, Java, JVM and kernel frames alike, so the
# cost of parking and waking threads (futex, context switches), socket syscalls and JIT compilation shows up next to
# the Java code, which JFR's execution samples cannot show. Prints the share of CPU by thread name, then, for the
# threads whose name starts with PREFIX (default "hopper-": all of Hopper's threads; a queue's delivery threads are
# "hopper-<queue>-N", so `--thread hopper-hopper-bench` picks those of `hopper bench`), the top frames by self time
# and the Hopper/library frames by inclusive time. The collapsed stacks stay in $PROFILE_OUT (default
# ops/bench/results/profile-<time>.collapsed) for a flame graph or another THREAD:
#   ops/bench/profile-top.py FILE.collapsed lettuce-
#
# Usage: ops/bench/profile.sh [--thread PREFIX] [--] java [JVM options] -jar ops/target/hopper.jar bench ...
#   e.g. ops/bench/profile.sh -- java -jar ops/target/hopper.jar bench --tasks 300000 --keyed --store redis --prefetch 64
# async-profiler (tools.profiler:async-profiler on Maven Central) is fetched once into ops/bench/lib/profiler. Uses
# perf_events CPU samples when the kernel allows them (perf_event_paranoid <= 2), else itimer samples (process
# CPU time). The profiler itself costs some CPU: compare shares between runs, not absolute rates.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
thread="hopper-"
while [ $# -gt 0 ]; do
  case "$1" in
    --thread) thread="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    java) break ;;
    *) echo "profile.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "${1:-}" != java ]; then
  echo "usage: ops/bench/profile.sh [--thread PREFIX] [--] java [JVM options] ..." >&2
  exit 2
fi
shift
lib="$here/lib/profiler"
case "$(uname -m)" in
  x86_64) arch=linux-x64 ;;
  aarch64) arch=linux-arm64 ;;
  *) echo "profile.sh: async-profiler has no library for $(uname -m)" >&2; exit 2 ;;
esac
so="$lib/$arch/libasyncProfiler.so"
if [ ! -f "$so" ]; then
  echo "profile.sh: fetching async-profiler into $lib" >&2
  mvn -q -B -ntp -f "$here/profiler-pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2
  (cd "$lib" && unzip -q -o async-profiler-*.jar "$arch/*")
fi
event=cpu
if [ "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 3)" -gt 2 ]; then
  event=itimer
fi
mkdir -p "$here/results"
out="${PROFILE_OUT:-$here/results/profile-$(date -u +%Y%m%dT%H%M%SZ).collapsed}"
java -agentpath:"$so"=start,event="$event",interval=1ms,threads,collapsed,file="$out" "$@"
echo
echo "profile ($event samples): $out"
python3 "$here/profile-top.py" "$out" "$thread"

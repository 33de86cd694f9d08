#!/usr/bin/env python3
"""Summarizes async-profiler's collapsed stacks (profile.sh's output, recorded with the `threads` option).

Usage: ops/bench/profile-top.py FILE.collapsed [THREAD_PREFIX] [TOP]

Prints the share of all samples by thread name (digits folded, so the threads of one pool add up), then for the
threads whose name starts with THREAD_PREFIX (default "hopper-"): the top frames by self time (kernel frames end in
_[k]: finish_task_switch and futex are parking and waking) and the frames of Hopper and its libraries, and of
parking, by inclusive time (each counted once per stack).
"""
import collections
import re
import sys

INCLUSIVE = ("dev/hopper/", "io/lettuce/", "io/netty/", "com/rabbitmq/", "com/fasterxml/", "LockSupport.", "futex")


def thread_name(frame):
    name = frame.strip("[]").split(" tid=")[0]
    return re.sub(r"\d+", "N", name)


def main():
    path = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else "hopper-"
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    by_thread = collections.Counter()
    self_time = collections.Counter()
    inclusive = collections.Counter()
    total = selected = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            n = int(count)
            frames = stack.split(";")
            total += n
            name = thread_name(frames[0])
            by_thread[name] += n
            if not frames[0].strip("[").startswith(prefix):
                continue
            selected += n
            self_time[frames[-1]] += n
            seen = set()
            for fr in frames[1:]:
                fr = re.sub(r"\$\$Lambda.*", "$$Lambda", fr)
                if fr not in seen and any(k in fr for k in INCLUSIVE):
                    seen.add(fr)
                    inclusive[fr] += n
    if total == 0:
        sys.exit(f"profile-top.py: no samples in {path}")
    print(f"share of CPU samples by thread ({total} samples):")
    for name, n in by_thread.most_common(15):
        print(f"  {100 * n / total:5.1f}%  {name}")
    if selected == 0:
        print(f"no samples of threads named {prefix}*")
        return
    print(f"\nthreads {prefix}* ({100 * selected / total:.1f}% of all): top frames by self time")
    for fr, n in self_time.most_common(top):
        print(f"  {100 * n / selected:5.1f}%  {fr}")
    print(f"\nthreads {prefix}*: Hopper, library and parking frames by inclusive time")
    for fr, n in inclusive.most_common(top):
        print(f"  {100 * n / selected:5.1f}%  {fr}")


if __name__ == "__main__":
    main()

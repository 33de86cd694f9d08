#!/usr/bin/env python3
"""Aggregates a JFR recording's CPU samples: where a worker JVM spends its time.

Usage: ops/bench/jfr-top.py RECORDING.jfr [TOP]

Reads jdk.ExecutionSample (threads running Java code: CPU) and jdk.NativeMethodSample (threads in native code:
socket writes, but also threads blocked in poll or read, so not CPU) with `jfr print --json --stack-depth 64`, and prints the sample counts by thread group,
by top frame (self time), and by the first frame of each stack that belongs to a library or to Hopper (inclusive
time attributed to the outermost caller below the JDK), so that e.g. Jackson, amqp-client and Hopper's own code
can be told apart.
"""
import collections
import json
import re
import subprocess
import sys

LIBRARIES = ("dev.hopper.", "com.rabbitmq.", "com.fasterxml.", "io.lettuce.", "io.netty.", "org.HdrHistogram.",
             "io.github.resilience4j.", "ch.qos.logback.", "org.slf4j.")


def frames(event):
    trace = event["values"].get("stackTrace") or {}
    out = []
    for f in trace.get("frames", []):
        m = f["method"]
        out.append((m["type"]["name"] + "." + m["name"]).replace("/", "."))
    return out


def thread_group(event):
    t = event["values"].get("sampledThread") or {}
    name = t.get("javaName") or t.get("osName") or "?"
    return re.sub(r"[-#]?\d+$", "", re.sub(r"-\d+-\d+$", "", name))


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", "64", "--events",
                          "jdk.ExecutionSample,jdk.NativeMethodSample", path],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(raw)["recording"]["events"]
    kinds = collections.Counter(e["type"] for e in events)
    by_thread = collections.Counter()
    self_frames = collections.Counter()
    library = collections.Counter()
    package = collections.Counter()
    natives = collections.Counter()
    for e in events:
        fs = frames(e)
        if not fs:
            continue
        native = e["type"] == "jdk.NativeMethodSample"
        if native:
            # A thread in native code may be working (socket write) or waiting (poll, blocking read): not CPU.
            natives[thread_group(e) + ": " + fs[0]] += 1
            continue
        by_thread[thread_group(e)] += 1
        self_frames[fs[0]] += 1
        lib = next((f for f in fs if f.startswith(LIBRARIES) and "$$Lambda" not in f), None)
        if lib is not None:
            library[lib] += 1
        # Inclusive samples per library package: does any frame of the stack belong to it?
        seen = set()
        for f in fs:
            for prefix in LIBRARIES:
                if f.startswith(prefix):
                    seen.add(prefix.rstrip("."))
        for p in seen:
            package[p] += 1
    total = sum(by_thread.values())
    print(f"samples: {dict(kinds)}; Java (CPU) samples with stacks: {total}")

    def show(title, counter, base=total):
        print(f"\n{title}")
        for k, v in counter.most_common(top):
            print(f"{v:7d} {100.0 * v / max(1, base):5.1f}%  {k}")

    show("by thread group", by_thread)
    show("inclusive, by library (a stack counts once per library in it)", package)
    show("top frames (self)", self_frames)
    show("innermost library or Hopper frame (self time by library method)", library)
    show("native samples (I/O or waiting, not CPU), by thread: top frame", natives, sum(natives.values()))


if __name__ == "__main__":
    main()

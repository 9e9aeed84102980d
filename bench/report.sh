#!/usr/bin/env bash
# Prints the machine and a Markdown table of benchmark results with the
# ratios that docs/benchmarks.md reports. Reads the lines that bench/run.sh
# writes: name, req/s, p50 ms, p99 ms, peak RSS KiB, non-2xx responses.
set -euo pipefail
results=${1:-target/bench/results.txt}

echo "Machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
  "kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk '
  { rps[$1] = $2; p50[$1] = $3; p99[$1] = $4; rss[$1] = $5; errors[$1] = $6; order[NR] = $1 }
  END {
    print "| target | req/s | p50 ms | p99 ms | peak RSS MiB | non-2xx |"
    print "| --- | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= NR; i++) {
      n = order[i]
      printf "| %s | %.0f | %.2f | %.2f | %.1f | %d |\n", n, rps[n], p50[n], p99[n], rss[n] / 1024, errors[n]
    }
    print ""
    mint = rps["guests-mint"]
    ratio("POST /guests over the 1-worker Node peer", mint, rps["node-1-worker"], 10)
    ratio("POST /guests over the 2-worker Node peer", mint, rps["node-2-worker"], 6)
    ratio("POST /guests over the ceiling (GET /healthz)", mint, rps["ceiling-healthz"], 0.6)
    ratio("cache-hit POST /guests/login over POST /guests", rps["guests-login-cached"], mint, 0.8)
    ratio("cache-hit POST /guests/login over the ceiling", rps["guests-login-cached"], rps["ceiling-healthz"], 0)
  }
  function ratio(label, ours, theirs, target) {
    if (theirs == 0) { printf "- %s: no result\n", label; return }
    value = ours / theirs
    if (target > 0)
      printf("- %s: %.2f (target %s: %s)\n", label, value, target, (value >= target) ? "met" : "missed")
    else
      printf "- %s: %.2f\n", label, value
  }
' "$results"

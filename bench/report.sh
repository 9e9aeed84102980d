#!/usr/bin/env bash
# Prints the machine and a Markdown table of benchmark results with the
# ratios that docs/benchmarks.md reports. Reads the lines that bench/run.sh
# writes: name, req/s, p50 ms, p99 ms, peak RSS KiB, non-2xx responses,
# server CPU microseconds per request and the CPU share other programs used
# just before the run, one line per target and round. Each target is reported by its round with the
# median req/s.
set -euo pipefail
results=${1:-target/bench/results.txt}

median_rounds() {
  local name count
  for name in $(awk '!seen[$1]++ {print $1}' "$results"); do
    count=$(grep -c "^$name " "$results")
    grep "^$name " "$results" | sort -k2,2 -g | sed -n "$(((count + 1) / 2))p"
  done
}

echo "Rounds per target: $(grep -c '^ceiling-healthz ' "$results" || true)"
echo "Machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
  "kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk '
  { rps[$1] = $2; p50[$1] = $3; p99[$1] = $4; rss[$1] = $5; errors[$1] = $6; cpu[$1] = $7; background[$1] = $8; order[NR] = $1 }
  END {
    print "| target | req/s | p50 ms | p99 ms | peak RSS MiB | server CPU us/req | non-2xx | background CPU % |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= NR; i++) {
      n = order[i]
      printf "| %s | %.0f | %.2f | %.2f | %.1f | %.1f | %d | %d |\n", n, rps[n], p50[n], p99[n], rss[n] / 1024, cpu[n], errors[n], background[n]
    }
    print ""
    mint = rps["guests-mint"]
    ratio("POST /guests over the 1-worker Node peer", mint, rps["node-1-worker"], 10)
    ratio("POST /guests over the 2-worker Node peer", mint, rps["node-2-worker"], 6)
    ratio("POST /guests over the ceiling (GET /healthz)", mint, rps["ceiling-healthz"], 0.6)
    ratio("cache-hit POST /guests/login over POST /guests", rps["guests-login-cached"], mint, 0.8)
    ratio("cache-hit POST /guests/login over the ceiling", rps["guests-login-cached"], rps["ceiling-healthz"], 0)
    ratio("server CPU per request, 1-worker Node peer over POST /guests", cpu["node-1-worker"], cpu["guests-mint"], 0)
  }
  function ratio(label, ours, theirs, target) {
    if (theirs == 0) { printf "- %s: no result\n", label; return }
    value = ours / theirs
    if (target > 0)
      printf("- %s: %.2f (target %s: %s)\n", label, value, target, (value >= target) ? "met" : "missed")
    else
      printf "- %s: %.2f\n", label, value
  }
' <(median_rounds)

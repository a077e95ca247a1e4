#!/usr/bin/env bash
# bench/run.sh [--quick] [--profile] [--publish] [--only LIST] [--rates LIST]: the whole
# benchmark suite, one command.  As root on Debian: installs what it needs
# (gnuplot-nox, python3-psycopg2, linux-perf with --profile), builds and
# installs the extension in a private copy of PostgreSQL, starts a throwaway cluster as postgres under /tmp,
# runs every scenario of bench/suite.py (ingest, freshness, reads, memory,
# Nexmark, a lookup join), writes bench/results/*.csv and *.png and prints the summary table
# (also in bench/results/summary.md).
#   --quick    smaller loads, under 3 minutes
#   --profile  perf record of the worker during the 3-view ingest
#              (bench/results/perf_worker.txt)
#   --publish  copies the charts and summary to docs/bench/ and puts the
#              summary table into docs/benchmarks.md ("Latest run")
#   --only     e.g. --only ingest,pgbench (ingest, pgbench, freshness, reads,
#              memory, nexmark, join; default: all)
#   --rates    the Nexmark loads (bids/s) before its tail, e.g. --rates 400000
#              (q11's sessions of the last load end together in the tail)
#   --groups   the reads scenario's sizes, e.g. --groups 1000,100000,1000000,10000000
#              (10M needs about 3 GB of shared memory: streamext.max_memory is 4GB)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

quick=() profile=() publish=0 only=() groups=() rates=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=(--quick) ;;
    --profile) profile=(--profile) ;;
    --publish) publish=1 ;;
    --only) only=(--only "$2"); shift ;;
    --groups) groups=(--groups "$2"); shift ;;
    --rates) rates=(--rates "$2"); shift ;;
    *) echo "usage: bash bench/run.sh [--quick] [--profile] [--publish] [--only LIST] [--groups LIST] [--rates LIST]" >&2; exit 2 ;;
  esac
  shift
done

start=$(date +%s)
extra=()
[ ${#profile[@]} -gt 0 ] && extra+=(linux-perf)
install_deps gnuplot-nox python3-psycopg2 "${extra[@]}"
dir=/tmp/streamext-suite
port=54340
# this tree's build in a private copy of PostgreSQL: other worktrees install theirs system-wide
install_private /tmp/streamext-suite-pg
start_cluster "$dir" "$port" "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" \
  "streamext.max_memory = '4GB'" "max_connections = 50" ${BENCH_CONF:-}
trap 'stop_cluster "$dir"' EXIT

rm -rf bench/results
mkdir -p bench/results
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
env="$(nproc) cores, PostgreSQL $($PGBIN/postgres --version | awk '{print $3}'), streamext at $commit, $(date -u +%Y-%m-%d) (clusters with fsync = off)"
# Debian's python3-psycopg2 is for /usr/bin/python3
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 bench/suite.py --host "$dir" --port "$port" \
  --env "$env" "${quick[@]}" "${profile[@]}" "${only[@]}" "${groups[@]}" "${rates[@]}"

if [ "$publish" = 1 ]; then
  mkdir -p docs/bench
  cp bench/results/*.png bench/results/summary.md docs/bench/
  for f in ingest pgbench freshness reads memory worker_rss nexmark nexmark_windows; do
    [ -f "bench/results/$f.csv" ] && cp "bench/results/$f.csv" docs/bench/
  done
  cp bench/results/perf_*.txt docs/bench/ 2>/dev/null || true
  # the table between the markers in docs/benchmarks.md becomes this run's summary
  /usr/bin/python3 - <<'PY'
import re
page = open("docs/benchmarks.md").read()
table = open("docs/bench/summary.md").read()
begin, end = "<!-- bench summary: begin -->", "<!-- bench summary: end -->"
if begin in page:
    page = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + "\n" + table + end,
                  page, flags=re.S)
    open("docs/benchmarks.md", "w").write(page)
    print("docs/benchmarks.md: summary table replaced")
else:
    print("docs/benchmarks.md has no bench summary markers; docs/bench/summary.md written")
PY
fi
echo "wall time: $(( $(date +%s) - start )) s"

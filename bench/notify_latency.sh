#!/usr/bin/env bash
# bench/notify_latency.sh [--quick]: commit-to-notification latency of a
# streamext subscription (notify => 'event') at steady event rates, next to
# PostgreSQL's own NOTIFY sent in the producer's transaction as the baseline,
# measured in the same run on the same cluster.  A producer commits
# single-row transactions at the rate; a listener in the same Python process
# notes when each id's notification arrives (bench/notify_latency.py).
# Rates default to 1000 and 5000 events/s for 10 s each (--quick: 3 s);
# override with NOTIFY_RATES="1000 5000 10000" and NOTIFY_SECONDS=20.
# Writes bench/results/notify_latency.csv and prints median, p99, max, the
# ratio streamext / baseline and the events lost.  Then the throughput of
# notify => 'event' versus 'batch' (NOTIFY_THROUGHPUT_EVENTS, default 200000;
# --quick 50000) into bench/results/notify_throughput.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

SECS=10
TP=200000
[ "${1:-}" = --quick ] && SECS=3 && TP=50000
SECS=${NOTIFY_SECONDS:-$SECS}
RATES=${NOTIFY_RATES:-"1000 5000"}
dir=${NOTIFY_BENCH_DIR:-/tmp/streamext-notify}
port=${NOTIFY_BENCH_PORT:-54333}
install_deps python3-psycopg2
build_install
start_cluster "$dir" "$port"
trap 'stop_cluster "$dir"' EXIT

mkdir -p bench/results
# Debian's python3-psycopg2 is for /usr/bin/python3
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 bench/notify_latency.py \
  --dsn "host=$dir port=$port user=postgres dbname=postgres" \
  --rates "${RATES// /,}" --seconds "$SECS" --csv bench/results/notify_latency.csv \
  --throughput-events "${NOTIFY_THROUGHPUT_EVENTS:-$TP}"

#!/usr/bin/env python3
"""bench/notify_latency.py: commit-to-notification latency at a steady event rate,
and events notified per second with notify => 'event' versus 'batch'.

    python3 bench/notify_latency.py --dsn "host=/tmp/x port=5432 user=postgres dbname=postgres" \
        [--rates 1000,5000] [--seconds 10] [--csv bench/results/notify_latency.csv]

(bench/notify_latency.sh starts a throwaway cluster and runs this.)  For each
rate, two phases on the same cluster, one after the other:
  baseline:  each transaction inserts a row into a plain table and calls
             pg_notify('nl_baseline', id): PostgreSQL's own NOTIFY;
  streamext: each transaction inserts a row into a stream; a subscription
             (notify => 'event') notifies on 'nl_sub' once the worker decodes it.
A producer thread commits single-row transactions paced to the rate; a
listener thread in the same process notes when each id's notification is
read.  Latency = time read - time the producer's COMMIT returned, both from
time.perf_counter() in this one process.  It can be slightly negative for the
baseline: PostgreSQL signals listeners before the producer hears "COMMIT".
A third thread acknowledges the subscription every 0.5 s, as a consumer would.
"""
import argparse, json, os, select, statistics, threading, time

import psycopg2

WARMUP_S = 1.0
GRACE_S = 10.0  # how long to wait for missing notifications after the last commit


def connect(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True  # every statement its own transaction
    return conn


def setup(dsn):
    c = connect(dsn)
    with c.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS streamext")
        cur.execute("DROP TABLE IF EXISTS nl_plain")
        cur.execute("CREATE TABLE nl_plain (id bigint NOT NULL, ts timestamptz NOT NULL DEFAULT clock_timestamp())")
        cur.execute("SELECT 1 FROM streamext.subscriptions WHERE name = 'nl_sub'")
        if cur.fetchone():
            cur.execute("SELECT streamext.drop_subscription('nl_sub')")
        cur.execute("SELECT 1 FROM pg_class WHERE relname = 'nl_events'")
        if cur.fetchone():
            cur.execute("SELECT streamext.drop_stream('nl_events')")
            cur.execute("DROP TABLE nl_events")
        cur.execute("CREATE TABLE nl_events (id bigint NOT NULL, ts timestamptz NOT NULL DEFAULT clock_timestamp())")
        cur.execute("SELECT streamext.create_stream('nl_events', time_column => 'ts')")
        # a separate transaction, one that has not written: autocommit gives that
        cur.execute("SELECT streamext.create_subscription('nl_sub', 'nl_events', notify => 'event')")
        cur.execute("SELECT channel FROM streamext.subscriptions WHERE name = 'nl_sub'")
        assert cur.fetchone()[0] == "nl_sub"
    c.close()


MODES = {
    # mode: (channel, producer SQL (one implicit transaction), payload -> (id, position))
    "baseline": ("nl_baseline",
                 "INSERT INTO nl_plain (id) VALUES (%(id)s); SELECT pg_notify('nl_baseline', %(id)s::text)",
                 lambda p: (int(p), None)),
    "streamext": ("nl_sub", "INSERT INTO nl_events (id) VALUES (%(id)s)",
                  lambda p: (lambda j: (j["event"]["id"], j["position"]))(json.loads(p))),
}


def run_phase(dsn, mode, rate, seconds, first_id):
    """One phase: returns a dict of figures."""
    channel, sql, parse = MODES[mode]
    n = int(rate * seconds)
    ids = range(first_id, first_id + n)
    received, dups, bad, newest = {}, [0], [0], [0]
    stop, ready = threading.Event(), threading.Event()

    def listen():
        conn = connect(dsn)
        conn.cursor().execute(f"LISTEN {channel}")
        ready.set()
        while not stop.is_set():
            if not select.select([conn], [], [], 0.05)[0]:
                continue
            now = time.perf_counter()  # before reading: the time they were there
            conn.poll()
            for note in conn.notifies:
                try:
                    id_, pos = parse(note.payload)
                except (ValueError, KeyError, TypeError):
                    bad[0] += 1  # e.g. a truncated payload without the event
                    continue
                if id_ in received:
                    dups[0] += 1
                else:
                    received[id_] = now
                if pos is not None and pos > newest[0]:
                    newest[0] = pos
            conn.notifies.clear()
        conn.close()

    def ack():  # the consumer's acknowledgements, off the listener's thread
        conn = connect(dsn)
        done = 0
        while not stop.wait(0.5) or newest[0] > done:
            if newest[0] > done:
                done = newest[0]
                conn.cursor().execute("SELECT streamext.ack('nl_sub', %s)", (done,))
        conn.close()

    threads = [threading.Thread(target=listen)]
    if mode == "streamext":
        threads.append(threading.Thread(target=ack))
    for t in threads:
        t.start()
    ready.wait()
    sent, committed = {}, {}
    prod = connect(dsn)
    cur = prod.cursor()
    t0 = time.perf_counter()
    for k, id_ in enumerate(ids):
        delay = t0 + k / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[id_] = time.perf_counter()
        cur.execute(sql, {"id": id_})
        committed[id_] = time.perf_counter()
    elapsed = time.perf_counter() - t0
    if mode == "streamext":
        cur.execute("SELECT streamext.wait_caught_up()")
    deadline = time.perf_counter() + GRACE_S
    while len(received) < n and time.perf_counter() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # late duplicates, if any
    stop.set()
    for t in threads:
        t.join()
    prod.close()
    lat = sorted((received[i] - committed[i]) * 1000 for i in ids if i in received)
    commit = sorted((committed[i] - sent[i]) * 1000 for i in ids)
    pct = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
    return {"events": n, "achieved_rate": n / elapsed, "received": len(lat), "lost": n - len(lat),
            "duplicates": dups[0], "unparsed": bad[0],
            "median_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": lat[-1] if lat else float("nan"),
            "mean_ms": statistics.fmean(lat) if lat else float("nan"), "commit_median_ms": pct(commit, 0.5)}


def run_throughput(dsn, notify, n, first_id):
    """Events notified per second: n events committed in transactions of
    1000 rows as fast as possible, into a stream with one subscription of the
    given notify mode; the clock stops when a notification names position n."""
    name = f"nt_{notify}"
    c = connect(dsn)
    cur = c.cursor()
    cur.execute("SELECT streamext.create_subscription(%s, 'nl_events', notify => %s)", (name, notify))
    listener = connect(dsn)
    listener.cursor().execute(f"LISTEN {name}")
    newest, notes = 0, 0
    t0 = time.perf_counter()
    for start in range(first_id, first_id + n, 1000):
        cur.execute("INSERT INTO nl_events (id) SELECT g FROM generate_series(%s, %s) g",
                    (start, min(start + 999, first_id + n - 1)))
    committed = time.perf_counter() - t0
    deadline = time.perf_counter() + 120
    while newest < n and time.perf_counter() < deadline:
        if select.select([listener], [], [], 0.5)[0]:
            listener.poll()
            for note in listener.notifies:
                p = json.loads(note.payload)
                newest = max(newest, p.get("last", p.get("position", 0)))
                notes += 1
            listener.notifies.clear()
    elapsed = time.perf_counter() - t0
    cur.execute("SELECT streamext.drop_subscription(%s)", (name,))
    listener.close()
    c.close()
    return {"notify": notify, "events": n, "notified": newest, "notifications": notes,
            "commit_s": committed, "elapsed_s": elapsed, "events_per_s": newest / elapsed,
            "notifications_per_s": notes / elapsed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--rates", default="1000,5000", help="events per second, comma-separated")
    ap.add_argument("--seconds", type=float, default=10.0, help="per rate and phase")
    ap.add_argument("--csv", default="bench/results/notify_latency.csv")
    ap.add_argument("--throughput-events", type=int, default=200000,
                    help="events for the 'event' versus 'batch' throughput phase")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.replace(" ", ",").split(",") if r]
    setup(args.dsn)
    next_id = 1
    for mode in MODES:  # warm-up, not reported: connections, caches, the worker
        next_id += run_phase(args.dsn, mode, rates[0], WARMUP_S, next_id)["events"]
    rows = []
    for rate in rates:
        res = {}
        for mode in MODES:
            res[mode] = run_phase(args.dsn, mode, rate, args.seconds, next_id)
            next_id += res[mode]["events"]
        rows.append((rate, res))

    fields = ["events", "achieved_rate", "received", "lost", "duplicates", "unparsed",
              "median_ms", "p99_ms", "max_ms", "mean_ms", "commit_median_ms"]
    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
    with open(args.csv, "w") as f:
        f.write(",".join(["target_rate", "seconds"] + [f"{m}_{x}" for m in MODES for x in fields]
                         + ["ratio_median", "ratio_p99", "ratio_max"]) + "\n")
        for rate, res in rows:
            b, s = res["baseline"], res["streamext"]
            vals = [rate, args.seconds] + [res[m][x] for m in MODES for x in fields]
            vals += [s[k] / b[k] if b[k] > 0 else float("nan") for k in ("median_ms", "p99_ms", "max_ms")]
            f.write(",".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in vals) + "\n")

    print(f"\ncommit-to-notification latency, {args.seconds:g} s per rate and phase (ms; csv: {args.csv})")
    print(f"{'rate/s':>7} {'phase':<10} {'achieved/s':>10} {'events':>7} {'lost':>5} {'dups':>5}"
          f" {'median':>8} {'p99':>8} {'max':>8} {'commit':>7}")
    for rate, res in rows:
        for m in MODES:
            r = res[m]
            print(f"{rate:>7} {m:<10} {r['achieved_rate']:>10.0f} {r['events']:>7} {r['lost']:>5} "
                  f"{r['duplicates']:>5} {r['median_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['max_ms']:>8.3f} "
                  f"{r['commit_median_ms']:>7.3f}")
    for rate, res in rows:
        b, s = res["baseline"], res["streamext"]
        ratio = lambda k: f"{s[k] / b[k]:.1f}x" if b[k] > 0 else "n/a (baseline <= 0)"
        print(f"streamext / baseline at {rate}/s: median {ratio('median_ms')}, p99 {ratio('p99_ms')}, "
              f"max {ratio('max_ms')}")
    lost = sum(res[m]["lost"] + res[m]["duplicates"] for _, res in rows for m in MODES)
    print("events lost or duplicated: " + ("none" if lost == 0 else f"{lost} -- see the table"))

    # notify => 'event' versus 'batch', the same load one after the other
    tp = []
    for notify in ("event", "batch"):
        tp.append(run_throughput(args.dsn, notify, args.throughput_events, next_id))
        next_id += args.throughput_events
    tp_csv = os.path.join(os.path.dirname(os.path.abspath(args.csv)), "notify_throughput.csv")
    keys = list(tp[0].keys())
    with open(tp_csv, "w") as f:
        f.write(",".join(keys) + "\n")
        for r in tp:
            f.write(",".join(f"{r[k]:.4f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + "\n")
    print(f"\nnotify => 'event' versus 'batch': {args.throughput_events} events in transactions of 1000 (csv: {tp_csv})")
    print(f"{'notify':<7} {'notified':>9} {'notifications':>13} {'commit s':>9} {'total s':>8} {'events/s':>9} {'notifications/s':>16}")
    for r in tp:
        print(f"{r['notify']:<7} {r['notified']:>9} {r['notifications']:>13} {r['commit_s']:>9.2f} "
              f"{r['elapsed_s']:>8.2f} {r['events_per_s']:>9.0f} {r['notifications_per_s']:>16.0f}")
    print(f"events notified per second, batch / event: {tp[1]['events_per_s'] / tp[0]['events_per_s']:.1f}x")


if __name__ == "__main__":
    main()

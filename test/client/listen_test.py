#!/usr/bin/env python3
"""listen_test.py: streamext subscriptions seen from a LISTENing client.

    python3 test/client/listen_test.py --dsn "host=H port=P dbname=postgres" \
        [--example examples/subscriber.py]

Creates a table, a stream and three subscriptions (unique names, so reruns in
one database do not clash), LISTENs on one connection, produces from another
(committed, rolled-back, partly rolled-back and non-matching rows) and checks:
  - a notification wakes the listener within 10 s without polling first, and
    its payload is JSON naming the subscription, a position and the event;
  - one notification per entry, positions 1..N;
  - poll is idempotent until ack; poll/ack deliver exactly the matching
    committed events, in commit order, positions 1..N gap-free, no duplicates;
  - ack returns the number newly acknowledged and refuses positions beyond
    the newest; poll after the last ack returns nothing; backlog is 0;
  - a notify => 'batch' subscription sends {subscription, first, last, count}
    payloads that cover 1..N contiguously;
  - examples/subscriber.py --max-events K, run twice, prints the entries of a
    third subscription as JSON lines, the second run resuming from the ack;
  - under load (unless --no-stress): two producers commit single-row
    transactions while a consumer polls without acknowledging; afterwards poll
    returns every committed event once, positions gap-free, and a listener got
    one notification per position.  (Rows the worker writes must not vanish
    for readers that looked at them while its transaction was in progress.)
Exit status 0 when everything holds; otherwise 1 with a message on stderr.
"""
import argparse, json, os, select, subprocess, sys, threading, time, uuid

import psycopg2

WAKE_TIMEOUT = 10.0  # seconds a notification may take
ok_count = 0


class Failure(Exception):
    pass


def check(cond, what, detail=""):
    global ok_count
    if not cond:
        raise Failure(f"{what}{': ' + detail if detail else ''}")
    ok_count += 1
    print(f"ok {ok_count} - {what}", flush=True)


def q(conn, sql, args=(), one=False):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall() if cur.description else None
    return rows[0] if one and rows else rows


def wait_notifications(conn, channel, timeout, until=lambda got: bool(got)):
    """Collect notifications on channel (without any query) until until(got) or timeout."""
    got, deadline = [], time.monotonic() + timeout
    while True:
        conn.poll()
        for n in conn.notifies:
            if n.channel == channel:
                got.append(n.payload)
            else:
                pending.setdefault(n.channel, []).append(n.payload)
        conn.notifies.clear()
        if until(got):
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        select.select([conn], [], [], left)


pending = {}  # notifications read while waiting for another channel
spawned = []  # example processes, killed if the test fails early


def stress(args, table, tag):
    """Concurrent producers and a polling consumer; then nothing may be missing."""
    sub, per_producer = f"lt_load_{tag}", args.stress_events
    admin = psycopg2.connect(args.dsn)
    admin.autocommit = True
    q(admin, "SELECT streamext.create_subscription(%s, %s)", (sub, table))
    listener = psycopg2.connect(args.dsn)
    listener.autocommit = True
    q(listener, f"LISTEN {sub}")
    done, errors, produced = threading.Event(), [], [[], []]

    def produce(k):
        try:
            c = psycopg2.connect(args.dsn)
            c.autocommit = True  # one transaction per row
            for _ in range(per_producer):
                produced[k] += q(c, f"INSERT INTO {table} (url, ms) VALUES ('load', 1) RETURNING id", one=True)
            c.close()
        except Exception as e:
            errors.append(e)

    def consume():  # polls (reads the queue) while the worker writes it, never acks
        try:
            c = psycopg2.connect(args.dsn)
            c.autocommit = True
            while not done.is_set():
                q(c, "SELECT count(*) FROM streamext.poll(%s, 1000000)", (sub,))
            c.close()
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=produce, args=(k,)) for k in (0, 1)]
    consumer = threading.Thread(target=consume)
    consumer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(q(admin, "SELECT streamext.wait_caught_up()", one=True)[0], "load: the worker caught up")
    done.set()
    consumer.join()
    check(not errors, "load: producers and consumer ran without errors", str(errors))
    n = 2 * per_producer
    newest = q(admin, "SELECT newest_position FROM streamext.subscriptions WHERE name = %s", (sub,), one=True)[0]
    check(newest == n, f"load: {n} committed events, newest position {n}", str(newest))
    rows = q(admin, "SELECT position, event->>'id' FROM streamext.poll(%s, %s)", (sub, 2 * n))
    got = wait_notifications(listener, sub, WAKE_TIMEOUT, until=lambda got: len(got) >= n)
    positions = [r[0] for r in rows]
    npos = sorted(json.loads(p)["position"] for p in got)
    missing = sorted(set(range(1, n + 1)) - set(positions))
    nmissing = sorted(set(range(1, n + 1)) - set(npos))
    check(positions == list(range(1, n + 1)),
          f"load: poll after concurrent polling returns positions 1..{n}",
          f"{len(rows)} entries, {len(missing)} positions missing, e.g. {missing[:10]}; "
          f"the listener missed {len(nmissing)} notifications, e.g. {nmissing[:10]}")
    check(sorted(int(r[1]) for r in rows) == sorted(produced[0] + produced[1]),
          "load: the entries are the committed events, once each")
    check(npos == list(range(1, n + 1)), f"load: one notification per position 1..{n}",
          f"{len(npos)} notifications, {len(nmissing)} positions missing, e.g. {nmissing[:10]}")
    q(admin, "SELECT streamext.drop_subscription(%s)", (sub,))
    listener.close()
    admin.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--example", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "..", "..", "examples", "subscriber.py"))
    ap.add_argument("--no-stress", action="store_true", help="skip the check under load")
    ap.add_argument("--stress-events", type=int, default=3000, help="per producer, under load")
    args = ap.parse_args()
    tag = uuid.uuid4().hex[:8]
    table, sub, bsub, esub = f"lt_clicks_{tag}", f"lt_slow_{tag}", f"lt_batch_{tag}", f"lt_all_{tag}"

    admin = psycopg2.connect(args.dsn)
    admin.autocommit = True  # every statement its own transaction
    q(admin, "CREATE EXTENSION IF NOT EXISTS streamext")
    q(admin, f"CREATE TABLE {table} (id bigserial PRIMARY KEY, url text NOT NULL, ms int NOT NULL,"
             " ts timestamptz NOT NULL DEFAULT clock_timestamp())")
    q(admin, "SELECT streamext.create_stream(%s, time_column => 'ts')", (table,))
    # create_subscription must run in a transaction that has not written yet
    q(admin, "SELECT streamext.create_subscription(%s, %s, filter => 'ms > 100')", (sub, table))
    q(admin, "SELECT streamext.create_subscription(%s, %s, filter => 'ms > 100', notify => 'batch')",
      (bsub, table))
    q(admin, "SELECT streamext.create_subscription(%s, %s)", (esub, table))
    chan = dict(q(admin, "SELECT name, channel FROM streamext.subscriptions WHERE name IN (%s, %s, %s)",
                  (sub, bsub, esub)))
    check(chan.get(sub) == sub and chan.get(bsub) == bsub, "channels default to the subscription names",
          repr(chan))

    listener = psycopg2.connect(args.dsn)
    listener.autocommit = True
    q(listener, f"LISTEN {chan[sub]}")
    q(listener, f"LISTEN {chan[bsub]}")

    # the example consumer, started before any event: it must be woken by NOTIFY
    # (its safety poll is set far beyond the test's deadlines)
    def run_example(max_events):
        proc = subprocess.Popen([sys.executable, args.example, "--dsn", args.dsn, "--subscription", esub,
                                 "--batch", "4", "--timeout", "600", "--max-events", str(max_events)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        spawned.append(proc)
        return proc
    k1 = 5
    example = run_example(k1)

    # the producer: matching (ms > 100) and non-matching rows, committed or not
    prod = psycopg2.connect(args.dsn)
    expected, committed_all = [], []  # ids in commit order: matching / all committed

    def insert(ms_values):
        rows = q(prod, f"INSERT INTO {table} (url, ms) SELECT 'u' || ms, ms FROM unnest(%s::int[]) ms "
                       "RETURNING id, ms", (ms_values,))
        return [r[0] for r in rows], [r[0] for r in rows if r[1] > 100]

    all_ids, match_ids = insert([150, 50, 250, 100, 350])
    prod.commit()
    committed_all += all_ids
    expected += match_ids
    t_commit = time.monotonic()

    # woken without polling first
    got = wait_notifications(listener, chan[sub], WAKE_TIMEOUT)
    waited = time.monotonic() - t_commit
    check(got, f"a notification arrives within {WAKE_TIMEOUT:.0f} s of the first commit, without polling",
          f"nothing after {waited:.1f} s")
    print(f"# first notification after {waited * 1000:.1f} ms", flush=True)
    try:
        first = json.loads(got[0])
    except ValueError:
        raise Failure(f"notification payload is not JSON: {got[0]!r}")
    check(first.get("subscription") == sub and first.get("position") == 1 and first.get("kind") == "event",
          "the payload names the subscription, position 1, kind event", got[0])
    check(isinstance(first.get("event"), dict) and first["event"].get("id") == expected[0],
          "the payload carries the first matching event", got[0])
    notified = got

    # a rolled-back transaction with matching rows
    insert([500, 600, 700])
    prod.rollback()
    # a transaction whose savepoint is rolled back: only the rows outside it count
    all_ids, match_ids = insert([800])
    committed_all += all_ids
    expected += match_ids
    q(prod, "SAVEPOINT s")
    insert([900, 901])
    q(prod, "ROLLBACK TO SAVEPOINT s")
    all_ids, match_ids = insert([10, 1000])
    prod.commit()
    committed_all += all_ids
    expected += match_ids
    # several statements in one transaction, then single-row transactions
    for batch in ([101, 20, 102], [30, 103]):
        all_ids, match_ids = insert(batch)
        committed_all += all_ids
        expected += match_ids
    prod.commit()
    for ms in (104, 40, 105):
        all_ids, match_ids = insert([ms])
        prod.commit()
        committed_all += all_ids
        expected += match_ids
    # an event too large for a NOTIFY payload (8000 bytes)
    big = q(prod, f"INSERT INTO {table} (url, ms) VALUES (repeat('x', 9000), 2000) RETURNING id", one=True)[0]
    prod.commit()
    committed_all.append(big)
    expected.append(big)
    # only non-matching rows
    all_ids, _ = insert([1, 2, 3])
    prod.commit()
    committed_all += all_ids
    n = len(expected)

    # poll/ack in small batches, waiting for notifications when poll is empty
    received, positions, kinds, big_url, deadline = [], [], set(), "", time.monotonic() + 60
    while len(received) < n and time.monotonic() < deadline:
        rows = q(listener, "SELECT position, event, kind FROM streamext.poll(%s, 3)", (sub,))
        if not rows:
            notified += wait_notifications(listener, chan[sub], WAKE_TIMEOUT)
            continue
        again = q(listener, "SELECT position, event, kind FROM streamext.poll(%s, 3)", (sub,))
        check(again == rows, f"poll is idempotent until ack (positions {rows[0][0]}..{rows[-1][0]})")
        positions += [r[0] for r in rows]
        received += [r[1]["id"] for r in rows]
        big_url += "".join(r[1]["url"] for r in rows if r[1]["id"] == big)
        kinds.update(r[2] for r in rows)
        newly = q(listener, "SELECT streamext.ack(%s, %s)", (sub, rows[-1][0]), one=True)[0]
        check(newly == len(rows), f"ack({rows[-1][0]}) acknowledges {len(rows)} entries", str(newly))
    check(q(admin, "SELECT streamext.wait_caught_up()", one=True)[0], "the worker caught up")
    check(len(big_url) == 9000, "poll returns the event too large for NOTIFY in full", str(len(big_url)))
    check(received == expected, f"poll/ack delivered exactly the {n} matching committed events in commit order",
          f"expected ids {expected}, got {received}")
    check(kinds == {"event"}, "every entry is of kind event", str(kinds))
    check(positions == list(range(1, n + 1)), f"positions are 1..{n}, gap-free and increasing", str(positions))
    check(not q(listener, "SELECT * FROM streamext.poll(%s)", (sub,)), "poll after the final ack returns nothing")
    check(len(set(received)) == len(received), "no duplicates")
    row = q(admin, "SELECT backlog, acked_position, newest_position FROM streamext.subscriptions WHERE name = %s",
            (sub,), one=True)
    check(row == (0, n, n), f"streamext.subscriptions: backlog 0, acked and newest position {n}", str(row))
    try:
        q(admin, "SELECT streamext.ack(%s, %s)", (sub, n + 1))
        check(False, "ack beyond the newest position is refused", "it succeeded")
    except psycopg2.Error as e:
        check(True, f"ack beyond the newest position is refused ({e.pgerror.strip().splitlines()[0]})")

    # one notification per entry, none for rolled-back rows
    notified += wait_notifications(listener, chan[sub], 2, until=lambda got: len(got) + len(notified) >= n)
    notified += wait_notifications(listener, chan[sub], 0.5, until=lambda got: False)  # any extra ones
    payloads = [json.loads(p) for p in notified]
    npos = sorted(p["position"] for p in payloads)
    check(npos == list(range(1, n + 1)), f"one notification per entry: positions 1..{n}", str(npos))
    big_pos = expected.index(big) + 1
    big_note = [p for p in payloads if p["position"] == big_pos]
    check(big_note and big_note[0].get("truncated") is True and "event" not in big_note[0]
          and big_note[0].get("subscription") == sub,
          "the notification of the large event says truncated, without the event", str(big_note)[:300])
    check(all("event" in p and "truncated" not in p for p in payloads if p["position"] != big_pos),
          "every other notification carries its event")

    # the batch subscription: contiguous ranges covering 1..n
    batches = pending.pop(chan[bsub], [])
    batches += wait_notifications(listener, chan[bsub], WAKE_TIMEOUT,
                                  until=lambda got: sum(json.loads(p)["count"] for p in batches + got) >= n)
    parsed = [json.loads(p) for p in batches]
    check(all(b.get("subscription") == bsub and {"first", "last", "count"} <= b.keys() for b in parsed),
          f"{len(parsed)} batch payloads name the subscription and carry first/last/count", str(batches))
    check(all(b["count"] == b["last"] - b["first"] + 1 for b in parsed), "each batch's count = last - first + 1",
          str(batches))
    covered = [p for b in sorted(parsed, key=lambda b: b["first"]) for p in range(b["first"], b["last"] + 1)]
    check(covered == list(range(1, n + 1)), f"batches cover positions 1..{n} once each", str(batches))
    brows = q(admin, "SELECT position, event->>'id' FROM streamext.poll(%s, 1000)", (bsub,))
    check([int(r[1]) for r in brows] == expected, "the batch subscription polls the same events")

    # the example: first run stops after k1 entries, the second resumes after its ack
    k = len(committed_all)

    def finish(proc, what):
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise Failure(f"{what} did not finish within 30 s; stdout {out!r}, stderr {err!r}")
        check(proc.returncode == 0, f"{what} exits 0", f"status {proc.returncode}, stderr {err!r}")
        try:
            return [json.loads(line) for line in out.splitlines()]
        except ValueError:
            raise Failure(f"{what} printed a line that is not JSON: {out!r}")
    lines = finish(example, f"examples/subscriber.py --max-events {k1}")
    acked = q(admin, "SELECT acked_position FROM streamext.subscriptions WHERE name = %s", (esub,), one=True)[0]
    check(acked == k1, f"the example acknowledged position {k1}", str(acked))
    lines += finish(run_example(k - k1), f"examples/subscriber.py --max-events {k - k1} (resuming)")
    check([(l["position"], l["kind"], l["event"]["id"]) for l in lines]
          == [(i + 1, "event", id_) for i, id_ in enumerate(committed_all)],
          f"the example printed positions 1..{k} with all {k} committed events, in commit order",
          str(lines))
    row = q(admin, "SELECT backlog FROM streamext.subscriptions WHERE name = %s", (esub,), one=True)
    check(row == (0,), "the example left no backlog", str(row))

    if not args.no_stress:
        stress(args, table, tag)

    for s in (sub, bsub, esub):
        q(admin, "SELECT streamext.drop_subscription(%s)", (s,))
    q(admin, "SELECT streamext.drop_stream(%s)", (table,))
    q(admin, f"DROP TABLE {table}")
    for c in (listener, prod, admin):
        c.close()
    print(f"PASS: {ok_count} checks", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    except psycopg2.Error as e:
        print(f"FAIL: database error: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(1)
    finally:
        for proc in spawned:
            if proc.poll() is None:
                proc.kill()

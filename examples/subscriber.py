#!/usr/bin/env python3
"""A streamext subscriber: prints one JSON line per entry of a subscription.

    python3 examples/subscriber.py --dsn "host=/tmp/x port=5432 dbname=postgres" \
        --subscription slow_clicks [--batch 100] [--max-events N]

How it works: LISTEN on the subscription's channel, drain the backlog with
streamext.poll / streamext.ack until poll returns nothing, then sleep until a
notification arrives and drain again.  Notifications are only a wake-up call:
the entries themselves always come from poll(), which returns everything after
the acknowledged position, so nothing is lost while we are disconnected.

Delivery is at-least-once: an entry handled but not yet acknowledged when the
process dies is polled again by the next run.  Within a run, positions at or
below the last handled one are skipped, so a retry after a lost connection does
not handle anything twice.  Make your handler idempotent by position (e.g.
store the position with its result) for exactly-once effects across restarts.
Needs Python 3.11 and psycopg2 (Debian: apt-get install python3-psycopg2).
"""
import argparse, json, os, select, signal, sys, time

import psycopg2
from psycopg2 import sql

stopping = False  # set by SIGINT/SIGTERM; the main loop checks it


def on_signal(signum, frame):
    global stopping
    stopping = True


def connect(dsn, subscription):
    """Connect, LISTEN on the subscription's channel; return (conn, acked position)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True  # LISTEN takes effect at once, and poll/ack commit at once
    with conn.cursor() as cur:
        cur.execute("SELECT channel, acked_position FROM streamext.subscriptions WHERE name = %s",
                    (subscription,))
        row = cur.fetchone()
        if row is None:
            conn.close()
            sys.exit(f"subscriber: no subscription named {subscription!r}")
        cur.execute(sql.SQL("LISTEN {}").format(sql.Identifier(row[0])))
    return conn, row[1]


def handle(position, kind, event):
    """The application's work.  Here: one JSON line per entry on stdout."""
    print(json.dumps({"position": position, "kind": kind, "event": event}), flush=True)


def drain(conn, args, state):
    """poll / handle / ack until poll returns nothing (or we must stop)."""
    while not stopping and state["handled"] < args.max_events:
        with conn.cursor() as cur:
            cur.execute("SELECT position, kind, event FROM streamext.poll(%s, %s)",
                        (args.subscription, args.batch))
            rows = cur.fetchall()
        if not rows:
            return
        for position, kind, event in rows:
            if position <= state["last"]:  # handled already, before a reconnect
                continue
            handle(position, kind, event)
            state["last"] = position
            state["handled"] += 1
            if state["handled"] >= args.max_events:
                break
        # acknowledge what we handled: poll() will not return it again
        with conn.cursor() as cur:
            cur.execute("SELECT streamext.ack(%s, %s)", (args.subscription, state["last"]))


def newest_notified(conn):
    """The newest position named by the pending notifications (0 if unknown)."""
    newest = 0
    for n in conn.notifies:
        try:
            p = json.loads(n.payload)
            newest = max(newest, p.get("last", p.get("position", 0)))
        except (ValueError, AttributeError):
            newest = float("inf")  # not ours or unreadable: poll to be safe
    conn.notifies.clear()
    return newest


def run(args, wakeup):
    state = {"last": 0, "handled": 0}
    backoff = 0.5
    while not stopping and state["handled"] < args.max_events:
        conn = None
        try:
            conn, acked = connect(args.dsn, args.subscription)
            state["last"] = max(state["last"], acked)  # resume from the durable ack
            backoff = 0.5
            drain(conn, args, state)  # the backlog first
            while not stopping and state["handled"] < args.max_events:
                # sleep until the server notifies us, a signal arrives, or the timeout
                ready, _, _ = select.select([conn, wakeup], [], [], args.timeout)
                if wakeup in ready:
                    os.read(wakeup, 64)  # a signal: the loop condition decides
                    continue
                conn.poll()  # reads pending notifications into conn.notifies
                # on a timeout, poll anyway: a cheap safety net (e.g. notify => 'none')
                if not ready or newest_notified(conn) > state["last"]:
                    drain(conn, args, state)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            print(f"subscriber: connection lost ({' '.join(str(e).split())}); retrying in {backoff:.1f}s",
                  file=sys.stderr)
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)
        finally:
            if conn is not None:
                conn.close()
    return state["handled"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True, help="libpq connection string")
    ap.add_argument("--subscription", required=True)
    ap.add_argument("--batch", type=int, default=100, help="entries per poll")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds between safety polls")
    ap.add_argument("--max-events", type=int, default=float("inf"),
                    help="exit after handling this many entries")
    args = ap.parse_args()
    # a signal writes to this pipe, which wakes select() at once
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    handled = run(args, rfd)
    print(f"subscriber: stopping after {handled} entries", file=sys.stderr)


if __name__ == "__main__":
    main()

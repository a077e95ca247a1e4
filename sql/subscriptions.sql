-- subscriptions: events of a stream and rows of a continuous view, in commit
-- order with gap-free positions; poll, ack, the catalog view, and every error
SET timezone = 'UTC';

-- waits until a subscription's newest position reaches n (windows close at
-- the worker's checkpoints, a moment after the events are applied)
CREATE FUNCTION wait_for_position(sub text, n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  newest bigint;
BEGIN
  FOR i IN 1..600 LOOP
    SELECT newest_position INTO newest FROM streamext.subscriptions WHERE name = sub;
    EXIT WHEN newest >= n;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN newest;
END $$;

CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL, amount numeric NOT NULL,
                     ts timestamptz NOT NULL);
SELECT streamext.create_stream('orders', time_column => 'ts', idle_timeout => NULL);

-- a filtered subscription with the defaults: NOTIFY per event on its name
SELECT streamext.create_subscription('big_orders', 'orders', filter => 'amount >= 100');
-- every event, one NOTIFY per batch on another channel
SELECT streamext.create_subscription('all_orders', 'orders', channel => 'orders_feed', notify => 'batch');
SELECT name, source, source_kind, filter, channel, notify, emit, acked_position, newest_position, backlog
  FROM streamext.subscriptions ORDER BY name;

-- events committed before a subscription existed are not its
INSERT INTO orders (customer, amount, ts) VALUES ('ann', 150, '2026-01-01 10:00:00+00');
INSERT INTO orders (customer, amount, ts) VALUES ('bob', 20, '2026-01-01 10:00:01+00'),
                                                 ('cid', 100, '2026-01-01 10:00:02+00');
BEGIN;
INSERT INTO orders (customer, amount, ts) VALUES ('dan', 999, '2026-01-01 10:00:03+00');
ROLLBACK;
INSERT INTO orders (customer, amount, ts) VALUES ('eve', 500, '2026-01-01 10:00:04+00');
SELECT streamext.wait_caught_up();

-- poll is idempotent until ack
SELECT position, event->>'customer' AS customer, event->'amount' AS amount, kind
  FROM streamext.poll('big_orders', 2);
SELECT position, event->>'customer' AS customer FROM streamext.poll('big_orders', 2);
SELECT streamext.ack('big_orders', 2);
SELECT position, event->>'customer' AS customer, event->>'ts' AS ts FROM streamext.poll('big_orders');
-- acknowledging again, or less, changes nothing
SELECT streamext.ack('big_orders', 2);
SELECT streamext.ack('big_orders', 1);
SELECT streamext.ack('big_orders', 3);
SELECT count(*) FROM streamext.poll('big_orders');
SELECT position, event->>'customer' AS customer FROM streamext.poll('all_orders', 10);
SELECT name, acked_position, newest_position, backlog, last_notify IS NOT NULL AS notified
  FROM streamext.subscriptions ORDER BY name;

-- the event is the row as JSON, whatever its types
SELECT event - 'ts' AS event FROM streamext.poll('all_orders', 1);

-- a continuous view's closed windows, once each; late events correct them
SELECT streamext.create_view('revenue', $$ SELECT customer, count(*) AS n, sum(amount) AS total FROM orders GROUP BY customer $$,
                             'tumbling 1 minute');
SELECT streamext.create_subscription('revenue_final', 'revenue', notify => 'none');
SELECT streamext.create_subscription('revenue_changes', 'revenue', filter => 'total > 100', emit => 'changes');
INSERT INTO orders (customer, amount, ts) VALUES ('ann', 70, '2026-01-01 10:01:10+00'),
                                                 ('ann', 50, '2026-01-01 10:01:20+00');
SELECT streamext.wait_caught_up();
SELECT position, event->>'customer' AS customer, event->'total' AS total, kind
  FROM streamext.poll('revenue_changes');
-- the watermark passes 10:02: the 10:01 window closes
INSERT INTO orders (customer, amount, ts) VALUES ('bob', 1, '2026-01-01 10:02:30+00');
SELECT streamext.wait_caught_up();
-- the backfilled 10:00 window closed when the 10:01 events came
SELECT wait_for_position('revenue_final', 5);
SELECT event->>'window_start' AS window_start, event->>'customer' AS customer,
       event->'n' AS n, event->'total' AS total, kind
  FROM streamext.poll('revenue_final') ORDER BY 1, 2;
SELECT array_agg(position ORDER BY position) FROM streamext.poll('revenue_final');
-- a late event for the closed window: its row again, marked as a correction
INSERT INTO orders (customer, amount, ts) VALUES ('ann', 5, '2026-01-01 10:01:59+00');
SELECT streamext.wait_caught_up();
SELECT wait_for_position('revenue_final', 6);
SELECT streamext.ack('revenue_final', 5);
SELECT position, event->>'customer' AS customer, event->'n' AS n, event->'total' AS total, kind
  FROM streamext.poll('revenue_final');
SELECT position, event->>'customer' AS customer, event->'total' AS total, kind
  FROM streamext.poll('revenue_changes');
SELECT * FROM revenue WHERE window_start = '2026-01-01 10:01:00+00';

-- errors: each leaves every subscription as it was
SELECT streamext.create_subscription('nowhere', 'no_such_table');
CREATE TABLE not_a_stream (v int);
SELECT streamext.create_subscription('not_a_stream', 'not_a_stream');
SELECT streamext.create_subscription('big_orders', 'orders');
SELECT streamext.create_subscription('Bad Name', 'orders');
SELECT streamext.create_subscription('ok_name', 'orders', channel => 'no-dashes');
SELECT streamext.create_subscription('s1', 'orders', notify => 'sometimes');
SELECT streamext.create_subscription('s1', 'revenue', emit => 'never');
SELECT streamext.create_subscription('s1', 'orders', emit => 'changes');
SELECT streamext.create_subscription('s1', 'orders', filter => 'amount >');
SELECT streamext.create_subscription('s1', 'orders', filter => 'no_such_column > 1');
SELECT streamext.create_subscription('s1', 'orders', filter => 'amount');
SELECT streamext.create_subscription('s1', 'orders', filter => 'random() > 0.5');
SELECT streamext.create_subscription('s1', 'orders', filter => 'generate_series(1, amount::int) > 1');
SELECT streamext.create_subscription('s1', 'orders', filter => 'amount > (SELECT 1)');
SELECT streamext.create_subscription('s1', 'orders', filter => 'count(*) > 1');
SELECT streamext.create_subscription('s1', 'orders', filter => 'true; DROP TABLE not_a_stream');
SELECT streamext.create_subscription('s1', 'orders', filter => 'true UNION SELECT FROM not_a_stream');
SELECT streamext.create_subscription('s1', 'orders', filter => 'true GROUP BY id');
SELECT streamext.create_subscription(NULL, 'orders');
SELECT * FROM streamext.poll('no_such_subscription');
SELECT * FROM streamext.poll('big_orders', 0);
SELECT streamext.ack('big_orders', 99);
SELECT streamext.ack('big_orders', -1);
SELECT streamext.drop_subscription('no_such_subscription');
SELECT streamext.drop_stream('orders');
SELECT streamext.drop_view('revenue');
SELECT name FROM streamext.subscriptions ORDER BY name;

-- privileges: a subscription delivers only what its owner may read, to roles
-- with the owner's privileges, and its filter runs with the owner's rights
CREATE ROLE sub_owner;
CREATE ROLE sub_other;
CREATE FUNCTION secret_rule(numeric) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
REVOKE EXECUTE ON FUNCTION secret_rule(numeric) FROM PUBLIC;
SET ROLE sub_owner;
SELECT streamext.create_subscription('mine', 'orders');
RESET ROLE;
GRANT SELECT ON orders TO sub_owner;
SET ROLE sub_owner;
SELECT streamext.create_subscription('mine', 'orders', filter => 'secret_rule(amount)');
SELECT streamext.create_subscription('mine', 'orders', filter => 'amount > 1000');
SELECT name, owner FROM streamext.subscriptions;
SET ROLE sub_other;
SELECT name FROM streamext.subscriptions;
SELECT * FROM streamext.poll('mine');
SELECT streamext.ack('mine', 0);
SELECT streamext.drop_subscription('mine');
SELECT * FROM streamext.subscription_queue;
RESET ROLE;
INSERT INTO orders (customer, amount, ts) VALUES ('fay', 2000, '2026-01-01 10:03:00+00');
SELECT streamext.wait_caught_up();
SET ROLE sub_owner;
SELECT position, event->>'customer' AS customer FROM streamext.poll('mine');
RESET ROLE;
-- a role granted the owner's privileges may consume
GRANT sub_owner TO sub_other;
SET ROLE sub_other;
SELECT streamext.ack('mine', 1);
RESET ROLE;
-- once the owner may no longer read the stream, nothing more is handed out
REVOKE SELECT ON orders FROM sub_owner;
SET ROLE sub_owner;
SELECT * FROM streamext.poll('mine');
RESET ROLE;
SELECT streamext.drop_subscription('mine');
DROP FUNCTION secret_rule(numeric);
DROP ROLE sub_owner;
DROP ROLE sub_other;

-- a stream is dropped with drop_stream first, or with CASCADE, which drops
-- its subscriptions too; the worker goes on with the others
CREATE TABLE doomed (v int);
SELECT streamext.create_stream('doomed');
SELECT streamext.create_subscription('doomed_feed', 'doomed');
DROP TABLE doomed;
DROP TABLE doomed CASCADE;
SELECT name FROM streamext.subscriptions WHERE name = 'doomed_feed';
INSERT INTO orders (customer, amount, ts) VALUES ('gus', 1, '2026-01-01 10:04:00+00');
SELECT streamext.wait_caught_up();
SELECT * FROM streamext.poll('doomed_feed');
SELECT position, event->>'customer' AS customer FROM streamext.poll('all_orders') WHERE event->>'customer' = 'gus';

-- the worker queues entries straight into the queue table and its index;
-- a queue table someone gave a trigger is written through an INSERT
-- statement instead, which fires it, with the same entries
CREATE TABLE queue_seen (subscription_id int, position bigint);
CREATE FUNCTION note_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.queue_seen VALUES (NEW.subscription_id, NEW.position);
    RETURN NEW;
END $$;
CREATE TRIGGER note_queued AFTER INSERT ON streamext.subscription_queue
    FOR EACH ROW EXECUTE FUNCTION note_queued();
INSERT INTO orders (customer, amount, ts) VALUES ('hal', 2, '2026-01-01 10:05:00+00');
SELECT streamext.wait_caught_up();
SELECT position, kind, event->>'customer' AS customer FROM streamext.poll('all_orders')
 WHERE event->>'customer' = 'hal';
SELECT q.kind, q.event->>'customer' AS customer
  FROM streamext.subscription_queue q JOIN queue_seen s USING (subscription_id, position)
  JOIN streamext.subscription_def d ON d.id = q.subscription_id
 WHERE d.name = 'all_orders';
DROP TRIGGER note_queued ON streamext.subscription_queue;
DROP FUNCTION note_queued();
DROP TABLE queue_seen;

-- dropping a subscription drops what it queued
SELECT streamext.drop_subscription('all_orders');
SELECT streamext.drop_subscription('big_orders');
SELECT streamext.drop_subscription('revenue_final');
SELECT streamext.drop_subscription('revenue_changes');
SELECT count(*) FROM streamext.subscription_queue;
SELECT streamext.drop_view('revenue');
SELECT streamext.drop_stream('orders');
DROP TABLE orders, not_a_stream;
DROP FUNCTION wait_for_position(text, bigint);

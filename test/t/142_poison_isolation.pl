# One bad event costs one event.  Events that fail in a view or a filter in
# every way the worker can meet (an expression, a function that tries to
# write, one that takes a transaction ID, a transition function that fails
# after another aggregate of the view counted the event, bad events already
# in the stream before the worker's first start) become dead letters at
# once; every other event counts exactly once, another role's view on
# another stream stays fresh, and the worker never restarts.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('poison_isolation');

# bad events committed before the worker ever ran: its first recompute
# must set them aside and keep the slot
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE early (x int NOT NULL);
SELECT streamext.create_stream('early');
SELECT streamext.create_view('early_view', $$ SELECT count(*) AS n, sum(1000 / x) AS s FROM early $$);
-- a transition function that fails after count(*) counted the event
CREATE FUNCTION early_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 = 0 THEN RAISE EXCEPTION ''zero''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE early_sum(int) (sfunc = early_trans, stype = int8, combinefunc = int8pl, initcond = '0');
SELECT streamext.create_view('early_agg', $$ SELECT count(*) AS n, early_sum(x) AS s FROM early $$);
INSERT INTO early SELECT CASE WHEN i % 10 = 0 THEN 0 ELSE i END FROM generate_series(1, 100) i;
});
wait_caught_up($node);
$node->safe_psql('postgres', 'INSERT INTO early VALUES (5), (0), (10)');
# created with bad events in the stream: its backfill sets them aside
my ($rc, $out, $err) = $node->psql('postgres',
	q{SELECT streamext.create_view('late_agg', $$ SELECT count(*) AS n, early_sum(x) AS s FROM early $$)});
is($rc, 0, 'create_view over bad events succeeds');
like($err, qr/11 event\(s\) of "early" failed in continuous view "late_agg" and were set aside/,
	'and warns how many it set aside');
$node->safe_psql('postgres', 'INSERT INTO early VALUES (7), (0)');
wait_caught_up($node);
check_view($node, 'postgres', 'early_view', 'SELECT count(*), sum(1000 / x) FROM early WHERE x <> 0',
	'bad events before the first start');
check_view($node, 'postgres', $_, 'SELECT count(*), sum(x) FROM early WHERE x <> 0',
	'a transition failing on events before the first start, and in a backfill') for qw(early_agg late_agg);
is($node->safe_psql('postgres', q{
SELECT string_agg(v.name || ':' || n || ':' || sqlstate, ',' ORDER BY v.name)
  FROM (SELECT view_id, count(*) AS n, min(sqlstate) AS sqlstate FROM streamext.dead_letters GROUP BY 1) d
  JOIN streamext.view_def v ON v.id = d.view_id}), 'early_agg:12:P0001,early_view:12:22012,late_agg:12:P0001',
	'each bad event of the stream is a dead letter of each view, the early ones too');

$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
GRANT CREATE ON SCHEMA public TO alice, bob;
SET ROLE alice;
CREATE TABLE public.alice_log (v int);
CREATE FUNCTION public.note(v int) RETURNS int LANGUAGE plpgsql AS
  'BEGIN INSERT INTO public.alice_log VALUES (v); RETURN v; END';
-- declared immutable, yet writes through a function it calls
CREATE FUNCTION public.sneaky_write(v int) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN RETURN CASE WHEN v = 13 THEN public.note(v) > 0 ELSE true END; END';
CREATE FUNCTION public.takes_xid(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF v = 13 THEN PERFORM txid_current(); END IF; RETURN v; END';
CREATE FUNCTION public.picky_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 = 13 THEN RAISE EXCEPTION ''no thirteens''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE public.picky_sum(int) (sfunc = public.picky_trans, stype = int8,
                                        combinefunc = int8pl, initcond = '0');
CREATE TABLE public.readings (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('public.readings', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('by_key', $$ SELECT k, count(*) AS n, sum(v) AS s FROM public.readings GROUP BY k $$);
SELECT streamext.create_view('xid_view', $$ SELECT k, count(*) AS n, sum(public.takes_xid(v)) AS s FROM public.readings GROUP BY k $$);
SELECT streamext.create_view('picky_view', $$ SELECT k, count(*) AS n, public.picky_sum(v) AS s FROM public.readings GROUP BY k $$,
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_subscription('writer_feed', 'public.readings', filter => 'public.sneaky_write(v)', notify => 'none');
SET ROLE bob;
CREATE TABLE public.bob_events (v int NOT NULL);
SELECT streamext.create_stream('public.bob_events');
SELECT streamext.create_view('bob_count', $$ SELECT count(*) AS n FROM public.bob_events $$);
});
wait_caught_up($node);

# thirteens among good events, in transactions of one and of many events
$node->safe_psql('postgres', q{
INSERT INTO readings (k, v) SELECT i % 4, i % 20 FROM generate_series(1, 200) i;
INSERT INTO readings (k, v) VALUES (1, 13);
INSERT INTO bob_events SELECT generate_series(1, 10);
INSERT INTO readings (k, v) SELECT i % 4, 1 + i % 7 FROM generate_series(1, 50) i;
});
wait_caught_up($node);

check_view($node, 'postgres', 'by_key', 'SELECT k, count(*), sum(v) FROM readings GROUP BY k',
	'a view with no bad event');
check_view($node, 'postgres', 'xid_view', 'SELECT k, count(*), sum(v) FROM readings WHERE v <> 13 GROUP BY k',
	'a function taking an XID');
check_view($node, 'postgres', 'picky_view',
	q{SELECT date_bin('1 minute', ts, '2000-01-01'), date_bin('1 minute', ts, '2000-01-01') + interval '1 minute',
	         k, count(*), sum(v) FROM readings WHERE v <> 13 GROUP BY 1, 2, 3},
	'a transition function failing after count(*) counted the event');
is($node->safe_psql('postgres', 'SELECT n FROM bob_count'), '10', "bob's view on his stream is exact");
is($node->safe_psql('postgres', q{
SELECT count(*) FROM streamext.poll('writer_feed', 1000)}),
	$node->safe_psql('postgres', 'SELECT count(*) FROM readings WHERE v <> 13'),
	'the subscription delivered every event but those its filter failed on');
is($node->safe_psql('postgres', 'SELECT count(*) FROM alice_log'), '0', 'the filter wrote nothing');

my $letters = $node->safe_psql('postgres', q{
SELECT coalesce(v.name, s.name), count(*), min(d.sqlstate), min(d.message)
  FROM streamext.dead_letters d
  LEFT JOIN streamext.view_def v ON v.id = d.view_id
  LEFT JOIN streamext.subscription_def s ON s.id = d.subscription_id
 WHERE coalesce(v.name, s.name) NOT IN ('early_view', 'early_agg', 'late_agg') GROUP BY 1 ORDER BY 1});
my $n13 = $node->safe_psql('postgres', 'SELECT count(*) FROM readings WHERE v = 13');
like($letters, qr/^picky_view\|$n13\|P0001\|no thirteens$/m, 'the failing transition: one dead letter per event');
like($letters, qr/^writer_feed\|$n13\|25006\|cannot execute INSERT in a read-only transaction$/m,
	'the write attempt: one dead letter per event');
like($letters, qr/^xid_view\|$n13\|25006\|a function of a continuous view or subscription made the transaction take a transaction ID$/m,
	'the transaction ID: one dead letter per event');
unlike($letters, qr/^by_key/m, 'no dead letter for the view without bad events');

is($node->safe_psql('postgres', 'SELECT restarts, last_error IS NULL FROM streamext.worker_status()'), '0|t',
	'the worker never restarted');

# exactly once across a restart: nothing is applied or set aside twice
$node->restart;
wait_caught_up($node);
check_view($node, 'postgres', 'picky_view',
	q{SELECT date_bin('1 minute', ts, '2000-01-01'), date_bin('1 minute', ts, '2000-01-01') + interval '1 minute',
	         k, count(*), sum(v) FROM readings WHERE v <> 13 GROUP BY 1, 2, 3}, 'after a restart');
is($node->safe_psql('postgres', q{SELECT count(*) FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id
                                   WHERE v.name IN ('picky_view', 'xid_view')}), 2 * $n13,
	'no dead letter twice');
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();

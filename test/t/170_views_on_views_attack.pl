# Views on views, attacked: what a review found wrong.
#
# 1. A view on a view whose rows fail (a function raising on some lower
#    rows) sets each such row aside once, however often late events make
#    its window be computed again; once the cause is fixed, replaying the
#    dead letters counts each lower row once.
# 2. A view on a view created while the worker has a late correction of the
#    lower view in hand (decoded, not yet checkpointed) gets that
#    correction: its backfill reads the lower closed table, which the
#    worker's checkpoint writes only after create_view commits.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('views_on_views_attack');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE e (g int, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('e', time_column => 'ts');
SELECT streamext.create_view('lo', $$ SELECT g, count(*) AS n, sum(v) AS s FROM e GROUP BY g $$,
                             "window" => 'tumbling 1 minute');
CREATE FUNCTION f(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN IF $1 = 4 THEN RAISE EXCEPTION 'four'; END IF; RETURN $1; END $$;
CREATE FUNCTION slow(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS
  $$ BEGIN PERFORM pg_sleep(0.1); RETURN $1; END $$;
-- 10:20 has 4 events (f fails on it), 10:21 5, 10:22 3; 10:30 closes them
INSERT INTO e SELECT 7, i, '2026-01-01 10:20+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 4) i;
INSERT INTO e SELECT 7, i, '2026-01-01 10:21+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 5) i;
INSERT INTO e SELECT 7, i, '2026-01-01 10:22+00'::timestamptz + i * interval '1 second' FROM generate_series(1, 3) i;
INSERT INTO e VALUES (1, 1, '2026-01-01 10:30+00');
SELECT streamext.wait_caught_up();
SELECT streamext.create_view('fz', $$ SELECT g, sum(f(n)) AS q, count(*) AS c FROM lo GROUP BY g $$,
                             "window" => 'tumbling 1 hour');
SELECT streamext.wait_caught_up();
});

# plain SQL over the lower view, and the view on it, both ways
sub differs
{
	my ($view, $oracle) = @_;
	return $node->safe_psql('postgres', "
SELECT (SELECT count(*) FROM (($oracle) EXCEPT ALL (SELECT * FROM $view)) a)
     + (SELECT count(*) FROM ((SELECT * FROM $view) EXCEPT ALL ($oracle)) b)");
}
my $fz_oracle = q{SELECT date_trunc('hour', window_start), date_trunc('hour', window_start) + interval '1 hour',
                         g, sum(n), count(*) FROM lo GROUP BY 1, 2, 3};
my $fz_dead = q{SELECT count(*) FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id
                 WHERE v.name = 'fz'};

is($node->safe_psql('postgres', $fz_dead), '1', 'the failing lower row is a dead letter');
# two late events into the hour: its window is computed again twice
for my $ts ('10:21:40', '10:21:41')
{
	$node->safe_psql('postgres', "INSERT INTO e VALUES (7, 100, '2026-01-01 $ts+00')");
	$node->safe_psql('postgres', 'SELECT streamext.wait_caught_up()');
}
is($node->safe_psql('postgres', $fz_dead), '1',
	'computing the window again sets the failing lower row aside once, not again');
$node->safe_psql('postgres', q{
CREATE OR REPLACE FUNCTION f(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN $1; END $$;
SELECT streamext.replay_dead_letters('fz');
SELECT streamext.wait_caught_up();
});
# fz takes lo's rows once their windows are closed, while lo also shows its
# open window (10:30, g 1), which the clock closes a second (the stream's
# idle_timeout) after the last event: right away when the worker computed lo
# at its start, but not when it decoded the events as they came
$node->poll_query_until('postgres', q{
SELECT p.closed_upto >= '2026-01-01 10:31+00' FROM streamext.view_progress p
  JOIN streamext.view_def v ON v.id = p.view_id WHERE v.name = 'lo'})
  or diag('the lower view did not close its last window');
is(differs('fz', $fz_oracle), '0', 'after the replay each lower row counts once');
is($node->safe_psql('postgres', $fz_dead), '0', 'the replayed dead letters left');

# a view on a view created while the worker holds a lower correction: the
# backfill is slow (slow() per row), a late event comes meanwhile, and the
# worker's checkpoint waits for create_view's lock on the lower closed table
$node->safe_psql('postgres', q{
INSERT INTO e SELECT i, i, '2026-01-01 10:25+00' FROM generate_series(100, 140) i;
SELECT streamext.wait_caught_up();
});
my $bg = $node->background_psql('postgres');
$bg->query_until(qr/started/, q{
\echo started
SELECT streamext.create_view('hi', $$ SELECT g, sum(slow(n)) AS n, sum(s) AS s FROM lo GROUP BY g $$,
                             "window" => 'tumbling 1 hour');
});
sleep 1;
$node->safe_psql('postgres', q{INSERT INTO e VALUES (7, 1000, '2026-01-01 10:20:30+00')});
$bg->quit;
$node->safe_psql('postgres', 'SELECT streamext.wait_caught_up()');
my $hi_oracle = q{SELECT date_trunc('hour', window_start), date_trunc('hour', window_start) + interval '1 hour',
                         g, sum(n), sum(s) FROM lo GROUP BY 1, 2, 3};
is(differs('lo', q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00'),
                          date_bin('1 minute', ts, '2000-01-01 00:00+00') + interval '1 minute',
                          g, count(*), sum(v) FROM e GROUP BY 1, 2, 3}), '0', 'the lower view is exact');
is(differs('hi', $hi_oracle), '0',
	'a view on a view created while a lower correction was pending has it');

# 3. CREATE OR REPLACE VIEW of the lower view, adding a column: a view on it
#    must not read the closed table's _group bytea as that column
$node->safe_psql('postgres', q{
SELECT streamext.create_view('lo3', $$ SELECT g, count(*) AS n FROM e GROUP BY g $$,
                             "window" => 'tumbling 1 minute');
});
my $closed3 = $node->safe_psql('postgres',
	q{SELECT closed_relid::regclass FROM streamext.view_def WHERE name = 'lo3'});
my ($ret, $out, $err) = $node->psql('postgres', qq{
CREATE OR REPLACE VIEW lo3 AS SELECT window_start, window_end, g, n, 1.5::numeric AS x
  FROM $closed3 WHERE _having;
SELECT streamext.create_view('hi3', \$q\$ SELECT g, sum(x) AS sx FROM lo3 GROUP BY g \$q\$,
                             "window" => 'tumbling 1 hour');
SELECT streamext.wait_caught_up();
});
$ret == 0 and $node->poll_query_until('postgres', 'SELECT count(*) > 0 FROM hi3');
my $bad = $ret == 0 ? $node->safe_psql('postgres',
	q{SELECT count(*) FROM hi3 WHERE sx IS DISTINCT FROM 1.5 * (SELECT count(*) FROM lo3 l WHERE l.g IS NOT DISTINCT FROM hi3.g AND date_trunc('hour', l.window_start) = hi3.window_start)})
  : 0;
is($bad, '0', 'a replaced lower view is refused, or read as it is, never its closed table by position');

done_testing();

# Views on views, attacked: what a review found wrong.
#
# 1. A view on a view whose rows fail (a function raising on some lower
#    rows) sets each such row aside once, however often late events make
#    its window be computed again; once the cause is fixed, replaying the
#    dead letters counts each lower row once.
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
is(differs('fz', $fz_oracle), '0', 'after the replay each lower row counts once');
is($node->safe_psql('postgres', $fz_dead), '0', 'the replayed dead letters left');

done_testing();

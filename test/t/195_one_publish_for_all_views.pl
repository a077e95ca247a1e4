# The worker publishes all its views at once: a statement that reads
# several views sees them at the same point of the WAL, never one view with
# a commit that another does not show yet, while producers commit and the
# worker publishes.  A view whose combine function fails when the worker
# publishes it (a sliding view) is left out with its error, and the others
# are still published together.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('one_publish');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('total', $$ SELECT count(*) AS n FROM ev $$);
-- many groups change per transaction: publishing this one takes a while
SELECT streamext.create_view('wide', $$ SELECT k, count(*) AS n FROM ev GROUP BY k $$);
SELECT streamext.create_view('tumb', $$ SELECT v % 10 AS g, count(*) AS n FROM ev GROUP BY 1 $$, 'tumbling 1 hour');
CREATE FUNCTION fussy_combine(int8, int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN IF $1 + $2 > 3 THEN RAISE EXCEPTION 'too many to combine'; END IF; RETURN $1 + $2; END $$;
CREATE AGGREGATE fussy_sum(int8) (sfunc = int8pl, stype = int8, combinefunc = fussy_combine, initcond = '0');
SELECT streamext.create_view('fussy', $$ SELECT fussy_sum(1) AS s FROM ev $$, 'sliding 10 minutes step 1 minute');
-- reads the three views in one statement for secs seconds: how often they
-- disagreed, and how many reads
CREATE FUNCTION watch(secs float8) RETURNS TABLE (disagreed int, reads int)
LANGUAGE plpgsql AS $$
DECLARE
  stop timestamptz := clock_timestamp() + secs * interval '1 second';
  a bigint; b bigint; c bigint;
BEGIN
  disagreed := 0; reads := 0;
  WHILE clock_timestamp() < stop LOOP
    SELECT (SELECT n FROM total), (SELECT sum(n) FROM wide), (SELECT sum(n) FROM tumb) INTO a, b, c;
    IF a IS DISTINCT FROM b OR a IS DISTINCT FROM c THEN
      disagreed := disagreed + 1;
    END IF;
    reads := reads + 1;
  END LOOP;
  RETURN NEXT;
END $$;
});
$node->safe_psql('postgres', "INSERT INTO ev VALUES (0, 0, '2026-01-01 00:00:00+00')");
wait_caught_up($node);

my ($out, $err) = ('', '');
my $h = IPC::Run::start(['psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c', 'SELECT * FROM watch(6)'],
	'<', \undef, '>', \$out, '2>', \$err);
# transactions of 3,000 events each, every one touching 3,000 groups of wide
my $producer = join('', map {
	"INSERT INTO ev SELECT i, i, '2026-01-01 00:00:00+00'::timestamptz + (i % 3000) * interval '1 second'"
	  . " FROM generate_series(1, 3000) i;\n"
} 1 .. 60);
$node->safe_psql('postgres', $producer);
$h->finish;
chomp $out;
is($err, '', 'the reader read the views without an error');
my ($disagreed, $reads) = split /\|/, $out;
cmp_ok($reads, '>', 100, "the reader read the views often ($reads statements)");
is($disagreed, 0, 'no statement saw a commit in one view that another did not show');

wait_caught_up($node);
check_views($node, 'postgres', 'after the load',
	[ 'total', 'SELECT count(*) FROM ev' ],
	[ 'wide', 'SELECT k, count(*) FROM ev GROUP BY k' ]);
my ($rc, $stdout, $stderr) = $node->psql('postgres', 'SELECT * FROM fussy');
like($stderr, qr/cannot be read: the worker could not publish it.*too many to combine/s,
	'the view whose combine function fails is left out, with why');
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();

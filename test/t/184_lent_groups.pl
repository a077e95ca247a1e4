# A statement's reads are lent the groups of a view in shared memory, not
# copies (state_shmem_read_view): the bytes must stay as the statement's
# pin saw them until it ends, whatever the worker does meanwhile: publish
# new states of the groups, replace or rebuild the view, or start over in
# a new area (which another statement of the same backend then reads).
# A cursor reads part of a view, one of those happens, and the cursor
# reads the rest: together they are the view as it was when it began.
# replace_view waits for the readers of the view: a call of read_view in
# the cursor itself does not make it wait.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('lent_groups');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('flat', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$);
SELECT streamext.create_view('tumb', $$ SELECT k % 7 AS b, count(*) AS n, sum(v) AS s FROM ev GROUP BY 1 $$,
                             "window" => 'tumbling 1 minute', lateness => '1 hour');
CREATE TABLE got (scenario text, r text);
-- drain fetches n rows (all: -1) of a cursor into got
CREATE FUNCTION drain(c refcursor, n int, scenario text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	r text;
	i int := 0;
BEGIN
	WHILE n < 0 OR i < n LOOP
		FETCH c INTO r;
		EXIT WHEN NOT FOUND;
		INSERT INTO got VALUES (scenario, r);
		i := i + 1;
	END LOOP;
	RETURN i;
END $$;
});

# events: 3,000 keys over ten minutes of event time, all windows open
my $batch = 0;
my $insert = sub {
	$batch++;
	$node->safe_psql('postgres', qq{
INSERT INTO ev SELECT i % 3000, i * $batch, '2026-01-01'::timestamptz + (i % 600) * interval '1 second'
  FROM generate_series(1, 30000) i});
	wait_caught_up($node);
};
$insert->();

# the views, and the calls of read_view they are made of: replace_view
# waits for readers of the view, not for a call of read_view itself
my %order = (flat => '', tumb => ' ORDER BY window_start DESC, b');
my %call;
for my $view (keys %order)
{
	($call{$view}) = $node->safe_psql('postgres', "SELECT pg_get_viewdef('$view')")
	  =~ /(streamext\.read_view\(\d+\)\s+\w+\([^)]*\))/;
}
my %replaced = (
	flat => q{$q$ SELECT k, count(*) AS n, sum(v) + 1000000 AS s FROM ev GROUP BY k $q$},
	tumb => q{$q$ SELECT k % 7 AS b, count(*) AS n, sum(v) + 1000000 AS s FROM ev GROUP BY 1 $q$,
	          "window" => 'tumbling 1 minute', lateness => '1 hour'});

# what happens between the cursor's two parts, from another session; the
# reader session is given for what it reads itself then
my %between = (
	'new states published' => sub { $insert->() },
	'view replaced' => sub {
		my ($view) = @_;
		$node->safe_psql('postgres',
			"SELECT streamext.replace_view('$view', $replaced{$view})");
		$insert->();
		$node->poll_query_until('postgres', "SELECT min(s) > 1000000 FROM $view")
		  or diag("$view not replaced");
	},
	'view rebuilt' => sub {
		my ($view) = @_;
		$node->safe_psql('postgres', "SELECT streamext.rebuild_view('$view')");
		$insert->();
	},
	'worker started over, new area read by the same backend' => sub {
		my ($view, $reader) = @_;
		my $old = worker_pid($node);
		$node->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
		$node->poll_query_until('postgres', qq{
SELECT pid <> $old FROM pg_stat_activity WHERE backend_type = 'streamext worker'})
		  or diag('no new worker');
		$insert->();
		# a statement of its own: attaches this backend to the new area
		$reader->query_safe('SELECT count(*) FROM flat');
	});

for my $view (sort keys %order)
{
	for my $what (sort keys %between)
	{
		my $scenario = "$view: $what";
		my $from = $what eq 'view replaced' ? "(SELECT * FROM $call{$view})" : $view;
		my $read = "SELECT x::text FROM $from x$order{$view}";
		my $reader = $node->background_psql('postgres', on_error_stop => 0);
		$reader->query_safe(qq{BEGIN;
CREATE TEMP TABLE before AS $read;
DECLARE c NO SCROLL CURSOR FOR $read;
SELECT drain('c', 20, '$scenario');});
		$between{$what}->($view, $reader);
		my ($out, $ret) = $reader->query(qq{SELECT drain('c', -1, '$scenario');
SELECT (SELECT count(*) FROM before) || '|' || (SELECT count(*) FROM (
  (SELECT r FROM got WHERE scenario = '$scenario' EXCEPT ALL SELECT x FROM before) UNION ALL
  (SELECT x FROM before EXCEPT ALL SELECT r FROM got WHERE scenario = '$scenario')) d);
COMMIT;});
		my @lines = split /\n/, $out // '';
		my ($rows, $differ) = split /\|/, ($lines[-1] // '');
		ok($ret == 0 && defined $differ && $rows > 20 && $differ == 0,
			"$scenario: the cursor reads the view as it began (rows|differing: $lines[-1])");
		$reader->quit;
		# the server is up, and every view reads as a new statement sees it
		is($node->safe_psql('postgres', 'SELECT count(*) FROM flat'), '3000', "$scenario: flat reads after");
		$node->safe_psql('postgres', 'DELETE FROM got');
	}
}

$node->stop;
done_testing();

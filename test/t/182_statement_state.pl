# One statement sees one state of a view, however often it reads it, while
# events arrive: a lookup by key and a full read in one statement, two full
# reads, a nested loop whose every probe is a lookup, and the newest
# windows read in window order against a full read give the same rows.
# Before each statement pinned the publish its first read saw, each read
# copied whatever the worker had published by then (a session's count was
# seen as 567 by the lookup and 571 by the full read of one statement).
# Each check is a statement of its own, run over and over by a PL/pgSQL
# function (one EState, so one pin, per statement) for every window kind.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('statement_state');
create_event_stream($node);
my @views = every_window_kind();
for my $spec (@views)
{
	create_window_view($node, 'postgres', $spec) or BAIL_OUT("view $spec->{name}");
}
wait_caught_up($node);

# differ: each pair of queries given (q1[i], q2[i]), compared as one
# statement (the rows of each not in the other), in turn, for a while;
# how often each was run and how often its two reads differed.  Plans
# are forced to read by key where a key is given.
$node->safe_psql('postgres', q{
CREATE FUNCTION differ(seconds float8, q1 text[], q2 text[])
RETURNS TABLE (i int, runs int, bad int)
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_material = off
AS $$
DECLARE
	n bigint;
	stop timestamptz := clock_timestamp() + seconds * interval '1 second';
	r int[] := array_fill(0, ARRAY[cardinality(q1)]);
	b int[] := array_fill(0, ARRAY[cardinality(q1)]);
BEGIN
	WHILE clock_timestamp() < stop LOOP
		FOR j IN 1 .. cardinality(q1) LOOP
			EXECUTE format('WITH a AS (%s), b AS (%s) SELECT count(*) FROM '
						   '((SELECT * FROM a EXCEPT ALL SELECT * FROM b) UNION ALL '
						   '(SELECT * FROM b EXCEPT ALL SELECT * FROM a)) d', q1[j], q2[j]) INTO n;
			r[j] := r[j] + 1;
			IF n > 0 THEN
				b[j] := b[j] + 1;
			END IF;
		END LOOP;
	END LOOP;
	RETURN QUERY SELECT j, r[j], b[j] FROM generate_series(1, cardinality(q1)) j;
END $$});

# the views' key column is k1: g, or k for sessions (150 keys, sparse)
my %key = (sess => 'k');
my (@names, @q1, @q2);
for my $spec (@views)
{
	my $v = $spec->{name};
	my $src = $key{$v} // 'g';
	my $full = "SELECT x.* FROM (SELECT * FROM $v OFFSET 0) x";
	my %checks = (
		'lookup and full read' => [ "SELECT * FROM $v WHERE k1 = 3", "$full WHERE k1 = 3" ],
		'two full reads' => [ $full, $full ],
		'nested loop of lookups and full read' => [
			"SELECT x.* FROM (SELECT DISTINCT $src AS k1 FROM ev WHERE $src IS NOT NULL) e "
			  . "JOIN $v x ON x.k1 = e.k1",
			"$full WHERE k1 IS NOT NULL" ]);
	if ($v eq 'tumb' || $v eq 'sess')
	{
		# ties at the oldest window_start the LIMIT takes may go either way
		my $newest = "SELECT * FROM $v ORDER BY window_start DESC LIMIT 20";
		$checks{'newest windows and full read'} = [
			"SELECT * FROM ($newest) n WHERE window_start > (SELECT min(window_start) FROM ($newest) o)",
			"$full WHERE window_start > (SELECT min(window_start) FROM ($newest) o)" ];
	}
	for my $check (sort keys %checks)
	{
		push @names, "$v: $check";
		push @q1, $checks{$check}[0];
		push @q2, $checks{$check}[1];
	}
}
my $producers = start_event_producers($node, seconds => 9, rate => 300);
# groups enough that a key is looked up rather than every group read
$node->poll_query_until('postgres',
	q{SELECT bool_and(groups >= 6) FROM streamext.views})
  or diag('the views have few groups yet');
like($node->safe_psql('postgres', 'EXPLAIN SELECT * FROM sess WHERE k1 = 3'),
	qr/streamext view lookup/, 'a session is looked up by key');
my $array = sub {
	'ARRAY[' . join(', ', map { my $q = $_; $q =~ s/'/''/g; "'$q'" } @_) . ']';
};
for my $row (split /\n/, $node->safe_psql('postgres',
		'SELECT i, runs, bad FROM differ(6, ' . $array->(@q1) . ', ' . $array->(@q2) . ') ORDER BY i'))
{
	my ($i, $runs, $bad) = split /\|/, $row;
	ok($runs > 0 && $bad == 0,
		"$names[$i - 1], one state per statement ($bad of $runs differ)");
}
finish_producers($producers);
wait_caught_up($node);

# once quiet, every read agrees with plain SQL too
check_view($node, 'postgres', $_->{name}, window_oracle($_), 'quiet') for @views;

$node->stop;
done_testing();

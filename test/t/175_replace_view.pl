# replace_view while producers write: a view of late and out-of-order
# events changes its window and aggregates twice in the middle of a load,
# readers read it all along, and a server process is killed (then the
# server stopped without a shutdown checkpoint) right after another
# replace_view commits.  Afterwards the view equals plain SQL for its last
# definition; its 'final' subscription got each window once, its 'changes'
# subscription each change once, both with gap-free positions, the old
# shape's entries before the new one's and no stretch of event time lost at
# a switch.  A reader whose snapshot sees the new definition before the
# worker has loaded it reads the new view whole, from the persisted state.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('replace_view');
create_event_stream($node, 'postgres', 30);
my @aggs = ('count(*) AS n', 'sum(coalesce(v, 0)) AS s');
my %spec = (name => 'tumb', window => 'tumbling 5 seconds', lateness => '10 seconds',
	keys => ['g'], aggs => [@aggs]);
create_window_view($node, 'postgres', \%spec) or BAIL_OUT('view tumb');
$node->safe_psql('postgres', q{
SELECT streamext.create_subscription('tumb_final', 'tumb', notify => 'none');
SELECT streamext.create_subscription('tumb_changes', 'tumb', emit => 'changes', notify => 'batch');
});
wait_caught_up($node);

# replace_to gives tumb a new definition, as %spec describes it
sub replace_to
{
	my (%new) = @_;
	%spec = (%spec, %new);
	my $q = StreamextTest::view_query(\%spec);
	$node->safe_psql('postgres',
		"SELECT streamext.replace_view('tumb', \$q\$ $q \$q\$, \"window\" => '$spec{window}', lateness => '$spec{lateness}')");
	ok(1, "replaced with $spec{window}, lateness $spec{lateness}, " . join(', ', @{ $spec{aggs} }));
}

# readers all along: pgbench stops a client at its first error
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/read.sql",
	"SELECT count(*), sum(n) FROM tumb;\nSELECT * FROM tumb ORDER BY window_start DESC LIMIT 5;\n");
my ($rout, $rerr) = ('', '');
my $readers = IPC::Run::start(['pgbench', '-n', '-c', 2, '-j', 1, '-T', 9, '-f', "$dir/read.sql",
	'-h', $node->host, '-p', $node->port, 'postgres'], '>', \$rout, '2>', \$rerr);

# 1. two switches under load: a larger window with a new column, then a
# smaller lateness, which closes at once windows the old one kept open
my $p = start_event_producers($node, seconds => 8, rate => 300);
sleep 2;
replace_to(window => 'tumbling 10 seconds', aggs => [@aggs, 'max(v) AS hi']);
sleep 2;
replace_to(window => 'tumbling 20 seconds', lateness => '2 seconds');
finish_producers($p);
eval { $readers->finish; 1 };
unlike($rerr, qr/aborted|ERROR/, 'readers read the view through both switches without an error')
  or diag($rerr);
like($rout, qr/number of transactions actually processed: [1-9]/, 'readers read it all along')
  or diag($rout);

# 2. a reader before the worker loads the new definition: the worker is
# stopped, so the view comes from what replace_view persisted
my $wpid = worker_pid($node);
kill 'STOP', $wpid;
replace_to(window => 'tumbling 15 seconds', aggs => [@aggs, 'max(v) AS hi', 'min(v) AS lo']);
check_view($node, 'postgres', 'tumb', window_oracle(\%spec),
	'worker stopped, new definition not loaded');
kill 'CONT', $wpid;
is($node->safe_psql('postgres',
	"SELECT count(*) FROM streamext.views WHERE name = 'tumb' AND query LIKE '%min(v) AS lo%'"),
	'1', 'the catalog has the last definition');

# 3. the server killed right after a replace_view committed, under load
$p = start_event_producers($node, seconds => 5, rate => 300);
sleep 1;
replace_to(window => 'tumbling 30 seconds');
# a process killed: the postmaster kills them all and recovers
kill 'KILL', worker_pid($node);
finish_producers($p, 1);
$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not recover';
$node->stop('immediate');
$node->start;
$p = start_event_producers($node, seconds => 2, rate => 300);
finish_producers($p);
# windows the watermark has passed, closed: events after the load, in order
$node->safe_psql('postgres',
	q{INSERT INTO ev (g, k, v, ts) SELECT 1, 1, 1, (SELECT max(ts) FROM ev) + interval '1 minute'});
wait_checkpointed($node);
check_view($node, 'postgres', 'tumb', window_oracle(\%spec), 'after the switches and a crash');

# 4. the subscriptions: positions without a gap, each window (or change)
# once per shape, shapes in the order of the switches, and no stretch of
# event time between the windows of one shape and the next
for my $sub (qw(tumb_final tumb_changes))
{
	is($node->safe_psql('postgres', qq{
SELECT min(position) = 1 AND max(position) = count(*)
  FROM streamext.poll('$sub', 10000000)}), 't', "$sub: positions 1..n without a gap");
	is($node->safe_psql('postgres', qq{
WITH q AS (
  SELECT position, kind, event, (event->>'window_end')::timestamptz - (event->>'window_start')::timestamptz AS size
    FROM streamext.poll('$sub', 10000000)),
shapes AS (
  SELECT size, min(position) AS first, max(position) AS last, bool_and(event ? 'hi') AS hi,
         bool_and(event ? 'lo') AS lo
    FROM q GROUP BY size)
SELECT string_agg(size || ':' || hi || ':' || lo, ' ' ORDER BY first),
       bool_and(last < coalesce((SELECT min(first) FROM shapes s2 WHERE s2.first > shapes.first), last + 1))
  FROM shapes}),
		'00:00:05:false:false 00:00:10:true:false 00:00:20:true:false 00:00:15:true:true 00:00:30:true:true|t',
		"$sub: the shapes one after the other, with the columns of their definition");
}
is($node->safe_psql('postgres', q{
WITH q AS (SELECT position, kind, event FROM streamext.poll('tumb_final', 10000000) WHERE kind = 'window')
SELECT count(*) = count(DISTINCT (event->>'window_start', event->>'window_end', event->>'k1')) FROM q}),
	't', 'tumb_final: each window once');
is($node->safe_psql('postgres', q{
WITH w AS (
  SELECT position, (event->>'window_start')::timestamptz AS ws, (event->>'window_end')::timestamptz AS we,
         (event->>'window_end')::timestamptz - (event->>'window_start')::timestamptz AS size
    FROM streamext.poll('tumb_final', 10000000) WHERE kind = 'window'),
s AS (SELECT size, min(position) AS first, min(ws) AS first_start, max(we) AS last_end FROM w GROUP BY size),
o AS (SELECT size, first_start, lag(last_end) OVER (ORDER BY first) AS previous_end FROM s)
SELECT count(*) FROM o WHERE first_start > previous_end}), '0',
	'tumb_final: no stretch of event time missed between one shape and the next');
# the last entry of each window of the last shape is the view's row
is($node->safe_psql('postgres', q{
WITH q AS (SELECT position, kind, event FROM streamext.poll('tumb_final', 10000000)
            WHERE (event->>'window_end')::timestamptz - (event->>'window_start')::timestamptz = interval '30 seconds'),
last AS (
  SELECT DISTINCT ON (event->>'window_start', event->>'k1') event
    FROM q ORDER BY event->>'window_start', event->>'k1', position DESC),
closed AS (
  SELECT to_jsonb(t) AS row FROM tumb t, streamext.view_progress p, streamext.view_def d
   WHERE d.name = 'tumb' AND p.view_id = d.id AND t.window_end <= p.closed_upto
     AND t.window_start >= (SELECT min((event->>'window_start')::timestamptz) FROM q WHERE kind = 'window'))
SELECT (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT event::jsonb FROM last) m),
       (SELECT count(*) FROM closed) > 0}), '0|t',
	'tumb_final: every window of the last shape closed after the switch was delivered, as the view shows it');


# 5. windows the clock closed (a quiet stream's idle_timeout) and delivered
# before a replace_view are not delivered again: the new definition's
# events have not passed them, yet they close at the switch (the last one
# was queued again, for tumbling, hopping and session windows alike)
$node->safe_psql('postgres', q{
CREATE TABLE quiet (k text NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('quiet', 'ts', idle_timeout => '1 second');
SELECT streamext.create_view('q_tum', 'SELECT k, count(*) AS n FROM quiet GROUP BY k', 'tumbling 2 seconds',
                             lateness => '1 second');
SELECT streamext.create_view('q_hop', 'SELECT k, count(*) AS n FROM quiet GROUP BY k', 'hopping 4 seconds every 2 seconds',
                             lateness => '1 second');
SELECT streamext.create_view('q_ses', 'SELECT k, count(*) AS n FROM quiet GROUP BY k', 'session 2 seconds',
                             lateness => '1 second');
SELECT streamext.create_view('q_ret', 'SELECT k, count(*) AS n FROM quiet GROUP BY k', 'tumbling 2 seconds',
                             lateness => '1 second', retention => '2 seconds');
SELECT streamext.create_subscription(v || '_final', v, notify => 'none')
  FROM unnest('{q_tum,q_hop,q_ses,q_ret}'::text[]) v;
INSERT INTO quiet VALUES ('a', now() - interval '10 seconds');
});
my $delivered = q{SELECT string_agg(s.name || ':' || s.newest_position, ' ' ORDER BY s.name)
  FROM streamext.subscriptions s WHERE s.name LIKE 'q\_%'};
$node->poll_query_until('postgres', $delivered, 'q_hop_final:2 q_ret_final:1 q_ses_final:1 q_tum_final:1')
  or die 'the clock did not close the quiet windows';
# q_ret's retention takes its closed row away first
$node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM q_ret')
  or die 'the retention did not drop the closed window';
for my $v (qw(q_tum q_hop q_ses q_ret))
{
	my ($window, $retention) = split /\|/,
	  $node->safe_psql('postgres', qq{SELECT "window", coalesce(retention::text, '') FROM streamext.views WHERE name = '$v'});
	$retention = $retention ? ", retention => '$retention'" : '';
	$node->safe_psql('postgres',
		"SELECT streamext.replace_view('$v', 'SELECT k, count(*) AS n FROM quiet GROUP BY k', '$window', lateness => '1 second'$retention)");
}
wait_caught_up($node);
sleep 3;
is($node->safe_psql('postgres', $delivered), 'q_hop_final:2 q_ret_final:1 q_ses_final:1 q_tum_final:1',
	'windows closed by the clock before a replace_view are not delivered again, even once the retention dropped them');

# a session view the memory limit cut short, replaced by tumbling windows:
# key 2's session, open since 00:00, is read from the checkpoint, so its
# windows are sent (the fallback was the last closed row's end, 00:42, and
# key 2's events before it were never sent)
$node->safe_psql('postgres', q{
ALTER SYSTEM SET streamext.max_memory = '1MB';
SELECT pg_reload_conf();
CREATE TABLE cut (ts timestamptz NOT NULL, k text NOT NULL);
SELECT streamext.create_stream('cut', 'ts', idle_timeout => NULL);
SELECT streamext.create_view('cut_v', 'SELECT k, count(*) AS n FROM cut GROUP BY k', 'session 10 seconds');
SELECT streamext.create_subscription('cut_final', 'cut_v', notify => 'none');
INSERT INTO cut SELECT '2026-01-01 00:00+00'::timestamptz + i * interval '1 second', '1' FROM generate_series(0, 2) i;
INSERT INTO cut SELECT '2026-01-01 00:00:30+00'::timestamptz + i * interval '1 second', '1' FROM generate_series(0, 2) i;
INSERT INTO cut SELECT '2026-01-01 00:00+00'::timestamptz + i * interval '5 seconds', '2' FROM generate_series(0, 12) i;
INSERT INTO cut SELECT '2026-01-01 00:01+00', 'f' || i FROM generate_series(1, 30000) i;
});
wait_caught_up($node);
$node->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM streamext.poll('cut_final', 100000) WHERE event->>'k' = '1'})
  or die 'the closed sessions of key 1 did not come';
$node->safe_psql('postgres', q{
CREATE FUNCTION cut_short() RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  PERFORM count(*) FROM cut_v;
  RETURN false;
EXCEPTION WHEN out_of_memory THEN
  RETURN true;
END $$});
$node->poll_query_until('postgres', 'SELECT cut_short()')
  or die 'the memory limit did not cut the view short';
$node->safe_psql('postgres', q{
SELECT streamext.replace_view('cut_v', 'SELECT k, count(*) AS n FROM cut GROUP BY k', 'tumbling 10 seconds');
ALTER SYSTEM RESET streamext.max_memory;
SELECT pg_reload_conf();
INSERT INTO cut VALUES ('2026-01-01 00:02+00', '9');
});
$node->poll_query_until('postgres',
	q{SELECT count(*) = 7 FROM streamext.poll('cut_final', 100000) WHERE event->>'k' = '2'})
  or diag('key 2: ' . $node->safe_psql('postgres',
	q{SELECT string_agg(event->>'window_start', ' ') FROM streamext.poll('cut_final', 100000) WHERE event->>'k' = '2'}));
is($node->safe_psql('postgres', q{
SELECT string_agg(to_char((event->>'window_start')::timestamptz, 'MI:SS') || '=' || (event->>'n'), ' '
                  ORDER BY event->>'window_start')
  FROM streamext.poll('cut_final', 100000) WHERE event->>'k' = '2'}),
	'00:00=2 00:10=2 00:20=2 00:30=2 00:40=2 00:50=2 01:00=1',
	'a view cut short by the memory limit: the open session\'s events reach the subscriber in the new windows');

done_testing();

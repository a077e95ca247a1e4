# Views on views and replace_view, attacked (second review).
#
# 1. replace_view of a lower view must not make a 'final' subscription of
#    the view on it get a window it had again.  The stream is quiet, so the
#    clock (idle_timeout) closed every window of the lower view and the
#    upper one's windows with them, further than the events' watermark.
#    replace_view adds a column to the lower view and changes nothing of
#    its windows: the view on it is computed again, and its subscriber
#    must get no window of it again.  Nor after rebuild_view of the lower
#    view, nor of a view on a stream: its own subscriber neither.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('views_attack2');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
SET timezone = 'UTC';
CREATE TABLE g (ts timestamptz NOT NULL, k text NOT NULL);
SELECT streamext.create_stream('g', time_column => 'ts', idle_timeout => '1 second');
SELECT streamext.create_view('gl', $$ SELECT k, count(*) AS n FROM g GROUP BY k $$,
  "window" => 'tumbling 1 minute', lateness => '10 seconds');
SELECT streamext.create_view('gu', $$ SELECT k, sum(n) AS n FROM gl GROUP BY k $$,
  "window" => 'tumbling 1 hour');
SELECT streamext.create_subscription('gu_final', 'gu', emit => 'final');
SELECT streamext.create_subscription('gl_final', 'gl', emit => 'final');
});
# 09:00 to 09:30, then one event at 11:00:30, in one commit (the clock
# must not close the first hour before the second comes)
$node->safe_psql('postgres', q{
INSERT INTO g SELECT '2026-03-01 09:00+00'::timestamptz + i * interval '20 seconds', 'a'
  FROM generate_series(0, 89) i
UNION ALL SELECT '2026-03-01 11:00:30+00', 'a';
});

# entries of gu_final: "window_start kind n" each
my $entries = q{SELECT string_agg(format('%s %s %s', event->>'window_start', kind, event->>'n'), E'\n'
                                  ORDER BY position)
                  FROM streamext.poll('gu_final', 1000)};
ok($node->poll_query_until('postgres',
		qq{SELECT count(*) = 2 FROM streamext.poll('gu_final', 1000) WHERE kind = 'window'}),
	'the clock closed both hours of gu')
  or diag($node->safe_psql('postgres', $entries),
	$node->safe_psql('postgres', 'SELECT * FROM streamext.view_progress'),
	$node->safe_psql('postgres', 'SELECT name, events, groups, open_windows FROM streamext.views'),
	$node->safe_psql('postgres', 'SELECT * FROM gu'));
my $before = $node->safe_psql('postgres', $entries);

# a column more in the lower view, the same windows
$node->safe_psql('postgres', q{
SELECT streamext.replace_view('gl', $$ SELECT k, count(*) AS n, count(*) AS n2 FROM g GROUP BY k $$,
  "window" => 'tumbling 1 minute', lateness => '10 seconds');
});
# a late event into the second hour: its correction comes after whatever
# the replace made the worker close
$node->safe_psql('postgres', q{INSERT INTO g VALUES ('2026-03-01 11:05:30+00', 'a')});
ok($node->poll_query_until('postgres', q{
SELECT event->>'n' = '2' FROM streamext.poll('gu_final', 1000)
 WHERE event->>'window_start' LIKE '2026-03-01T11:00%' ORDER BY position DESC LIMIT 1}),
	'gu_final got the late event in the second hour')
  or diag($node->safe_psql('postgres', $entries));
my $after = $node->safe_psql('postgres', $entries);
# the windows the clock had closed in the lower view close again unsent at
# the switch (replace_view floors the new definition's watermark at them):
# the upper view's windows after them do not open again
is($node->safe_psql('postgres', q{
SELECT coalesce(string_agg(ws || ' x' || n, ', '), 'none')
  FROM (SELECT event->>'window_start' AS ws, count(*) AS n FROM streamext.poll('gu_final', 1000)
       WHERE kind = 'window' GROUP BY 1 HAVING count(*) > 1) d}),
	'none', 'replace_view of the lower view sends no window of the upper one again')
  or diag("before the replace:\n$before\nafter:\n$after");
is($node->safe_psql('postgres', q{SELECT n FROM gu WHERE window_start = '2026-03-01 11:00+00'}),
	'2', 'gu has the late event');

# rebuild_view of the lower view: neither it nor the view on it sends a
# window again; a late event after it shows the worker has gone on
my %last = map {
	$_ => $node->safe_psql('postgres', qq{SELECT coalesce(max(position), 0) FROM streamext.poll('$_', 1000)})
} ('gu_final', 'gl_final');
$node->safe_psql('postgres', q{SELECT streamext.rebuild_view('gl')});
$node->safe_psql('postgres', q{INSERT INTO g VALUES ('2026-03-01 11:10:30+00', 'a')});
ok($node->poll_query_until('postgres', q{
SELECT event->>'n' = '3' FROM streamext.poll('gu_final', 1000)
 WHERE event->>'window_start' LIKE '2026-03-01T11:00%' ORDER BY position DESC LIMIT 1}),
	'gu_final got the second late event')
  or diag($node->safe_psql('postgres', $entries));
for my $sub ('gu_final', 'gl_final')
{
	is($node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(ws || ' x' || n, ', '), 'none')
  FROM (SELECT event->>'window_start' AS ws, count(*) AS n FROM streamext.poll('$sub', 1000)
         WHERE kind = 'window' AND position > $last{$sub} GROUP BY 1) d}),
		'none', "rebuild_view of the lower view: $sub gets no window again");
}
is($node->safe_psql('postgres', q{SELECT n FROM gu WHERE window_start = '2026-03-01 11:00+00'}),
	'3', 'gu has both late events');

$node->stop;
done_testing();

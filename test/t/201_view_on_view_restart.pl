# Views on views after a crash between a closing round and the next
# checkpoint: the worker decodes again from its checkpoint, and the lower
# view closes its windows again only where it had closed them, while their
# rows are in its table already.
#
# A view on it took them again only as the lower view closed them again,
# after it had itself closed its own windows again (silently) past them:
# they came as late events and were counted twice (a minute of 200 events
# per key read 400).  With the lower view's retention, rows the view on it
# had taken only in memory were removed, and were missing after the crash
# (the open minute of a per-minute view lost its 290 events).
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

# closing rounds write the closed rows; the checkpoint of the open states
# is an hour away, so the kill falls between them
my $node = streamext_node('view_on_view_restart', "streamext.checkpoint_interval = '1h'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE r (ts timestamptz NOT NULL, k int NOT NULL);
SELECT streamext.create_stream('r', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('sec', 'SELECT k, count(*) AS n FROM r GROUP BY k',
                             "window" => 'tumbling 1 second');
SELECT streamext.create_view('sec_kept', 'SELECT k, count(*) AS n FROM r GROUP BY k',
                             "window" => 'tumbling 1 second', retention => '2 seconds');
});
# a view without a window cannot read a view with a retention (refused)
$node->safe_psql('postgres', q{
SELECT streamext.create_view('sec_all', 'SELECT k, sum(n) AS n FROM sec GROUP BY k')});
for my $lower ('sec', 'sec_kept')
{
	$node->safe_psql('postgres', qq{
SELECT streamext.create_view('${lower}_min', 'SELECT k, sum(n) AS n FROM $lower GROUP BY k',
                             "window" => 'tumbling 1 minute');
SELECT streamext.create_view('${lower}_hop', 'SELECT sum(n) AS n FROM $lower',
                             "window" => 'hopping 1 minute every 30 seconds');
SELECT streamext.create_subscription('${lower}_final', '${lower}_min', notify => 'none');
});
}

# each view on a view against plain SQL over the stream, up to where the
# lower views have closed (upto); and each window of the 'final'
# subscription queued once, its latest entry the window's row
sub check_uppers
{
	my ($label, $upto) = @_;
	my %plain = (
		all => qq{SELECT NULL::timestamptz, k, count(*)::numeric FROM r WHERE ts < '$upto' GROUP BY k},
		min => qq{SELECT date_trunc('minute', ts), k, count(*)::numeric FROM r WHERE ts < '$upto' GROUP BY 1, 2},
		hop => qq{SELECT w, 0, count(*)::numeric FROM r,
  generate_series(date_bin('30 seconds', ts, '2000-01-01') - interval '30 seconds',
                  date_bin('30 seconds', ts, '2000-01-01'), interval '30 seconds') w
 WHERE ts < '$upto' GROUP BY 1});
	my %mine = (
		all => 'SELECT NULL::timestamptz, k, n FROM %s',
		min => 'SELECT window_start, k, n FROM %s',
		hop => 'SELECT window_start, 0, n FROM %s');
	for my $lower ('sec', 'sec_kept')
	{
		for my $kind ('all', 'min', 'hop')
		{
			next if $kind eq 'all' && $lower eq 'sec_kept';
			my $view = sprintf($mine{$kind}, "${lower}_$kind");
			my $diff = '';
			for (1 .. 100)
			{
				$diff = $node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM (($plain{$kind}) EXCEPT ALL ($view)) m) || ' missing, ' ||
       (SELECT count(*) FROM (($view) EXCEPT ALL ($plain{$kind})) x) || ' extra'});
				last if $diff eq '0 missing, 0 extra';
				select(undef, undef, undef, 0.1);
			}
			is($diff, '0 missing, 0 extra', "$label: ${lower}_$kind equals plain SQL");
		}
		is( $node->safe_psql('postgres', qq{
WITH q AS (SELECT q.position, q.event FROM streamext.subscription_queue q
             JOIN streamext.subscription_def d ON d.id = q.subscription_id
            WHERE d.name = '${lower}_final')
SELECT (SELECT count(*) FROM (SELECT event->>'window_start', event->>'k' FROM q
                               WHERE event->>'n' IS NOT NULL
                               GROUP BY 1, 2 HAVING count(*) > 1) t) || ' ' ||
       (SELECT count(*) FROM (SELECT DISTINCT ON (event->>'window_start', event->>'k') event->>'n' AS n,
                                     event->>'window_start' AS ws, event->>'k' AS k
                                FROM q ORDER BY event->>'window_start', event->>'k', position DESC) l
                          JOIN ${lower}_min m ON m.window_start = l.ws::timestamptz AND m.k = l.k::int
                         WHERE m.n <> l.n::numeric)}),
			'0 0', "$label: ${lower}_final queued each window once, with the view's values");
	}
}

# a minute and a half of history in one transaction, then an event that
# closes its last seconds: closing rounds, no checkpoint of the open states
$node->safe_psql('postgres', q{
INSERT INTO r SELECT '2026-03-01 00:00:00+00'::timestamptz + i * interval '100 ms', i % 3
  FROM generate_series(0, 899) i});
wait_caught_up($node);
$node->safe_psql('postgres', q{INSERT INTO r VALUES ('2026-03-01 00:01:31+00', 0)});
wait_caught_up($node);
check_uppers('before the crash', '2026-03-01 00:01:31+00');

my $pid = worker_pid($node);
kill 'KILL', $pid;
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid")
  or die 'worker did not come back';
wait_caught_up($node);
check_uppers('after kill -9 of the worker', '2026-03-01 00:01:31+00');

# the minute left open closes, once; checkpoints come again, and with them
# the lower view's retention of what the views on it have taken for good
$node->safe_psql('postgres', q{ALTER SYSTEM SET streamext.checkpoint_interval = '200ms'});
$node->reload;
$node->safe_psql('postgres', q{INSERT INTO r VALUES ('2026-03-01 00:02:10+00', 1)});
wait_caught_up($node);
check_uppers('once the next minute closed', '2026-03-01 00:02:10+00');
ok( $node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM sec_kept WHERE window_end < '2026-03-01 00:02:00+00'}),
	'the lower view\'s retention removed its rows once the views on it took them');

ok(!$node->log_contains('terminated by signal (?!9)'), 'no process crashed');
done_testing();

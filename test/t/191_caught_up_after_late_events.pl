# wait_caught_up() returns only once late events' corrections of closed
# windows are visible, also when the worker catches up with a backlog of
# many transactions in one go (it publishes every 20,000 records on the
# way, and used to let waiters go on there, before the checkpoint that
# shows the corrections).  Every transaction after the first brings late
# events for every window: the first one's event times span the whole hour.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('node', "streamext.checkpoint_interval = '1s'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE clicks (url text NOT NULL, ms int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('clicks', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('v', $$ SELECT url, count(*) AS n, sum(ms) AS total FROM clicks GROUP BY url $$,
                             "window" => 'tumbling 1 minute');});
wait_caught_up($node);

my $oracle = q{SELECT date_trunc('minute', ts), date_trunc('minute', ts) + interval '1 minute',
                      url, count(*), sum(ms) FROM clicks GROUP BY 1, 2, 3};
for my $round (1 .. 2)
{
	# 40 transactions of 5,000 events sent at once: the worker falls behind
	my $sql = join('', map {
		my $s = ($round * 1000 + $_) * 5000;
		"INSERT INTO clicks SELECT 'u' || (e % 500), e % 997,
		        '2026-01-01 00:00+00'::timestamptz + (e % 3600) * interval '1 second'
		   FROM generate_series($s, $s + 4999) e;\n"
	} (1 .. 40));
	$node->safe_psql('postgres', $sql);
	my $res = $node->safe_psql('postgres', qq{
SELECT streamext.wait_caught_up('120s');
SELECT (SELECT count(*) FROM ((SELECT * FROM v) EXCEPT ALL ($oracle)) a),
       (SELECT count(*) FROM (($oracle) EXCEPT ALL (SELECT * FROM v)) b)});
	is($res, "t\n0|0", "round $round: exact as soon as wait_caught_up() returns");
}
ok($node->safe_psql('postgres', 'SELECT late_events > 0 FROM streamext.views') eq 't',
	'the events were late');
$node->stop;
done_testing();

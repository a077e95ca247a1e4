# Views made before the worker's replication slot exists: the extension,
# a stream, 40 views and their first events in one transaction.  The
# worker makes its slot after that commit and computes the views from the
# stream table.  It used to read the list of views after the transaction
# that held it had ended (a crash of the worker, and a restart of the
# whole cluster, in half of the tries with 22 views and more).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('node');
my $nviews = 120;
my $log_start = -s $node->logfile;
$node->safe_psql('postgres', 'CREATE DATABASE late');
$node->safe_psql('late', qq{
BEGIN;
CREATE EXTENSION streamext;
CREATE TABLE ev (k int, v numeric, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('v' || i,
         \$\$ SELECT k, count(*) AS n, sum(v) AS s, avg(v) AS a, max(ts) AS last FROM ev GROUP BY k \$\$,
         "window" => CASE i % 3 WHEN 0 THEN 'tumbling 1 hour' WHEN 1 THEN 'hopping 2 hours every 1 hour' END)
  FROM generate_series(1, $nviews) i;
INSERT INTO ev SELECT i % 3, i, '2026-03-05'::timestamptz + i * interval '47 minutes'
  FROM generate_series(1, 2200) i;
COMMIT;});
is($node->safe_psql('late', "SELECT streamext.wait_caught_up('120s')"), 't', 'the worker caught up');
$node->safe_psql('late', q{INSERT INTO ev SELECT i % 5, i, '2026-03-05'::timestamptz + i * interval '31 minutes'
                             FROM generate_series(1, 500) i});
is($node->safe_psql('late', "SELECT streamext.wait_caught_up('60s')"), 't', 'and after more events');

my $log = slurp_file($node->logfile, $log_start);
unlike($log, qr/terminated by signal/, 'no process crashed');
like($log, qr/recomputed $nviews view\(s\)/, 'the worker computed every view at its new slot');

# each kind of view equals plain SQL over the stream table
my %oracle = (
	'v3' => q{SELECT date_trunc('hour', ts) AS ws, date_trunc('hour', ts) + interval '1 hour' AS we,
	                 k, count(*), sum(v), avg(v), max(ts) FROM ev GROUP BY 1, 2, 3},
	'v4' => q{SELECT w AS ws, w + interval '2 hours' AS we, k, count(*), sum(v), avg(v), max(ts)
	            FROM ev, LATERAL (VALUES (date_trunc('hour', ts)), (date_trunc('hour', ts) - interval '1 hour')) h(w)
	           GROUP BY 1, 2, 3},
	'v5' => q{SELECT k, count(*), sum(v), avg(v), max(ts) FROM ev GROUP BY 1});
for my $view (sort keys %oracle)
{
	my $cols = $view eq 'v5' ? 'k, n, s, a, last' : 'window_start, window_end, k, n, s, a, last';
	my $diff = $node->safe_psql('late', qq{
SELECT (SELECT count(*) FROM ((SELECT $cols FROM $view) EXCEPT ALL ($oracle{$view})) a)
     + (SELECT count(*) FROM (($oracle{$view}) EXCEPT ALL (SELECT $cols FROM $view)) b)});
	is($diff, '0', "$view equals plain SQL");
}
$node->stop;
done_testing();

# A new database's worker can decode only once its slot found where to
# start, which waits for every transaction holding an xid in the cluster.
# create_subscription waits for that, not just for the slot to exist:
# commits between are counted by the views' first recompute, but a
# subscription would never get them.  And wait_caught_up() in a
# transaction that holds an xid then returns at once, since the slot waits
# for that transaction too.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use StreamextTest;

my $node = streamext_node('ready_for_subscriptions');

# holds an xid in another database for $seconds
sub hold_xid
{
	my ($seconds) = @_;
	my $h = $node->background_psql('postgres');
	$h->query_safe("BEGIN; SELECT txid_current();");
	$h->query_until(qr/^/, "SELECT pg_sleep($seconds); COMMIT;\n");
	return $h;
}

my $holder = hold_xid(4);
$node->safe_psql('postgres', 'CREATE DATABASE fx');
$node->safe_psql('fx', q{
CREATE EXTENSION streamext;
CREATE TABLE e (k text NOT NULL, v int NOT NULL, ts timestamptz NOT NULL);
SELECT streamext.create_stream('e', time_column => 'ts', idle_timeout => '0');
SELECT streamext.create_view('t', $$ SELECT k, count(*) AS n FROM e GROUP BY k $$, "window" => 'tumbling 2 seconds');});
$node->safe_psql('fx', q{
SELECT streamext.create_subscription('events', 'e', notify => 'none');
SELECT streamext.create_subscription('finals', 't', notify => 'none');});
$node->safe_psql('fx', q{
INSERT INTO e VALUES ('a', 1, now() - interval '10 seconds'), ('a', 2, now() - interval '7 seconds'),
                     ('a', 4, now() - interval '4 seconds');});
$holder->quit;
wait_caught_up($node, 'fx');
is($node->safe_psql('fx', q{SELECT string_agg(event->>'v', ',' ORDER BY position) FROM streamext.poll('events')}),
	'1,2,4', 'a subscription made before the slot could decode gets every event after it');
# the three windows close (the clock closes the last one)
$node->poll_query_until('fx', q{SELECT count(*) = 3 FROM streamext.poll('finals')})
  or diag($node->safe_psql('fx', q{SELECT position, event FROM streamext.poll('finals')}));
is($node->safe_psql('fx', q{SELECT count(DISTINCT event->>'window_start') FROM streamext.poll('finals')}),
	'3', "and a 'final' one every window");

# a transaction holding an xid in a database whose slot is not ready
$holder = hold_xid(6);
$node->safe_psql('postgres', 'CREATE DATABASE fy');
$node->safe_psql('fy', q{
CREATE EXTENSION streamext;
CREATE TABLE e (k text NOT NULL);
SELECT streamext.create_stream('e');});
my $start = time();
my ($ret, $out, $err) = $node->psql('fy', q{
BEGIN;
INSERT INTO e VALUES ('a');
SELECT streamext.wait_caught_up('20 seconds');
COMMIT;});
my $took = time() - $start;
is($out, 'f', 'wait_caught_up() in a transaction the slot waits for is not caught up');
ok($took < 3, sprintf('and returns at once (%.1f s), not after its timeout', $took));
like($err, qr/cannot decode this database before this transaction ends/, 'with a warning that says why');
$holder->quit;
wait_caught_up($node, 'fy');

$node->stop;
done_testing();

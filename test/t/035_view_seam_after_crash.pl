# A view created after events the worker has applied but not yet
# checkpointed: after a crash the worker decodes those events again, and the
# new view, whose backfill already holds them, must not count them twice.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('seam', "streamext.checkpoint_interval = '1h'\n");
create_click_schema($node);
my $p = start_producers($node, seconds => 2);
finish_producers($p);
wait_caught_up($node);

$node->safe_psql('postgres', q{
SELECT streamext.create_view('after', $$ SELECT url, count(*) AS n, sum(ms) AS s FROM clicks GROUP BY url $$)});
$node->safe_psql('postgres', "INSERT INTO clicks (url, user_id, ms) VALUES ('/after', 1, 1)");
# and one created in the transaction that also inserts before and after it
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO clicks (url, user_id, ms) VALUES ('/same', 1, 1), ('/same', 2, 2);
SELECT streamext.create_view('same_txn', $$ SELECT url, count(*) AS n, sum(ms) AS s FROM clicks GROUP BY url $$);
INSERT INTO clicks (url, user_id, ms) VALUES ('/same', 3, 3);
COMMIT;
});
wait_caught_up($node);

wait_caught_up($node);
check_view($node, 'postgres', 'same_txn', 'SELECT url, count(*), sum(ms) FROM clicks GROUP BY url',
	'view created in the inserting transaction');

kill 'KILL', worker_pid($node);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
check_click_views($node, 'crash before any checkpoint');
check_view($node, 'postgres', 'after', 'SELECT url, count(*), sum(ms) FROM clicks GROUP BY url',
	'view created before the crash');
check_view($node, 'postgres', 'same_txn', 'SELECT url, count(*), sum(ms) FROM clicks GROUP BY url',
	'view created in the inserting transaction, after the crash');

done_testing();

# Concurrent producers with single-row, multi-row and rolled-back
# transactions; a view created while they insert (the backfill seam); a
# transaction holding an early id open while others commit.  Every view
# equals the same GROUP BY over the stream in plain SQL.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('producers');
create_click_schema($node);

# an early id held open while later ids commit: it must count when it commits
my $early = $node->background_psql('postgres');
$early->query_safe("BEGIN; INSERT INTO clicks (url, user_id, ms) VALUES ('/early', 1, 77);");

my $p = start_producers($node, seconds => 6);
sleep 2;
$early->query_safe("COMMIT;");
$early->quit;

# created under load: it waits for running producers, counts what committed
# before it (backfill) and the worker counts what commits after it
$node->safe_psql('postgres', q{
SELECT streamext.create_view('late_view',
  $$ SELECT url, count(*) AS n, sum(ms) AS s FROM clicks GROUP BY url $$)});

finish_producers($p);
check_click_views($node, 'under load');
check_view($node, 'postgres', 'late_view',
	'SELECT url, count(*), sum(ms) FROM clicks GROUP BY url', 'created under load');

my $early_seen = $node->safe_psql('postgres', "SELECT n FROM late_view WHERE url = '/early'");
is($early_seen, '1', 'the transaction with the early id counted once');

my $stats = $node->safe_psql('postgres',
	"SELECT events > 0, lag_bytes < 1000000 FROM streamext.streams");
is($stats, 't|t', 'streamext.streams reports events and lag');

done_testing();

# ALTER TABLE on a stream: adding a column works and views and subscriptions
# keep working (events carry the new column); dropping or retyping a column a
# view, a subscription filter or the time column uses is refused, naming
# what uses it; other columns can go.  DROP TABLE needs drop_stream first or
# CASCADE.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('schema');
create_click_schema($node);
$node->safe_psql('postgres', q{
ALTER TABLE clicks ADD COLUMN referrer text, ADD COLUMN spare int;
SELECT streamext.create_subscription('from_search', 'clicks', filter => $$referrer LIKE 'search%'$$);
});

my $p = start_producers($node, seconds => 2);
$node->safe_psql('postgres', q{
ALTER TABLE clicks ADD COLUMN country text NOT NULL DEFAULT 'nl';
INSERT INTO clicks (url, user_id, ms, referrer, country) VALUES ('/a', 1, 20, 'search/x', 'de'), ('/b', 2, 30, 'mail', 'fr');
});
finish_producers($p);
check_click_views($node, 'after ADD COLUMN under load');
is($node->safe_psql('postgres',
	"SELECT event->>'url', event->>'referrer', event->>'country' FROM streamext.poll('from_search')"),
	'/a|search/x|de', 'a subscription filters on a new column and delivers the new columns');

my ($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE clicks DROP COLUMN ms');
like($err, qr/cannot drop column "ms" of stream "clicks": continuous view "per_second" uses it/,
	'dropping a column a view uses is refused, naming the view');
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE clicks ALTER COLUMN user_id TYPE numeric');
like($err, qr/cannot change the type of column "user_id" of stream "clicks": continuous view "per_user" uses it/,
	'retyping it too');
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE clicks DROP COLUMN referrer');
like($err, qr/subscription "from_search" uses it/, 'a subscription filter counts as a use');
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE clicks ALTER COLUMN ts DROP NOT NULL');
like($err, qr/as its time column/, 'the time column keeps NOT NULL');
($ret, $out, $err) = $node->psql('postgres', 'DROP TABLE clicks');
like($err, qr/table "clicks" is a stream/, 'DROP TABLE without CASCADE is refused');

$node->safe_psql('postgres', 'ALTER TABLE clicks DROP COLUMN spare');
pass('a column nothing uses can be dropped');
$p = start_producers($node, seconds => 1);
finish_producers($p);
check_click_views($node, 'after DROP COLUMN of an unused column');

$node->safe_psql('postgres', 'DROP TABLE clicks CASCADE');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM streamext.views), (SELECT count(*) FROM streamext.streams),
       (SELECT count(*) FROM streamext.subscriptions)}),
	'0|0|0', 'DROP TABLE ... CASCADE takes the views and subscriptions along');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'streamext worker'"),
	'1', 'the worker goes on');

done_testing();

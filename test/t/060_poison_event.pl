# A poison event: a view's expression and a subscription's filter fail on it
# (division by zero).  The worker fails once, the next worker applies that
# transaction event by event, sets the bad event aside as a dead letter for
# that view and that subscription only, and every other event, view and
# subscription goes on exactly.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('poison');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE readings (device int NOT NULL, v int NOT NULL, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('readings', 'ts');
SELECT streamext.create_view('ratios', $$ SELECT device, count(*) AS n, sum(100 / v) AS s FROM readings GROUP BY device $$);
SELECT streamext.create_view('plain_total', $$ SELECT count(*) AS n, sum(v) AS s FROM readings $$);
});
wait_caught_up($node);
$node->safe_psql('postgres', q{
SELECT streamext.create_subscription('not_seven', 'readings', filter => '100 / (device - 7) < 0');
});

$node->safe_psql('postgres', q{
INSERT INTO readings (device, v) SELECT i % 5, 1 + i % 7 FROM generate_series(1, 1000) i;
INSERT INTO readings (device, v) VALUES (1, 5), (7, 0), (3, 4);   -- one poison event among good ones, alone in its group
INSERT INTO readings (device, v) SELECT i % 5, 1 + i % 7 FROM generate_series(1, 1000) i;
});
wait_caught_up($node);

check_view($node, 'postgres', 'ratios',
	'SELECT device, count(*), sum(100 / v) FROM readings WHERE v <> 0 GROUP BY device',
	'all good events');
check_view($node, 'postgres', 'plain_total', 'SELECT count(*), sum(v) FROM readings',
	'the other view, poison event included');
$node->poll_query_until('postgres', "SELECT count(*) = 2 FROM streamext.dead_letters")
  or die 'no dead letter';
is($node->safe_psql('postgres',
	"SELECT v.name, d.sqlstate, d.message, d.event->>'device', d.event->>'v' FROM streamext.dead_letters d JOIN streamext.view_def v ON v.id = d.view_id"),
	'ratios|22012|division by zero|7|0', 'the dead letter names the view, the error and the event');
is($node->safe_psql('postgres',
	"SELECT s.name, d.sqlstate, d.event->>'device' FROM streamext.dead_letters d JOIN streamext.subscription_def s ON s.id = d.subscription_id"),
	'not_seven|22012|7', 'the subscription set the event aside too');
my $delivered = q{SELECT count(*), count(DISTINCT event->>'device'), max(position) FROM streamext.poll('not_seven', 5000)};
is($node->safe_psql('postgres', $delivered), '2002|5|2002',
	'the subscription delivered every other event, gap-free');
is($node->safe_psql('postgres', "SELECT dead_letters FROM streamext.views WHERE name = 'ratios'"),
	'1', 'streamext.views counts it');
my $status = $node->safe_psql('postgres', 'SELECT worker_restarts >= 1, last_error FROM streamext.streams');
is($status, 't|division by zero', 'streamext.streams shows the failure and the restart');

# it stays set aside across a restart: counted once
$node->restart;
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT count(*) FROM streamext.dead_letters'), '2', 'one dead letter each after restart');
is($node->safe_psql('postgres', $delivered), '2002|5|2002', 'the subscription delivered nothing twice');
check_view($node, 'postgres', 'ratios',
	'SELECT device, count(*), sum(100 / v) FROM readings WHERE v <> 0 GROUP BY device',
	'after restart');

done_testing();

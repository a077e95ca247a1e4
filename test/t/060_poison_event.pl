# A poison event: views' expressions and subscriptions' filters fail on it
# (division by zero).  The worker applies every event in a subtransaction of
# its own, sets the bad event aside as a dead letter for each view and
# subscription it failed in, without failing or restarting, and every other
# event, view and subscription goes on exactly.  Once the cause is fixed, replay_dead_letters
# applies them: exactly once, also across a restart.
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
CREATE FUNCTION ratio(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN 100 / $1; END';
SELECT streamext.create_view('ratios', $$ SELECT device, count(*) AS n, sum(100 / v) AS s FROM readings GROUP BY device $$);
SELECT streamext.create_view('fixed_later', $$ SELECT device, count(*) AS n, sum(ratio(v)) AS s FROM readings GROUP BY device $$);
SELECT streamext.create_view('plain_total', $$ SELECT count(*) AS n, sum(v) AS s FROM readings $$);
});
wait_caught_up($node);
$node->safe_psql('postgres', q{
SELECT streamext.create_subscription('not_seven', 'readings', filter => '100 / (device - 7) < 0');
SELECT streamext.create_subscription('picky', 'readings', filter => 'ratio(v) >= 0', notify => 'none');
});

$node->safe_psql('postgres', q{
INSERT INTO readings (device, v) SELECT i % 5, 1 + i % 7 FROM generate_series(1, 1000) i;
INSERT INTO readings (device, v) VALUES (1, 5), (7, 0), (3, 4);   -- one poison event among good ones, alone in its group
INSERT INTO readings (device, v) SELECT i % 5, 1 + i % 7 FROM generate_series(1, 1000) i;
});
wait_caught_up($node);

my %oracle = (
	ratios => 'SELECT device, count(*), sum(100 / v) FROM readings WHERE v <> 0 GROUP BY device',
	fixed_later => 'SELECT device, count(*), sum(ratio(v)) FROM readings WHERE v <> 0 GROUP BY device');
check_view($node, 'postgres', $_, $oracle{$_}, 'all good events') for qw(ratios fixed_later);
check_view($node, 'postgres', 'plain_total', 'SELECT count(*), sum(v) FROM readings',
	'the other view, poison event included');
$node->poll_query_until('postgres', "SELECT count(*) = 4 FROM streamext.dead_letters")
  or die 'no dead letters';
my $letters = q{
SELECT coalesce(v.name, s.name), d.sqlstate, d.message, d.event->>'device', d.event->>'v'
  FROM streamext.dead_letters d
  LEFT JOIN streamext.view_def v ON v.id = d.view_id
  LEFT JOIN streamext.subscription_def s ON s.id = d.subscription_id ORDER BY 1};
is($node->safe_psql('postgres', $letters),
	"fixed_later|22012|division by zero|7|0\nnot_seven|22012|division by zero|7|0\n" .
	"picky|22012|division by zero|7|0\nratios|22012|division by zero|7|0",
	'one dead letter per view and subscription that failed, with the error and the event');
is($node->safe_psql('postgres', "SELECT dead_letters FROM streamext.views WHERE name = 'ratios'"),
	'1', 'streamext.views counts them');
my $status = $node->safe_psql('postgres', 'SELECT worker_restarts, last_error IS NULL FROM streamext.streams');
is($status, '0|t', 'a bad event is no failure of the worker: no restart, no last_error');
my $delivered = q{SELECT count(*), count(DISTINCT event->>'device'), max(position) FROM streamext.poll('not_seven', 5000)};
is($node->safe_psql('postgres', $delivered), '2002|5|2002',
	'the subscription delivered every other event, gap-free');

# it stays set aside across a restart: counted once
$node->restart;
wait_caught_up($node);
is($node->safe_psql('postgres', 'SELECT count(*) FROM streamext.dead_letters'), '4', 'the dead letters after restart');
is($node->safe_psql('postgres', $delivered), '2002|5|2002', 'the subscription delivered nothing twice');
check_view($node, 'postgres', 'ratios', $oracle{ratios}, 'after restart');

# the cause is fixed: replay applies the event once; what still fails stays
$node->safe_psql('postgres',
	q{CREATE OR REPLACE FUNCTION ratio(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN CASE WHEN $1 = 0 THEN 0 ELSE 100 / $1 END; END'});
is($node->safe_psql('postgres', "SELECT * FROM streamext.replay_dead_letters('fixed_later')"), '1|0',
	'replay_dead_letters applies the fixed view\'s dead letter');
is($node->safe_psql('postgres', "SELECT * FROM streamext.replay_dead_letters('ratios')"), '0|1',
	'and reports the one that still fails');
is($node->safe_psql('postgres', "SELECT * FROM streamext.replay_dead_letters('picky')"), '1|0',
	'a subscription\'s dead letter is replayed too');
check_view($node, 'postgres', 'fixed_later',
	'SELECT device, count(*), sum(ratio(v)) FROM readings GROUP BY device', 'after replay: every event');
is($node->safe_psql('postgres',
	"SELECT position, event->>'device' FROM streamext.poll('picky', 5000) ORDER BY position DESC LIMIT 1"),
	'2003|7', 'the replayed event is delivered after the others');
is($node->safe_psql('postgres', $letters),
	"not_seven|22012|division by zero|7|0\nratios|22012|division by zero|7|0",
	'replayed dead letters are gone, failing ones stay');
$node->restart;
wait_caught_up($node);
check_view($node, 'postgres', 'fixed_later',
	'SELECT device, count(*), sum(ratio(v)) FROM readings GROUP BY device', 'after replay and restart');
is($node->safe_psql('postgres', 'SELECT count(*) FROM streamext.dead_letters'), '2',
	'a replay is not undone or repeated by a restart');
is($node->safe_psql('postgres', "SELECT * FROM streamext.replay_dead_letters('fixed_later')"), '0|0',
	'a second replay finds nothing');

done_testing();

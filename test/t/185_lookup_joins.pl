# Lookup joins under concurrency and crashes: producers insert clicks while
# an updater changes, deletes and inserts the users they join, all
# serialised on one advisory lock so that the order of their commits is the
# order they took it.  Each producer records its events in a history table
# in the same transaction, joined by plain SQL with the users as its
# statement sees them: as of its commit.  Every join view (inner and left,
# with and without windows) must equal that history, through a SIGKILL of
# the worker and an immediate stop in the middle of the load.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('lookup_joins');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE users (id int PRIMARY KEY, country text);
INSERT INTO users SELECT i, (ARRAY['fr', 'de', 'us', 'br'])[1 + i % 4] FROM generate_series(1, 50) i;
CREATE TABLE clicks (id bigserial, user_id int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('clicks', time_column => 'ts', idle_timeout => NULL);
CREATE TABLE hist (id bigint, user_id int, ts timestamptz, country text);
});
# views defined before the worker has its slot are computed again when it
# makes it, joining their events with the tables as they are then (as
# rebuild_view does): the views come after it
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_replication_slots WHERE slot_name LIKE 'streamext%'")
  or die 'the worker made no slot';

my @views = (
	[ 'j_event', q{SELECT c.id, u.country, count(*) AS n FROM clicks c LEFT JOIN users u ON u.id = c.user_id GROUP BY 1, 2},
	  'NULL', q{SELECT id, country, count(*) FROM hist GROUP BY 1, 2} ],
	[ 'j_all', q{SELECT u.country, count(*) AS n FROM clicks c LEFT JOIN users u ON u.id = c.user_id GROUP BY 1},
	  'NULL', q{SELECT country, count(*) FROM hist GROUP BY 1} ],
	[ 'j_tumb', q{SELECT u.country, count(*) AS n, max(c.ts) AS last FROM clicks c JOIN users u ON u.id = c.user_id GROUP BY 1},
	  q{'tumbling 2 seconds'},
	  q{SELECT date_bin('2 seconds', ts, '2000-01-01'), date_bin('2 seconds', ts, '2000-01-01') + interval '2 seconds',
	           country, count(*), max(ts) FROM hist WHERE country IS NOT NULL GROUP BY 1, 2, 3} ],
	[ 'j_hop', q{SELECT u.country, count(*) AS n FROM clicks c LEFT JOIN users u ON u.id = c.user_id GROUP BY 1},
	  q{'hopping 4 seconds every 2 seconds'},
	  q{SELECT w, w + interval '4 seconds', country, count(*)
	      FROM hist, LATERAL (VALUES (date_bin('2 seconds', ts, '2000-01-01')),
	                                 (date_bin('2 seconds', ts, '2000-01-01') - interval '2 seconds')) x(w)
	     GROUP BY 1, 2, 3} ],
);
for my $v (@views)
{
	my $late = $v->[2] eq 'NULL' ? '' : ", lateness => '5 seconds'";
	$node->safe_psql('postgres',
		"SELECT streamext.create_view('$v->[0]', \$q\$ $v->[1] \$q\$, \"window\" => $v->[2]$late)");
}

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/produce.sql", q{
BEGIN;
SELECT pg_advisory_xact_lock(1);
WITH b AS (INSERT INTO clicks (user_id, ts)
           SELECT (random() * 60)::int, clock_timestamp() - random() * interval '1 second'
             FROM generate_series(1, 3) RETURNING *)
INSERT INTO hist SELECT b.id, b.user_id, b.ts, u.country FROM b LEFT JOIN users u ON u.id = b.user_id;
COMMIT;
});
PostgreSQL::Test::Utils::append_to_file("$dir/update.sql", q{
BEGIN;
SELECT pg_advisory_xact_lock(1);
UPDATE users SET country = (ARRAY['fr', 'de', 'us', 'br', 'it'])[1 + (random() * 4)::int]
 WHERE id = (random() * 60)::int;
COMMIT;
});
PostgreSQL::Test::Utils::append_to_file("$dir/churn.sql", q{
BEGIN;
SELECT pg_advisory_xact_lock(1);
DELETE FROM users WHERE id = (random() * 60)::int;
INSERT INTO users VALUES ((random() * 60)::int, 'new') ON CONFLICT (id) DO UPDATE SET country = 'again';
COMMIT;
});

sub start_load
{
	my ($seconds) = @_;
	my @cmd = ('pgbench', '-n', '-c', 4, '-j', 2, '-T', $seconds, '-R', 300,
		'-f', "$dir/produce.sql\@6", '-f', "$dir/update.sql\@3", '-f', "$dir/churn.sql\@1",
		'-h', $node->host, '-p', $node->port, 'postgres');
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	return { handle => $h, out => \$out, err => \$err };
}

sub check_all
{
	my ($label) = @_;
	wait_checkpointed($node);
	check_view($node, 'postgres', $_->[0], $_->[3], $label) for @views;
}

my $p = start_load(3);
finish_producers($p);
check_all('under concurrent updates');

# SIGKILL of the worker during the load: everything restarts
$p = start_load(4);
sleep 2;
my $pid = worker_pid($node);
ok($pid, "worker runs (pid $pid)");
kill 'KILL', $pid;
finish_producers($p, 1);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
$p = start_load(2);
finish_producers($p);
check_all('after kill -9 of the worker');

# immediate stop during the load
$p = start_load(4);
sleep 2;
$node->stop('immediate');
finish_producers($p, 1);
$node->start;
$p = start_load(2);
finish_producers($p);
check_all('after immediate stop');

note('events: ' . $node->safe_psql('postgres', 'SELECT count(*) FROM hist')
	  . ', users changed: ' . $node->safe_psql('postgres', "SELECT count(*) FROM users WHERE country IN ('it', 'new', 'again')"));
done_testing();

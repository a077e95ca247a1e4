# pg_dump and pg_restore of a database with streams, continuous views of
# every window kind and subscriptions.  The dump is restored into new
# databases on the same node (custom format: serially, in one transaction,
# and with a plain pg_restore -j 4) and into a new database of a second node
# (plain format, through psql).  Each
# restored database lists the same streams, views and subscriptions; its
# views equal plain SQL over the restored stream tables; its subscriptions
# hand out the unacknowledged entries that were dumped, at the same
# positions, and deliver new events after them; new views and subscriptions
# can be created; and the dumped database goes on as before.  Once restored,
# ordinary DDL and streamext's own in two sessions do not wait for each other.
#
# What the restore must get right, and what fails here without it: the
# analysed query and filter trees hold the OIDs and attribute numbers of the
# dumped database (a user function, a schema of its own and a dropped column
# change them), its WAL positions are another server's (the second node's
# WAL is behind them), its serial sequences must continue, and the
# closed-window tables and the dumped queue come back as data.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('dump');
my $node2 = streamext_node('restore');

# the dumped database's WAL positions lie ahead of the second node's WAL
$node->safe_psql('postgres',
	'CREATE TABLE filler AS SELECT i, repeat(\'x\', 100) AS pad FROM generate_series(1, 100000) i');

$node->safe_psql('postgres', 'CREATE DATABASE src');
create_click_schema($node, 'src');
# a second stream in a schema of its own, with a dropped column (the
# restored table's attribute numbers differ), views and a filter calling a
# function of that schema by the unqualified name search_path found
$node->safe_psql('src', q{
CREATE SCHEMA shop;
CREATE FUNCTION shop.band(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 / 100';
-- left VOLATILE, as some extensions leave theirs, and declared deterministic
CREATE FUNCTION shop.tier(int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT $1 / 1000';
SELECT streamext.declare_deterministic('shop.tier(int)');
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, gone text, amount int NOT NULL,
                          customer text NOT NULL, ts timestamptz NOT NULL);
ALTER TABLE shop.orders DROP COLUMN gone;
SELECT streamext.create_stream('shop.orders', 'ts', idle_timeout => NULL);
SET search_path = shop, public;
SELECT streamext.create_view('shop.by_band',
  $$ SELECT band(amount) AS band, count(*) AS n, sum(amount) AS total, max(customer) AS last FROM orders GROUP BY 1 $$);
SELECT streamext.create_view('shop.totals', $$ SELECT count(*) AS n, sum(amount) AS total, max(id) AS last_id FROM orders $$);
SELECT streamext.create_view('shop.by_tier', $$ SELECT tier(amount) AS tier, count(*) AS n FROM orders GROUP BY 1 $$);
SELECT streamext.create_view('shop.paris_months', $$ SELECT customer, count(*) AS n, sum(amount) AS total FROM orders GROUP BY customer $$,
                             'tumbling 1 month', time_zone => 'Europe/Paris');
});
$node->safe_psql('src', q{
SET search_path = shop, public;
SELECT streamext.create_subscription('slow', 'clicks', filter => 'ms % 3 <> 0');
SELECT streamext.create_subscription('big', 'shop.orders', filter => 'band(amount) >= 5', notify => 'batch');
SELECT streamext.create_subscription('report', 'per_second', filter => $$url <> '/p3'$$);
});

# the stream of the window tests, with a view of every window kind (the
# calendar's is shop.paris_months) and a subscription of closed sessions
create_event_stream($node, 'src');
my @windows = every_window_kind();
create_window_view($node, 'src', $_) or BAIL_OUT("view $_->{name}") for @windows;
$node->safe_psql('src', q{SELECT streamext.create_subscription('sessions', 'sess', notify => 'none')});

# events at fixed times: 1-second windows 0 to 9 close, 10 stays open
my $clicks = q{INSERT INTO clicks (url, user_id, ms, ts)
  SELECT '/p' || (i % 4), i, i % 700, '2024-01-01 00:00+00'::timestamptz + i * interval '10 ms'
    FROM generate_series(%d, %d) i};
my $orders = q{INSERT INTO shop.orders (amount, customer, ts)
  SELECT (i * 37) % 1000, 'c' || (i % 7), '2024-01-01 00:00+00'::timestamptz + i * interval '10 ms'
    FROM generate_series(%d, %d) i};
# events out of order, up to 2.4 seconds late (those of one k are 1.06 or
# 3.86 seconds apart: some sessions merge), NULL at times
my $events = q{INSERT INTO ev (g, k, v, ts)
  SELECT CASE WHEN i % 37 = 0 THEN NULL ELSE i % 5 END, i % 20,
         CASE WHEN i % 31 = 0 THEN NULL ELSE (i * 13) % 97 - 10 END,
         '2024-01-01 00:00+00'::timestamptz + i * interval '173 ms' - (i % 7) * interval '400 ms'
    FROM generate_series(%d, %d) i};
$node->safe_psql('src', sprintf($clicks, 1, 1000) . ';' . sprintf($orders, 1, 300) . ';'
	  . sprintf($events, 1, 1500));
wait_caught_up($node, 'src');
wait_checkpointed($node, 'src');

# a view's subscription gets each closed window once, at a checkpoint
my $closed_groups = q{
SELECT count(*) FROM (SELECT DISTINCT date_bin('1 second', ts, '2000-01-01 00:00+00') AS w, url FROM clicks) g
 WHERE w + interval '1 second' <= (SELECT max(ts) FROM clicks) AND url <> '/p3'};
my $closed = $node->safe_psql('src', $closed_groups);
$node->poll_query_until('src',
	"SELECT newest_position = $closed FROM streamext.subscriptions WHERE name = 'report'")
  or die 'the closed windows were not delivered';
# consumers acknowledged some entries, not all
$node->safe_psql('src', q{
SELECT streamext.ack('slow', 200);
SELECT streamext.ack('report', 10);
});

my %oracle = (
	'shop.by_band' => 'SELECT shop.band(amount), count(*), sum(amount), max(customer) FROM shop.orders GROUP BY 1',
	'shop.totals' => 'SELECT count(*), sum(amount), max(id) FROM shop.orders',
	'shop.by_tier' => 'SELECT shop.tier(amount), count(*) FROM shop.orders GROUP BY 1',
	# a restored view keeps its time zone: a month of Paris, not of UTC
	'shop.paris_months' => q{SELECT m AT TIME ZONE 'Europe/Paris', (m + interval '1 month') AT TIME ZONE 'Europe/Paris',
	                                customer, count(*), sum(amount)
	                           FROM shop.orders, LATERAL (SELECT date_trunc('month', ts AT TIME ZONE 'Europe/Paris') AS m) x
	                          GROUP BY m, customer});
sub check_shop_views
{
	my ($n, $db, $label) = @_;
	check_view($n, $db, $_, $oracle{$_}, $label) for sort keys %oracle;
}
# the window views, once closed windows and corrections are written
sub check_window_views
{
	my ($n, $db, $label) = @_;
	wait_checkpointed($n, $db);
	check_view($n, $db, $_->{name}, window_oracle($_), "$label, " . ($_->{window} // 'running'))
	  for @windows;
}
my $streams_sql = q{SELECT string_agg(stream::text || ':' || coalesce(time_column, '-'), ',' ORDER BY stream::text)
                      FROM streamext.streams};
my $views_sql = q{SELECT string_agg(name || ':' || coalesce("window", '-') || ':' || coalesce(time_zone, '-') || ':' || view::text,
                                     ',' ORDER BY name)
                    FROM streamext.views};
my $subs_sql = q{SELECT name, source::text, source_kind, filter, notify, acked_position, newest_position, backlog
                   FROM streamext.subscriptions ORDER BY name};
my $queue_sql = q{SELECT position, kind, md5(event::text) FROM streamext.poll('%s', 100000)};
my $declared_sql = q{SELECT string_agg(function || ':' || declared_by, ',' ORDER BY function)
                       FROM streamext.deterministic_functions};
my %dumped = (
	streams => $node->safe_psql('src', $streams_sql),
	views => $node->safe_psql('src', $views_sql),
	subs => $node->safe_psql('src', $subs_sql),
	declared => $node->safe_psql('src', $declared_sql),
	map { ("queue_$_" => $node->safe_psql('src', sprintf($queue_sql, $_))) } qw(slow big report sessions));
my %newest = map { split /\|/ }
  split /\n/, $node->safe_psql('src', 'SELECT name, newest_position FROM streamext.subscriptions');
ok($newest{slow} > 200 && $newest{big} > 0 && $newest{report} > 10 && $newest{sessions} > 0,
	"the dumped subscriptions have unacknowledged entries (slow $newest{slow}, big $newest{big}, report $newest{report}, sessions $newest{sessions})");
my $dumped_lsn = $node->safe_psql('src',
	'SELECT max(l) FROM (SELECT start_lsn FROM streamext.view_def UNION ALL SELECT delivered_lsn FROM streamext.subscription_progress) s(l)');

my $dir = PostgreSQL::Test::Utils::tempdir();
my ($out, $err) = run_command(['pg_dump', '-h', $node->host, '-p', $node->port,
	'-Fc', '-f', "$dir/src.dump", 'src']);
is($err, '', 'pg_dump -Fc');
($out, $err) = run_command(['pg_dump', '-h', $node->host, '-p', $node->port,
	'-Fp', '-f', "$dir/src.sql", 'src']);
is($err, '', 'pg_dump -Fp');

# check_restored: the restored database as dumped, then with new events
sub check_restored
{
	my ($n, $db, $label) = @_;

	wait_caught_up($n, $db);
	is($n->safe_psql($db, $streams_sql), $dumped{streams}, "$label: streamext.streams lists the streams");
	is($n->safe_psql($db, $views_sql), $dumped{views}, "$label: streamext.views lists the views");
	is($n->safe_psql($db, $declared_sql), $dumped{declared},
		"$label: the functions declared deterministic are restored");
	is($n->safe_psql($db, $subs_sql), $dumped{subs},
		"$label: streamext.subscriptions lists the subscriptions, positions as dumped");
	is($n->safe_psql($db, sprintf($queue_sql, $_)), $dumped{"queue_$_"},
		"$label: poll('$_') hands out the dumped entries at their positions")
	  for qw(slow big report sessions);
	my ($ret, $left) = $n->psql($db, 'SELECT count(*) FROM streamext.adopt_restored()');
	is($left, '0', "$label: nothing left to adopt");
	is($n->safe_psql($db, 'SELECT count(*) FROM streamext.restore_loaded'), '0',
		"$label: the restore is over");
	check_click_views($n, "$label, as restored", $db);
	check_shop_views($n, $db, "$label, as restored");
	check_window_views($n, $db, "$label, as restored");

	# new events flow into the views and subscriptions
	my $last_click = $n->safe_psql($db, 'SELECT max(id) FROM clicks');
	my $last_order = $n->safe_psql($db, 'SELECT max(id) FROM shop.orders');
	my $before = $n->safe_psql($db, $closed_groups);
	my $sessions_before = $n->safe_psql($db, "SELECT newest_position FROM streamext.subscriptions WHERE name = 'sessions'");
	$n->safe_psql($db, sprintf($clicks, 1001, 1500) . ';' . sprintf($orders, 301, 400) . ';'
		  . sprintf($events, 1501, 2000));
	check_click_views($n, "$label, new events", $db);
	check_shop_views($n, $db, "$label, new events");
	check_window_views($n, $db, "$label, new events");
	# the sessions the new events closed, numbered after the dumped entries
	is($n->safe_psql($db, qq{
SELECT count(*) > 0, min(position) = $sessions_before + 1, max(position) - min(position) + 1 = count(*)
  FROM streamext.poll('sessions', 100000) WHERE position > $sessions_before}), 't|t|t',
		"$label: sessions delivers the sessions the new events closed, numbered after the dumped ones");
	for my $sub (['slow', "SELECT id FROM clicks WHERE id > $last_click AND ms % 3 <> 0 ORDER BY id"],
		['big', "SELECT id FROM shop.orders WHERE id > $last_order AND shop.band(amount) >= 5 ORDER BY id"])
	{
		my ($name, $expected) = @$sub;
		my @ids = split /\n/, $n->safe_psql($db, $expected);
		my $got = $n->safe_psql($db,
			"SELECT string_agg(position || ':' || (event->>'id'), ',' ORDER BY position)
			   FROM streamext.poll('$name', 100000) WHERE position > $newest{$name}");
		my $pos = $newest{$name};
		is($got, join(',', map { ++$pos . ":$_" } @ids),
			"$label: $name delivers the " . scalar(@ids) . " new matching events at positions after the dumped ones");
	}
	my $more = $n->safe_psql($db, $closed_groups) - $before;
	ok($n->poll_query_until($db,
		"SELECT newest_position = $newest{report} + $more FROM streamext.subscriptions WHERE name = 'report'"),
		"$label: report delivers the $more windows the new events closed");
	is($n->safe_psql($db,
		"SELECT min(position), max(position), count(DISTINCT (event->>'window_start', event->>'url')), bool_and(kind = 'window')
		   FROM streamext.poll('report', 100000) WHERE position > $newest{report}"),
		($newest{report} + 1) . '|' . ($newest{report} + $more) . "|$more|t",
		"$label: report numbers them after the dumped entries, each window once");
	is($n->safe_psql($db, "SELECT streamext.ack('slow', $newest{slow} + 1)"),
		$newest{slow} + 1 - 200, "$label: ack across the restored and the new entries");

	# the catalog's sequences continue
	$n->safe_psql($db, q{
SELECT streamext.create_view('after_restore', $$ SELECT url, count(*) AS n FROM clicks GROUP BY url $$, 'tumbling 1 second');
});
	$n->safe_psql($db, "SELECT streamext.create_subscription('later', 'clicks')");
	is($n->safe_psql($db, q{
SELECT (SELECT id FROM streamext.view_def WHERE name = 'after_restore') > (SELECT max(id) FROM streamext.view_def WHERE name <> 'after_restore'),
       (SELECT id FROM streamext.subscription_def WHERE name = 'later') > (SELECT max(id) FROM streamext.subscription_def WHERE name <> 'later')}),
		't|t', "$label: new views and subscriptions get new ids");
	$n->safe_psql($db, sprintf($clicks, 1501, 1600));
	wait_caught_up($n, $db);
	check_view($n, $db, 'after_restore',
		q{SELECT date_bin('1 second', ts, '2000-01-01 00:00+00'), date_bin('1 second', ts, '2000-01-01 00:00+00') + interval '1 second',
		         url, count(*) FROM clicks GROUP BY 1, 2, 3}, "$label, a view created after the restore");
	check_click_views($n, "$label, after a new view", $db);
	is($n->safe_psql($db, "SELECT count(*), min(position) FROM streamext.poll('later', 1000)"),
		'100|1', "$label: a subscription created after the restore");
	ok(!$n->log_contains("cannot (maintain|adopt|deliver|evaluate)"), "$label: the server reported nothing broken");
}

# 1. custom format, restored serially into a new database of the same node
$node->safe_psql('postgres', 'CREATE DATABASE restored');
($out, $err) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port,
	'-d', 'restored', "$dir/src.dump"]);
is($err, '', 'pg_restore into a new database');
check_restored($node, 'restored', 'pg_restore');

# 2. in one transaction: the worker starts at its commit
$node->safe_psql('postgres', 'CREATE DATABASE restored_1');
($out, $err) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port,
	'--single-transaction', '-d', 'restored_1', "$dir/src.dump"]);
is($err, '', 'pg_restore --single-transaction');
check_restored($node, 'restored_1', 'pg_restore --single-transaction');

# 3. with parallel jobs, as a plain pg_restore -j 4.  PostgreSQL's parallel
# restore loads every table's data at once, in any order (the order pg_dump
# gives the data of extension configuration tables is only the archive's),
# and creates a stream's triggers as soon as that stream's data is in, while
# other jobs may still load streamext's catalog, the closed-window tables
# and the queues: the catalog has no foreign key between dumped tables, and
# a view or subscription is adopted once all its pieces are there
$node->safe_psql('postgres', 'CREATE DATABASE restored_j');
($out, $err) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port,
	'-j', '4', '-d', 'restored_j', "$dir/src.dump"]);
is($err, '', 'pg_restore -j 4');
check_restored($node, 'restored_j', 'pg_restore -j 4');

# DDL of the restored database's owner does not wait for another session's:
# on streams, and streamext's own (create_view, create_stream)
check_ddl_does_not_wait($node, 'restored_j', 'DDL on streams',
	'CREATE INDEX ON clicks (user_id)', 'CREATE INDEX ON shop.orders (customer)');
check_ddl_does_not_wait($node, 'restored_j', "streamext's DDL",
	q{SELECT streamext.create_view('held', $$ SELECT url, count(*) AS n FROM clicks GROUP BY url $$, 'tumbling 1 second')},
	q{CREATE TABLE more (a int); SELECT streamext.create_stream('more')});

# 4. plain format into a new database of another server, behind in WAL
my $behind = $node2->safe_psql('postgres', "SELECT pg_current_wal_insert_lsn() < '$dumped_lsn'");
is($behind, 't', 'the second server\'s WAL is behind the dumped positions');
$node2->safe_psql('postgres', 'CREATE DATABASE copy');
($out, $err) = run_command(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node2->host,
	'-p', $node2->port, '-d', 'copy', '-f', "$dir/src.sql"]);
is($err, '', 'plain dump restored with psql on another server');
check_restored($node2, 'copy', 'psql on another server');

# the dumped database goes on as before
check_click_views($node, 'the dumped database', 'src');
check_shop_views($node, 'src', 'the dumped database');
is($node->safe_psql('src', $subs_sql), $dumped{subs}, 'the dumped database\'s subscriptions as they were');
$node->safe_psql('src', sprintf($clicks, 1001, 1500) . ';' . sprintf($orders, 301, 400));
check_click_views($node, 'the dumped database, new events', 'src');
check_shop_views($node, 'src', 'the dumped database, new events');
is($node->safe_psql('src',
	"SELECT min(position), count(*) FROM streamext.poll('slow', 100000) WHERE position > $newest{slow}"),
	($newest{slow} + 1) . '|' . $node->safe_psql('src', 'SELECT count(*) FROM clicks WHERE id > 1000 AND ms % 3 <> 0'),
	'the dumped database delivers its new events after its own positions');
is($node->safe_psql('postgres',
	q{SELECT string_agg(d.datname, ',' ORDER BY d.datname) FROM pg_replication_slots s JOIN pg_database d ON d.datname = s.database}),
	'restored,restored_1,restored_j,src', 'one slot per database with streamext');

# the restored views depend on their stream again
$node->safe_psql('restored', 'DROP TABLE shop.orders CASCADE');
is($node->safe_psql('restored', q{
SELECT to_regclass('shop.by_band') IS NULL AND to_regclass('shop.totals') IS NULL,
       (SELECT string_agg(name, ',' ORDER BY name) FROM streamext.subscriptions)}),
	't|later,report,sessions,slow', 'DROP TABLE ... CASCADE of a restored stream takes its view and subscription');

done_testing();

# Scaling out: a stream sharded over three nodes, each with shard views,
# and a coordinator whose distributed views combine the nodes' partial
# states through postgres_fdw.  Producers write on every node (any device:
# the session view is not sharded by its key, so the coordinator merges
# sessions across nodes) and through the coordinator's partitioned table
# (foreign partitions on the nodes, hash on device).  A node is crashed
# and restarted during the load.  Every distributed view equals plain SQL
# over the union of the shards: closed windows during the load, everything
# after it; a node that is down fails reads, naming its server.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $stream_sql = q{
CREATE TABLE events (device int NOT NULL, url text NOT NULL, ms int, uid int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
};
my $hll_sql = q{
CREATE EXTENSION hll;
SELECT streamext.declare_deterministic(f)
  FROM unnest(ARRAY['hll_add_trans4(internal, hll_hashval, integer, integer, bigint, integer)',
                    'hll_union_internal(internal, internal)', 'hll_pack(internal)']::regprocedure[]) f;
};

# the views: name, query, window, lateness
my @views = (
	[ 'tumble',
	  q{SELECT url, count(*) AS n, sum(ms) AS total, avg(ms) AS avg_ms, max(ms) AS worst,
	           hll_cardinality(hll_add_agg(hll_hash_integer(uid), 12, 5, -1, 1)) AS users
	      FROM events GROUP BY url},
	  'tumbling 1 second', '500 milliseconds' ],
	[ 'hop',
	  q{SELECT device, count(*) AS n, sum(ms) AS s, avg(ms) AS a, max(url) AS m,
	           hll_cardinality(hll_add_agg(hll_hash_integer(uid), 12, 5, -1, 1)) AS users
	      FROM events GROUP BY device HAVING count(*) > 1},
	  'hopping 2 seconds every 1 second', '500 milliseconds' ],
	[ 'sess',
	  q{SELECT device, count(*) AS n, sum(ms) AS s FROM events GROUP BY device},
	  'session 40 milliseconds', '500 milliseconds' ],
	[ 'total', q{SELECT count(*) AS n, sum(ms) AS s FROM events}, undef, '0' ]);

my $origin = q{'2000-01-01 00:00+00'};
my %oracle = (
	tumble => qq{SELECT date_bin('1 second', ts, $origin), date_bin('1 second', ts, $origin) + interval '1 second',
	                    url, count(*), sum(ms), avg(ms), max(ms),
	                    hll_cardinality(hll_add_agg(hll_hash_integer(uid), 12, 5, -1, 1))
	               FROM all_events GROUP BY 1, 2, 3},
	hop => qq{SELECT w, w + interval '2 seconds', device, count(*), sum(ms), avg(ms), max(url),
	                 hll_cardinality(hll_add_agg(hll_hash_integer(uid), 12, 5, -1, 1))
	            FROM all_events,
	                 LATERAL (VALUES (date_bin('1 second', ts, $origin)),
	                                 (date_bin('1 second', ts, $origin) - interval '1 second')) v(w)
	           GROUP BY 1, 2, 3 HAVING count(*) > 1},
	sess => q{WITH e AS (SELECT device, ts, ms,
	                            CASE WHEN ts - lag(ts) OVER (PARTITION BY device ORDER BY ts)
	                                      < interval '40 milliseconds' THEN 0 ELSE 1 END AS brk
	                       FROM all_events),
	               s AS (SELECT *, sum(brk) OVER (PARTITION BY device ORDER BY ts) AS sid FROM e)
	          SELECT min(ts), max(ts) + interval '40 milliseconds', device, count(*), sum(ms)
	            FROM s GROUP BY device, sid},
	total => q{SELECT count(*), sum(ms) FROM all_events});

my @nodes;
for my $i (1 .. 3)
{
	my $node = streamext_node("node$i");
	$node->safe_psql('postgres', "CREATE EXTENSION streamext; $hll_sql $stream_sql"
		  . "SELECT streamext.create_stream('events', time_column => 'ts', idle_timeout => NULL);");
	for my $v (@views)
	{
		my ($name, $query, $window, $lateness) = @$v;
		$node->safe_psql('postgres', "SELECT streamext.create_shard_view('$name', \$q\$$query\$q\$, "
			  . ($window ? "\"window\" => '$window', " : '') . "lateness => '$lateness')");
	}
	wait_caught_up($node);
	push @nodes, $node;
}

# a streaming standby of node 3, promoted in its place at the end
$nodes[2]->backup('node3_backup');
my $standby = PostgreSQL::Test::Cluster->new('node3_standby');
$standby->init_from_backup($nodes[2], 'node3_backup', has_streaming => 1);
$standby->start;

my $coord = streamext_node('coordinator');
$coord->safe_psql('postgres', "CREATE EXTENSION streamext; CREATE EXTENSION postgres_fdw; $hll_sql");
$coord->safe_psql('postgres', q{
CREATE TABLE events (device int NOT NULL, url text NOT NULL, ms int, uid int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp())
  PARTITION BY HASH (device);});
for my $i (1 .. 3)
{
	my $n = $nodes[ $i - 1 ];
	my ($host, $port) = ($n->host, $n->port);
	$coord->safe_psql('postgres', qq{
CREATE SERVER n$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$host', port '$port', dbname 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER n$i;
CREATE FOREIGN TABLE events_n$i PARTITION OF events FOR VALUES WITH (MODULUS 3, REMAINDER @{[ $i - 1 ]})
  SERVER n$i OPTIONS (table_name 'events');
-- the oracle's own reads of each node's events, all of them
CREATE FOREIGN TABLE raw_n$i (device int, url text, ms int, uid int, ts timestamptz)
  SERVER n$i OPTIONS (table_name 'events');});
}
$coord->safe_psql('postgres', q{
CREATE VIEW all_events AS
  SELECT * FROM raw_n1 UNION ALL SELECT * FROM raw_n2 UNION ALL SELECT * FROM raw_n3;});

# a node whose shard view differs is refused, by name
my ($ret, $out, $err) = $coord->psql('postgres',
	"SELECT streamext.create_distributed_view('tumble', \$q\$$views[0][1]\$q\$, "
	  . "nodes => ARRAY['n1', 'n2', 'n3'], \"window\" => 'tumbling 2 seconds', lateness => '500 milliseconds')");
like($err, qr/shard view on node "n1" does not compute what this view computes.*\n.*window tumbling 1 second; coordinator: window tumbling 2 seconds/,
	'a different window is refused, naming the node and the difference');

for my $v (@views)
{
	my ($name, $query, $window, $lateness) = @$v;
	$coord->safe_psql('postgres', "SELECT streamext.create_distributed_view('$name', \$q\$$query\$q\$, "
		  . "nodes => ARRAY['n1', 'n2', 'n3'], "
		  . ($window ? "\"window\" => '$window', " : '') . "lateness => '$lateness')");
}

# a subscription of a distributed view: each window once all nodes closed it
$coord->safe_psql('postgres',
	"SELECT streamext.create_subscription('tumble_final', 'tumble', notify => 'batch')");
my $first_upto = $coord->safe_psql('postgres',
	'SELECT delivered_upto FROM streamext.distributed_delivery');

# a condition on the key and the window goes to the nodes
my $plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM tumble WHERE url = '/p3' AND window_start >= '2026-01-01'");
like($plan, qr/Remote SQL: SELECT .* FROM public\.tumble_partials WHERE \(\(window_start >= .*\)\) AND \(\(url = '\/p3'\)\)/,
	'key and window range pushed down to the nodes');

# producers: on each node directly (any device), and through the coordinator
my $dir = PostgreSQL::Test::Utils::tempdir();
my $rnd = q{(random() * 11)::int, '/p' || (random() * 9)::int, (random() * 1000)::int, (random() * 300)::int};
PostgreSQL::Test::Utils::append_to_file("$dir/one.sql",
	"INSERT INTO events (device, url, ms, uid) VALUES ($rnd);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/many.sql",
	"INSERT INTO events (device, url, ms, uid) SELECT $rnd FROM generate_series(1, 8);\n");
PostgreSQL::Test::Utils::append_to_file("$dir/rollback.sql",
	"BEGIN;\nINSERT INTO events (device, url, ms, uid) SELECT $rnd FROM generate_series(1, 5);\nROLLBACK;\n");
sub producers
{
	my ($node, $seconds) = @_;
	my @cmd = ('pgbench', '-n', '-c', 2, '-j', 1, '-T', $seconds, '-R', 150,
		'-f', "$dir/one.sql\@5", '-f', "$dir/many.sql\@3", '-f', "$dir/rollback.sql\@2",
		'-h', $node->host, '-p', $node->port, 'postgres');
	my ($o, $e) = ('', '');
	return IPC::Run::start(\@cmd, '>', \$o, '2>', \$e);
}
my @load = map { producers($_, 6) } (@nodes, $coord);

# a node crashes and comes back during the load
sleep 2;
$nodes[1]->stop('immediate');
$nodes[1]->start;

# closed windows during the load: those every node has closed
sleep 1;
my $closed = $coord->safe_psql('postgres',
	"SELECT streamext.distributed_final_upto('tumble')");
ok($closed ne '' && $closed ne '-infinity', "every node closed windows during the load (up to $closed)");
check_view($coord, 'postgres', "(SELECT * FROM tumble WHERE window_end <= '$closed') t",
	"SELECT * FROM ($oracle{tumble}) o(ws, we, url, n, total, avg_ms, worst, users) WHERE we <= '$closed'",
	'during the load, closed windows');

for my $h (@load)
{
	eval { $h->finish; };    # the crashed node's producers failed
}
wait_caught_up($_) for @nodes;
check_view($coord, 'postgres', $_, $oracle{$_}, 'after the load') for qw(tumble hop sess total);

# the subscription got every window all nodes closed, once, in window order
ok($coord->poll_query_until('postgres', q{
SELECT d.delivered_upto >= p.upto AND p.upto > '-infinity'
  FROM streamext.distributed_delivery d,
       (SELECT streamext.distributed_final_upto('tumble') AS upto) p}),
	'the subscription caught up with the nodes');
my $upto = $coord->safe_psql('postgres', 'SELECT delivered_upto FROM streamext.distributed_delivery');
check_view($coord, 'postgres',
	"(SELECT (event->>'window_start')::timestamptz, (event->>'window_end')::timestamptz, event->>'url',
	         (event->>'n')::bigint, (event->>'users')::float8
	    FROM streamext.poll('tumble_final', 100000)) e",
	"SELECT window_start, window_end, url, n, users FROM tumble
	  WHERE window_end > '$first_upto' AND window_end <= '$upto'",
	'subscription');
is($coord->safe_psql('postgres', q{
SELECT count(*) = max(position) AND bool_and(we >= prev)
  FROM (SELECT position, (event->>'window_end')::timestamptz AS we,
               lag((event->>'window_end')::timestamptz, 1, '-infinity') OVER (ORDER BY position) AS prev
          FROM streamext.poll('tumble_final', 100000)) q}),
	't', 'positions without a gap, windows in order');

my $sessions_apart = $coord->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT device, window_start FROM sess_on_n1 UNION ALL
                      SELECT device, window_start FROM sess_on_n2 UNION ALL
                      SELECT device, window_start FROM sess_on_n3) s});
my $sessions = $coord->safe_psql('postgres', 'SELECT count(*) FROM sess');
cmp_ok($sessions, '<', $sessions_apart,
	"nodes' sessions of a device merged on the coordinator ($sessions_apart to $sessions)");

# a node that is down fails a read, by its server's name, never partially
$nodes[2]->stop('fast');
for my $v (qw(tumble sess total))
{
	($ret, $out, $err) = $coord->psql('postgres', "SELECT count(*) FROM $v");
	isnt($ret, 0, "$v: a read fails while node n3 is down");
	like($err, qr/server "n3"/, "$v: the error names the node");
}
$nodes[2]->start;
wait_caught_up($nodes[2]);
check_view($coord, 'postgres', $_, $oracle{$_}, 'node back') for qw(tumble total);

# the functions the view calls take no bytes a caller wrote: an
# aggregate's deserial function (hll's) trusts what the nodes sent
$coord->safe_psql('postgres', q{
CREATE ROLE reader LOGIN;
GRANT SELECT ON tumble TO reader;});
($ret, $out, $err) = $coord->psql('postgres', q{SET ROLE reader;
SELECT streamext.combine_partials(id, s)
  FROM streamext.distributed_views, (VALUES ('\x0100000000'::bytea)) v(s) WHERE name = 'public.tumble'});
like($err, qr/combines only the states the nodes of distributed view "public.tumble" send/,
	'combine_partials refuses states that do not come from the nodes');
($ret, $out, $err) = $coord->psql('postgres', q{SET ROLE reader;
SELECT * FROM streamext.distributed_views d,
       LATERAL streamext.distributed_row(d.id, '\x0100000000'::bytea, NULL, NULL, '/p1'::text)
         AS r(ws timestamptz, we timestamptz, url text, n bigint, total bigint, avg_ms numeric,
              worst int, users float8)
 WHERE d.name = 'public.tumble'});
like($err, qr/takes only states that combine_partials or merge_sessions made/,
	'distributed_row refuses states it did not seal');
is($coord->safe_psql('postgres', "SET ROLE reader; SELECT count(*) > 0 FROM tumble"), 't',
	'a reader reads the view');

# an aggregate whose states an extension's function reads (hll) is
# distributed by a superuser only: that function trusts what nodes send
$coord->safe_psql('postgres', 'GRANT SELECT ON events TO reader');
($ret, $out, $err) = $coord->psql('postgres', qq{SET ROLE reader;
SELECT streamext.create_distributed_view('mine', \$q\$$views[0][1]\$q\$, nodes => ARRAY['n1'],
  "window" => 'tumbling 1 second', lateness => '500 milliseconds')});
like($err, qr/only a superuser may create distributed view "mine"/,
	'an hll distributed view is refused to an ordinary role');

# renamed, a distributed view reads and reports as before
$coord->safe_psql('postgres', 'ALTER VIEW tumble RENAME TO tumble_renamed');
is($coord->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM tumble_renamed) > 0,
       (SELECT count(*) FROM streamext.distributed_progress('tumble_renamed')) = 3}),
	't|t', 'a renamed distributed view reads and reports its progress');
$coord->safe_psql('postgres', 'ALTER VIEW tumble_renamed RENAME TO tumble');

# a node's shard view defined again differently is refused at read time
$nodes[0]->safe_psql('postgres', q{
SELECT streamext.drop_view('hop');
SELECT streamext.create_shard_view('hop', $q$SELECT device, count(*) AS n, sum(ms) AS s, avg(ms) AS a,
  max(url) AS m, hll_cardinality(hll_add_agg(hll_hash_integer(uid), 12, 5, -1, 1)) AS users
  FROM events WHERE ms > 10 GROUP BY device HAVING count(*) > 1$q$,
  "window" => 'hopping 2 seconds every 1 second', lateness => '500 milliseconds');});
($ret, $out, $err) = $coord->psql('postgres', 'SELECT count(*) FROM hop');
like($err, qr/partial states of another definition/, 'a node redefined since is refused');

# node 3 lost for good: its standby is promoted and the server pointed at
# it; its worker makes a slot of its own and computes the views again from
# the stream, and the distributed views are exact again
$nodes[2]->safe_psql('postgres', "INSERT INTO events (device, url, ms, uid) VALUES (3, '/p3', 7, 7)");
$nodes[2]->wait_for_catchup($standby);
$nodes[2]->stop('immediate');
$standby->promote;
my ($shost, $sport) = ($standby->host, $standby->port);
$coord->safe_psql('postgres', "ALTER SERVER n3 OPTIONS (SET host '$shost', SET port '$sport')");
wait_caught_up($standby);
check_view($coord, 'postgres', $_, $oracle{$_}, 'standby promoted') for qw(tumble sess total);
$nodes[2] = $standby;

# dropping the distributed view leaves the nodes' shard views
($ret, $out, $err) = $coord->psql('postgres', "SELECT streamext.drop_distributed_view('tumble')");
like($err, qr/has subscription "tumble_final"/, 'a distributed view with a subscription is not dropped');
$coord->safe_psql('postgres', "SELECT streamext.drop_distributed_view('total')");
is($coord->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname LIKE 'total%'"),
	'0', 'drop_distributed_view drops the view and its foreign tables');
is($nodes[0]->safe_psql('postgres', 'SELECT n > 0 FROM total'), 't', 'the shard view stays');

$coord->stop;
$_->stop for @nodes;
ok(!grep({ slurp_file($_->logfile) =~ /terminated by signal (4|6|7|8|11)\D/ } (@nodes, $coord)),
	'no server process crashed');
done_testing();

# StreamextTest.pm: what every streamext TAP test shares: a node set up for
# streamext, the schema of a click stream with three views, a load of
# concurrent producers, and the oracle (each view equals plain SQL).
package StreamextTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use Time::HiRes;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(streamext_node create_click_schema start_producers
  finish_producers wait_caught_up check_click_views check_view check_views worker_pid
  wait_checkpointed create_event_stream start_event_producers
  create_window_view window_oracle every_window_kind check_ddl_does_not_wait
  streamed_txns streamed_since check_final_subscription
  create_final_subscription);

# streamext_node starts a node with what streamext needs
sub streamext_node
{
	my ($name, $extra) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	init_from_template($node);
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'streamext'
max_worker_processes = 16
max_replication_slots = 10
streamext.checkpoint_interval = '200ms'
restart_after_crash = on
} . ($extra // ''));
	$node->start;
	return $node;
}

# init_from_template: $node->init(allows_streaming => 'logical'), with the
# data directory copied from one initdb per test run rather than made by an
# initdb per node (about a second each, 56 nodes).  PostgreSQL 16's
# Cluster.pm does the same (INITDB_TEMPLATE); 15's calls initdb through
# PostgreSQL::Test::Utils::system_or_bail, so that call is what is replaced,
# and only for the duration of this init.
sub init_from_template
{
	my ($node) = @_;
	my $template = "$PostgreSQL::Test::Utils::tmp_check/initdb_template";
	if (!-d $template)
	{
		# made aside and renamed, so a concurrent test never copies half
		my $making = "$template.$$";
		PostgreSQL::Test::Utils::system_or_bail('initdb', '-D', $making,
			'-A', 'trust', '-N');
		rename($making, $template)
		  or (-d $template or die "could not rename $making: $!");
		PostgreSQL::Test::Utils::system_or_bail('rm', '-rf', $making)
		  if -d $making;
	}
	my $initdb = \&PostgreSQL::Test::Utils::system_or_bail;
	no warnings 'redefine';
	local *PostgreSQL::Test::Utils::system_or_bail = sub {
		return $initdb->('cp', '-a', $template, $_[2])
		  if $_[0] eq 'initdb' && @_ == 6;
		return $initdb->(@_);
	};
	$node->init(allows_streaming => 'logical');
}

# create_click_schema: the stream of the issue and three views over it:
# tumbling 1-second windows (many close and get late events), a running
# aggregate with WHERE and expressions, and a grand total
sub create_click_schema
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE clicks (id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('clicks', time_column => 'ts', idle_timeout => NULL);
SELECT streamext.create_view('per_second',
  $$ SELECT url, count(*) AS hits, sum(ms) AS total, avg(ms) AS avg_ms, max(ms) AS worst FROM clicks GROUP BY url $$,
  'tumbling 1 second');
SELECT streamext.create_view('per_user',
  $$ SELECT user_id % 50 AS u, count(*) AS n, min(ms) AS best, round(stddev(ms)::numeric, 6) AS sd FROM clicks WHERE ms >= 10 GROUP BY 1 $$);
SELECT streamext.create_view('total', $$ SELECT count(*) AS n, sum(ms) AS s FROM clicks $$);
});
	# the worker has its slot before the test produces anything
	wait_caught_up($node, $db);
}

my %oracle = (
	per_second => q{SELECT date_bin('1 second', ts, '2000-01-01 00:00+00'),
	                       date_bin('1 second', ts, '2000-01-01 00:00+00') + interval '1 second',
	                       url, count(*), sum(ms), avg(ms), max(ms) FROM clicks GROUP BY 1, 2, 3},
	per_user => q{SELECT user_id % 50, count(*), min(ms), round(stddev(ms)::numeric, 6)
	                FROM clicks WHERE ms >= 10 GROUP BY 1},
	total => q{SELECT count(*), sum(ms) FROM clicks},
);

# start_producers runs pgbench in the background: single-row, 10-row and
# rolled-back transactions from several clients
sub start_producers
{
	my ($node, %opts) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $rnd = q{'/p' || (random() * 20)::int, (random() * 1000)::int, (random() * 500)::int};
	PostgreSQL::Test::Utils::append_to_file("$dir/single.sql",
		"INSERT INTO clicks (url, user_id, ms) VALUES ($rnd);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/multi.sql",
		"INSERT INTO clicks (url, user_id, ms) SELECT $rnd FROM generate_series(1, 10);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/rollback.sql",
		"BEGIN;\nINSERT INTO clicks (url, user_id, ms) SELECT $rnd FROM generate_series(1, 5);\nROLLBACK;\n");
	my @cmd = ('pgbench', '-n', '-c', $opts{clients} // 4, '-j', 2,
		'-T', $opts{seconds} // 4,
		'-f', "$dir/single.sql\@5", '-f', "$dir/multi.sql\@3", '-f', "$dir/rollback.sql\@2",
		'-h', $node->host, '-p', $node->port, $opts{db} // 'postgres');
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	return { handle => $h, out => \$out, err => \$err };
}

# finish_producers waits for pgbench; with $may_fail, a crash may end it
sub finish_producers
{
	my ($p, $may_fail) = @_;
	my $ok = eval { $p->{handle}->finish; 1 };
	if (!$may_fail)
	{
		ok($ok && $p->{handle}->result == 0, 'producers finished')
		  or diag(${ $p->{err} });
	}
	return ${ $p->{out} };
}

sub wait_caught_up
{
	my ($node, $db) = @_;
	my $r = $node->safe_psql($db // 'postgres', "SELECT streamext.wait_caught_up('180s')");
	is($r, 't', 'worker caught up');
}

# check_view compares a view with its oracle both ways with EXCEPT ALL
sub check_view
{
	my ($node, $db, $view, $oracle_sql, $label) = @_;
	my ($rows) = check_views($node, $db, $label, [ $view, $oracle_sql ]);
	return $rows;
}

# check_views does check_view for each [view, oracle] pair, in one
# statement (one snapshot, one psql: a check costs its queries, not a
# connection each); returns the views' row counts
sub check_views
{
	my ($node, $db, $label, @pairs) = @_;
	my $i = 0;
	my $res = $node->safe_psql($db, join("\nUNION ALL\n", map {
		my ($view, $oracle_sql) = @$_;
		$i++;
		qq{SELECT $i,
       (SELECT count(*) FROM (($oracle_sql) EXCEPT ALL (SELECT * FROM $view)) a),
       (SELECT count(*) FROM ((SELECT * FROM $view) EXCEPT ALL ($oracle_sql)) b),
       (SELECT count(*) FROM $view)}
	} @pairs) . "\nORDER BY 1");
	my @rows;
	for my $line (split /\n/, $res)
	{
		my ($n, $missing, $extra, $rows) = split /\|/, $line;
		my ($view, $oracle_sql) = @{ $pairs[ $n - 1 ] };
		push @rows, $rows;
		is("$missing|$extra", '0|0', "$label: $view equals plain SQL ($rows rows)")
		  or diag("only in plain SQL:\n", $node->safe_psql($db,
				"(($oracle_sql) EXCEPT ALL (SELECT * FROM $view)) ORDER BY 1 LIMIT 10"),
			"\nonly in $view:\n", $node->safe_psql($db,
				"((SELECT * FROM $view) EXCEPT ALL ($oracle_sql)) ORDER BY 1 LIMIT 10"));
	}
	is(scalar(@rows), scalar(@pairs), "$label: every view checked") if @rows != @pairs;
	return @rows;
}

# create_final_subscription subscribes ${view}_final to a view's closed
# windows (emit 'final', no notification), as check_final_subscription reads
sub create_final_subscription
{
	my ($node, $view) = @_;
	$node->safe_psql('postgres',
		"SELECT streamext.create_subscription('${view}_final', '$view', notify => 'none')");
}

# check_final_subscription compares the 'final' subscription ${view}_final
# with the view's closed windows: every one queued once, with its final
# values, and none closed twice (which fails on the closed table's key and
# sets the group aside as a dead letter)
sub check_final_subscription
{
	my ($node, $view, $label) = @_;
	my $diff = $node->safe_psql('postgres', qq{
WITH closed AS (
  SELECT to_jsonb(v) AS row FROM $view v, streamext.view_progress p, streamext.view_def d
   WHERE d.name = '$view' AND p.view_id = d.id AND v.window_end <= p.closed_upto),
queued AS (
  SELECT q.event::jsonb AS row FROM streamext.subscription_queue q
    JOIN streamext.subscription_def s ON s.id = q.subscription_id
   WHERE s.name = '${view}_final' AND q.kind = 'window')
SELECT (SELECT count(*) FROM closed), (SELECT count(*) FROM queued),
       (SELECT count(*) FROM (SELECT row FROM queued GROUP BY row HAVING count(*) > 1) d),
       (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT row FROM queued) m),
       (SELECT count(*) FROM (SELECT row FROM queued EXCEPT SELECT row FROM closed) x)});
	my ($closed, $queued, $twice, $missing, $extra) = split /\|/, $diff;
	ok($closed > 0, "$label, $view: windows closed ($closed)");
	is($node->safe_psql('postgres', qq{
SELECT count(*) FROM streamext.dead_letters l JOIN streamext.view_def d ON d.id = l.view_id
 WHERE d.name = '$view'}), '0', "$label, $view: no dead letter");
	is("$twice $missing $extra", '0 0 0',
		"$label, $view: each closed window queued once with its final row ($queued entries)");
}

sub check_click_views
{
	my ($node, $label, $db) = @_;
	$db //= 'postgres';
	wait_caught_up($node, $db);
	check_views($node, $db, $label, map { [ $_, $oracle{$_} ] } qw(per_second per_user total));
}

# wait_checkpointed waits until a checkpoint of the worker covers every
# event committed before $lsn (default: the WAL position now), so that
# closed windows are written and late events have corrected them.  The
# worker's checkpoint_lsn moves only when a checkpoint writes events applied
# since the last one (worker.c, checkpoint_now): once the stream is quiet no
# checkpoint comes, and a position taken after the last checkpoint (its own
# commit, autovacuum, ... wrote WAL) would never be reached.  So a heartbeat
# event, committed after $lsn into a stream of its own with one view, makes
# sure that a checkpoint passes $lsn.
sub wait_checkpointed
{
	my ($node, $db, $lsn) = @_;
	$db //= 'postgres';
	$lsn //= $node->safe_psql($db, 'SELECT pg_current_wal_lsn()');
	$node->safe_psql($db, q{
DO $$
BEGIN
  IF to_regclass('public.streamext_heartbeat') IS NULL THEN
    CREATE TABLE public.streamext_heartbeat (n int);
    PERFORM streamext.create_stream('public.streamext_heartbeat');
    PERFORM streamext.create_view('streamext_heartbeat_count',
      'SELECT count(*) AS n FROM public.streamext_heartbeat');
  END IF;
END $$;
INSERT INTO public.streamext_heartbeat VALUES (1);});
	my $ok = $node->poll_query_until($db,
		"SELECT checkpoint_lsn >= '$lsn' FROM streamext.worker_status()");
	ok($ok, "a checkpoint covers $lsn");
}

# create_event_stream: the stream ev of the window tests, with what makes
# random events: group keys g (6 groups and NULL, dense) and k (150,
# sparse, for sessions), a value v (negative and NULL at times), and an
# event time ts from gen_ts(): t0 plus $speed seconds of event time per
# second of load, less a random lateness (out of order: most a little,
# some up to late_max), one in five on a 1-second and one in ten on a
# 10-second window edge.  t0 is an hour ago: event times stay in the past,
# below streamext.max_future past their commit.
sub create_event_stream
{
	my ($node, $db, $speed) = @_;
	$speed //= 30;
	$node->safe_psql($db // 'postgres', qq{
CREATE EXTENSION IF NOT EXISTS streamext;
CREATE TABLE ev (id bigserial PRIMARY KEY, g int, k int, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);
CREATE TABLE gen (t0 timestamptz, started timestamptz, speed float8);
INSERT INTO gen VALUES (date_bin('1 minute', now() - interval '1 hour', '2000-01-01 00:00+00'),
                        clock_timestamp(), $speed);
CREATE FUNCTION gen_ts(late_max float8 DEFAULT NULL) RETURNS timestamptz LANGUAGE sql VOLATILE AS \$\$
  SELECT CASE WHEN r < 0.1 THEN date_bin('10 seconds', t, '2000-01-01 00:00+00')
              WHEN r < 0.3 THEN date_bin('1 second', t, '2000-01-01 00:00+00')
              ELSE t END
    FROM (SELECT t0 + (clock_timestamp() - started) * speed
                 - CASE WHEN late_max IS NULL THEN random() ^ 3 * interval '90 seconds'
                        ELSE random() * late_max * interval '1 second' END AS t,
                 random() AS r
            FROM gen) x
\$\$;
CREATE FUNCTION gen_g() RETURNS int LANGUAGE sql VOLATILE AS
  \$\$ SELECT CASE WHEN random() < 0.03 THEN NULL ELSE 1 + (random() * 5)::int END \$\$;
CREATE FUNCTION gen_k() RETURNS int LANGUAGE sql VOLATILE AS
  \$\$ SELECT 1 + (random() * 149)::int \$\$;
CREATE FUNCTION gen_v() RETURNS int LANGUAGE sql VOLATILE AS
  \$\$ SELECT CASE WHEN random() < 0.03 THEN NULL ELSE (random() * 120)::int - 20 END \$\$;
});
}

# start_event_producers runs pgbench into ev in the background: single
# rows, five rows with one event time (equal timestamps) in one
# transaction, three rows up to two minutes late, and rolled-back rows,
# from three clients at about $rate transactions a second in all
sub start_event_producers
{
	my ($node, %opts) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/single.sql",
		"INSERT INTO ev (g, k, v, ts) VALUES (gen_g(), gen_k(), gen_v(), gen_ts());\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/equal.sql",
		"WITH t AS MATERIALIZED (SELECT gen_ts() AS ts) INSERT INTO ev (g, k, v, ts) "
		  . "SELECT gen_g(), gen_k(), gen_v(), t.ts FROM t, generate_series(1, 5);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/late.sql",
		"INSERT INTO ev (g, k, v, ts) SELECT gen_g(), gen_k(), gen_v(), gen_ts(120) FROM generate_series(1, 3);\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/rollback.sql",
		"BEGIN;\nINSERT INTO ev (g, k, v, ts) SELECT gen_g(), gen_k(), gen_v(), gen_ts() FROM generate_series(1, 5);\nROLLBACK;\n");
	my @cmd = ('pgbench', '-n', '-c', 3, '-j', 2, '-T', $opts{seconds} // 5,
		'-R', $opts{rate} // 400,
		'-f', "$dir/single.sql\@5", '-f', "$dir/equal.sql\@3",
		'-f', "$dir/late.sql\@1", '-f', "$dir/rollback.sql\@1",
		'-h', $node->host, '-p', $node->port, $opts{db} // 'postgres');
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	return { handle => $h, out => \$out, err => \$err };
}

# view_query is the query of a window view spec: keys, aggregates, WHERE,
# GROUP BY the keys, HAVING, over the stream ev
sub view_query
{
	my ($spec, $from) = @_;
	my @keys = @{ $spec->{keys} // [] };
	my $i = 0;
	my $q = 'SELECT ' . join(', ', (map { $i++; "$_ AS k$i" } @keys), @{ $spec->{aggs} })
	  . " FROM " . ($from // 'ev');
	$q .= " WHERE $spec->{where}" if $spec->{where} && !$from;
	$q .= ' GROUP BY ' . join(', ', 1 .. @keys) if @keys;
	$q .= " HAVING $spec->{having}" if $spec->{having};
	return $q;
}

# create_window_view creates the continuous view of a spec (name, window,
# lateness, keys, aggs, where, having); it says whether that worked, so that
# a window kind the build does not know fails its tests, not the file
sub create_window_view
{
	my ($node, $db, $spec) = @_;
	my $q = view_query($spec);
	my $w = defined $spec->{window} ? "'$spec->{window}'" : 'NULL';
	my $late = $spec->{lateness} // '0';
	my $zone = defined $spec->{time_zone} ? ", time_zone => '$spec->{time_zone}'" : '';
	my ($rc, $out, $err) = $node->psql($db // 'postgres',
		"SELECT streamext.create_view('$spec->{name}', \$q\$ $q \$q\$, \"window\" => $w, lateness => '$late'$zone)");
	return ok($rc == 0, "view $spec->{name} ($w, lateness $late$zone) created") || diag($err);
}

# every_window_kind: the specs of a view of each window kind over ev
# (none, tumbling, hopping, cumulate, session, sliding)
sub every_window_kind
{
	my @aggs = ('count(*) AS n', 'sum(coalesce(v, 0)) AS s', 'max(v) AS hi');
	return (
		{ name => 'running', keys => ['g'], aggs => \@aggs },
		{ name => 'tumb', window => 'tumbling 5 seconds', lateness => '10 seconds', keys => ['g'], aggs => \@aggs },
		{ name => 'hop', window => 'hopping 10 seconds every 2 seconds', keys => ['g'], aggs => \@aggs },
		{ name => 'cum', window => 'cumulate 20 seconds every 5 seconds', keys => ['g'], aggs => \@aggs },
		{ name => 'sess', window => 'session 3 seconds', keys => ['k'], aggs => ['count(*) AS n', 'min(ts) AS first'] },
		{ name => 'slide', window => 'sliding 30 seconds step 1 second', keys => ['g'], aggs => \@aggs });
}

# window_oracle is the plain SQL a window view must equal, from the
# semantics of each kind (windows aligned to 2000-01-01 00:00+00):
#   tumbling S: [date_bin(S, t), +S)
#   hopping S every H: every [w, w+S) with w a multiple of H, w <= t < w+S
#   cumulate S every H: [d, d+k*H) for d = date_bin(S, t), k = 1..S/H,
#     d+k*H > t
#   session G: per group, runs of events (passing WHERE) less than G apart;
#     [first, last + G)
#   sliding S step P (P = S/60 by default): one row per group, no window
#     columns, over the events whose pane date_bin(P, t) is after
#     date_bin(P, W) - S, W = greatest event time - lateness
# A time_zone whose offsets are whole half hours aligns windows of seconds
# that divide 30 minutes as UTC does: the same SQL, through calendar code.
sub window_oracle
{
	my ($spec) = @_;
	my $o = q{'2000-01-01 00:00+00'};
	my $w = $spec->{window};
	my $late = "interval '" . ($spec->{lateness} // '0') . "'";
	my @keys = @{ $spec->{keys} // [] };
	my $where = $spec->{where} ? "($spec->{where})" : 'true';
	my $iv = qr/(\d+\s+[a-z]+)/;
	my ($ws, $from);

	if (!defined $w)
	{
		return view_query($spec);
	}
	elsif ($w =~ /^tumbling $iv$/)
	{
		my $s = "interval '$1'";
		$from = "(SELECT ev.*, date_bin($s, ts, $o) AS ws, date_bin($s, ts, $o) + $s AS we FROM ev WHERE $where) ev";
	}
	elsif ($w =~ /^hopping $iv every $iv$/)
	{
		my ($s, $h) = ("interval '$1'", "interval '$2'");
		$from = "(SELECT ev.*, w AS ws, w + $s AS we FROM ev,
		           generate_series(date_bin($h, ts, $o) - $s + $h, date_bin($h, ts, $o), $h) w
		          WHERE $where) ev";
	}
	elsif ($w =~ /^cumulate $iv every $iv$/)
	{
		my ($s, $h) = ("interval '$1'", "interval '$2'");
		$from = "(SELECT ev.*, date_bin($s, ts, $o) AS ws, e AS we FROM ev,
		           generate_series(date_bin($h, ts, $o) + $h, date_bin($s, ts, $o) + $s, $h) e
		          WHERE $where) ev";
	}
	elsif ($w =~ /^session $iv$/)
	{
		my $g = "interval '$1'";
		my $part = @keys ? 'PARTITION BY ' . join(', ', @keys) : '';
		my $part2 = @keys ? "$part, sid" : 'PARTITION BY sid';
		# a gap of G or more starts a session; RANGE frames make equal
		# times one peer group, whatever order they come in
		$from = "(SELECT s.*, min(ts) OVER ($part2) AS ws, max(ts) OVER ($part2) + $g AS we
		            FROM (SELECT f.*, sum(new) OVER ($part ORDER BY ts) AS sid
		                    FROM (SELECT ev.*, CASE WHEN ts - lag(ts) OVER ($part ORDER BY ts) < $g
		                                            THEN 0 ELSE 1 END AS new
		                            FROM ev WHERE $where) f) s) ev";
	}
	elsif ($w =~ /^sliding $iv(?: step $iv)?$/)
	{
		my $s = "interval '$1'";
		my $p = defined $2 ? "interval '$2'" : "($s / 60)";
		return view_query($spec,
			"(SELECT * FROM ev WHERE $where AND date_bin($p, ts, $o) >
			   date_bin($p, (SELECT max(ts) FROM ev) - $late, $o) - $s) ev");
	}
	else
	{
		die "no oracle for window $w";
	}
	my $i = 0;
	my $q = 'SELECT ws, we, ' . join(', ', (map { $i++; "$_ AS k$i" } @keys), @{ $spec->{aggs} })
	  . " FROM $from GROUP BY ws, we" . join('', map { ", $_" } @keys);
	$q .= " HAVING $spec->{having}" if $spec->{having};
	return $q;
}

# check_ddl_does_not_wait: ordinary DDL of two sessions does not wait on
# streamext.  One session runs $held in a transaction it leaves open; it
# must hold no advisory lock then, and the other session's $other (under a
# lock_timeout: it fails rather than waits) goes through; neither is warned
sub check_ddl_does_not_wait
{
	my ($node, $db, $label, $held, $other) = @_;
	my $s = $node->background_psql($db, on_error_stop => 0);
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query("BEGIN; $held");
	is($s->{stderr}, '', "$label: $held, in a transaction left open");
	$s->{stderr} = '';
	is($node->safe_psql($db, "SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'advisory'"),
		'0', "$label: which holds no advisory lock");
	my ($rc, $out, $err) = $node->psql($db, "SET lock_timeout = '10s'; $other");
	is("$rc|$err", '0|', "$label: $other in another session meanwhile does not wait");
	$s->query_safe('ROLLBACK');
	$s->quit;
}

sub worker_pid
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND datname = current_database()");
}

# streamed_txns is how many transactions PostgreSQL streamed to the worker
# of the database before their commit (the slot's statistics)
sub streamed_txns
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres', q{
SELECT coalesce(sum(stream_txns), 0) FROM pg_stat_replication_slots
 WHERE slot_name = 'streamext_' || (SELECT oid FROM pg_database WHERE datname = current_database())});
}

# streamed_since waits a little for the slot's statistics to show a
# transaction streamed since they were $before
sub streamed_since
{
	my ($node, $before, $db) = @_;
	for (1 .. 100)
	{
		return 1 if streamed_txns($node, $db) > $before;
		Time::HiRes::usleep(200_000);
	}
	return 0;
}

1;

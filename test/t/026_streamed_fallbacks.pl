# A streamed transaction whose events cannot be folded before its commit is
# decoded again from the checkpoint without streaming and applied at its
# commit, as if streaming did not exist: user code failing on one event
# (a transition function, WHERE, FILTER, a group key), a view's owner
# without EXECUTE, a combine function failing when the partial states are
# placed, a transaction that also changes the view or subscription catalog,
# views reloaded while transactions are streamed, savepoints rolled back,
# immediate stops during the fallback.  Every view equals plain SQL over the
# stream less its dead letters, the dead letters are exactly the failing
# events, each once, and a node that cannot stream gives the same.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $s = streamext_node('fb_streamed', "logical_decoding_work_mem = '64kB'\n");
my $n = streamext_node('fb_unstreamed',
	"logical_decoding_work_mem = '1GB'\nstreamext.stream_work_mem = '1GB'\n");
my @nodes = ($s, $n);

my $schema = q{
CREATE EXTENSION streamext;
CREATE ROLE alice LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE TABLE public.ev (id bigint NOT NULL, k int NOT NULL, v int NOT NULL);
SELECT streamext.create_stream('public.ev');
CREATE TABLE public.ev2 (id bigint NOT NULL, k int NOT NULL);
SELECT streamext.create_stream('public.ev2');
CREATE FUNCTION public.picky_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 = 13 THEN RAISE EXCEPTION ''no thirteens''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE public.picky_sum(int) (sfunc = public.picky_trans, stype = int8,
                                        combinefunc = int8pl, initcond = '0');
CREATE FUNCTION public.grumpy_combine(int8, int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 > 1300000 THEN RAISE EXCEPTION ''too much to combine''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE public.grumpy_sum(int) (sfunc = int84pl, stype = int8,
                                         combinefunc = public.grumpy_combine, initcond = '0');
CREATE FUNCTION public.f(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
SELECT streamext.create_view('v_sum', $$ SELECT k, count(*) AS n, sum(v) AS s FROM public.ev GROUP BY k $$);
SELECT streamext.create_view('v_picky', $$ SELECT k, count(*) AS n, public.picky_sum(v) AS s FROM public.ev GROUP BY k $$);
SELECT streamext.create_view('v_where', $$ SELECT k, count(*) AS n FROM public.ev WHERE 1000 / (v - 17) <> 0 GROUP BY k $$);
SELECT streamext.create_view('v_filter',
  $$ SELECT k, count(*) AS n, count(*) FILTER (WHERE 1000 / (v - 19) > 0) AS pos FROM public.ev GROUP BY k $$);
SELECT streamext.create_view('v_key', $$ SELECT 100 / (v - 23) AS g, count(*) AS n FROM public.ev GROUP BY 1 $$);
SELECT streamext.create_view('v_fn', $$ SELECT k, count(*) AS n, sum(public.f(v)) AS s FROM public.ev GROUP BY k $$);
SELECT streamext.create_view('v_grumpy', $$ SELECT count(*) AS n, public.grumpy_sum(v) AS s FROM public.ev $$);
RESET ROLE;
};
for my $node (@nodes)
{
	$node->safe_psql('postgres', $schema);
	wait_caught_up($node);
}

# events whose view v_fn was denied EXECUTE (id ranges)
my @revoked;
my $revoked_sql = sub {
	return 'false' unless @revoked;
	return join(' OR ', map { "id BETWEEN $_->[0] AND $_->[1]" } @revoked);
};
# views created along the way: clean, over every event
my @new_views;

my %oracle = (
	v_sum => q{SELECT k, count(*), sum(v) FROM ev GROUP BY k},
	v_picky => q{SELECT k, count(*), sum(v) FROM ev WHERE v <> 13 GROUP BY k},
	v_where => q{SELECT k, count(*) FROM ev WHERE v <> 17 GROUP BY k},
	v_filter => q{SELECT k, count(*), count(*) FILTER (WHERE v > 19) FROM ev WHERE v <> 19 GROUP BY k},
	v_key => q{SELECT 100 / (v - 23), count(*) FROM ev WHERE v <> 23 GROUP BY 1},
	v_grumpy => q{SELECT count(*), coalesce(sum(v), 0) FROM ev},
);

sub rows
{
	my ($from, $to, $clean) = @_;
	return "INSERT INTO ev SELECT i, i % 7, 30 + i % 97 FROM generate_series($from, $to) i;\n"
	  if $clean;
	# a few failing values (13, 17, 19, 23) among many good ones: each failing
	# event costs the unstreamed path a rewind of its own
	return "INSERT INTO ev SELECT i, i % 7, CASE WHEN i % 2000 < 30 THEN i % 2000 ELSE 30 + i % 97 END"
	  . " FROM generate_series($from, $to) i;\n";
}

my $slot_stats = q{SELECT coalesce(sum(stream_txns), 0) FROM pg_stat_replication_slots
                    WHERE slot_name = 'streamext_' || (SELECT oid FROM pg_database WHERE datname = current_database())};

# check_all: each view equals plain SQL less its dead letters, the dead
# letters are the failing events each once, on both nodes, which agree
sub check_all
{
	my ($label) = @_;
	my $expected_letters = qq{
SELECT 'v_picky', id FROM ev WHERE v = 13
UNION ALL SELECT 'v_where', id FROM ev WHERE v = 17
UNION ALL SELECT 'v_filter', id FROM ev WHERE v = 19
UNION ALL SELECT 'v_key', id FROM ev WHERE v = 23
UNION ALL SELECT 'v_fn', id FROM ev WHERE } . $revoked_sql->();
	my $letters = q{
SELECT v.name::text, (d.event->>'id')::bigint FROM streamext.dead_letters d
  JOIN streamext.view_def v ON v.id = d.view_id
UNION ALL
SELECT s.name::text, (d.event->>'id')::bigint FROM streamext.dead_letters d
  JOIN streamext.subscription_def s ON s.id = d.subscription_id};
	my %views;
	for my $node (@nodes)
	{
		my $name = $node->name;
		wait_caught_up($node);
		check_views($node, 'postgres', "$label ($name)",
			(map { [ $_, $oracle{$_} ] } sort keys %oracle),
			[ 'v_fn', 'SELECT k, count(*), sum(v + 1) FROM ev WHERE NOT (' . $revoked_sql->() . ') GROUP BY k' ],
			(map { [ $_, 'SELECT k, count(*) FROM ev GROUP BY k' ] } @new_views));
		my $r = $node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM (($expected_letters) EXCEPT ALL ($letters)) a),
       (SELECT count(*) FROM (($letters) EXCEPT ALL ($expected_letters)) b),
       (SELECT count(*) FROM ($letters) c)});
		my ($missing, $extra, $all) = split /\|/, $r;
		is("$missing|$extra", '0|0', "$label ($name): the dead letters are the failing events, each once ($all)")
		  or diag($node->safe_psql('postgres',
				"SELECT name, count(*) FROM ($letters) l(name, id) GROUP BY 1 ORDER BY 1"));
		$views{$name} = $node->safe_psql('postgres', join(";\n",
				map { "SELECT * FROM $_ ORDER BY 1, 2" } (sort(keys %oracle), 'v_fn', @new_views)));
	}
	is($views{ $s->name }, $views{ $n->name }, "$label: the streamed and the unstreamed node agree");
}

# on_both runs SQL on both nodes; on the streaming one, checks that it was
# streamed and (with $fallback) decoded again without streaming
sub on_both
{
	my ($label, $sql, $fallback) = @_;
	my $before = $s->safe_psql('postgres', $slot_stats);
	my $offset = -s $s->logfile;
	$_->safe_psql('postgres', $sql) for @nodes;
	wait_caught_up($_) for @nodes;
	# a fallback ends the decoding in the middle of the stream, before
	# PostgreSQL counts it in the slot's statistics: its log line says it
	if ($fallback)
	{
		ok($s->wait_for_log(qr/again without streaming/, $offset), "$label: streamed, then decoded again without streaming");
	}
	else
	{
		ok(streamed_since($s, $before), "$label: streamed");
	}
	is($n->safe_psql('postgres', $slot_stats), '0', "$label: never streamed on the other node");
}

# 1. a clean streamed transaction; then one whose events fail in a
# transition function, WHERE, FILTER and a group key
on_both('clean', "BEGIN;\n" . rows(1, 10000, 1) . "COMMIT;");
check_all('clean streamed transaction');
on_both('user code fails', "BEGIN;\n" . rows(10001, 22000) . "COMMIT;", 1);
check_all('user code failing in a streamed transaction');

# a combine function failing when the partial states are placed at the
# commit (the unstreamed path does not combine)
on_both('combine fails', "BEGIN;\n" . rows(140001, 160000, 1) . "COMMIT;", 1);
check_all('a combine function failing at the commit');

# 2. savepoints rolled back, holding failing events and not
on_both('savepoints',
	"BEGIN;\n" . rows(22001, 28000)
	  . "SAVEPOINT a;\n" . rows(28001, 34000) . "ROLLBACK TO a;\n"
	  . "SAVEPOINT b;\n" . rows(34001, 38000) . "RELEASE b;\n"
	  . "SAVEPOINT c;\n" . rows(38001, 38200) . "ROLLBACK TO c;\n"
	  . rows(38201, 40000) . "COMMIT;", 1);
check_all('savepoints rolled back in a failing streamed transaction');

# 3. the view's owner lost EXECUTE before the transaction: its events are
# set aside for that view while they are streamed, no fallback (a fallback
# reloads the views, and the view would not load while EXECUTE is revoked)
$_->safe_psql('postgres', 'REVOKE EXECUTE ON FUNCTION public.f(int) FROM PUBLIC, alice') for @nodes;
push @revoked, [40001, 52000];
on_both('revoked', "BEGIN;\n" . rows(40001, 52000, 1) . "COMMIT;");
$_->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION public.f(int) TO alice') for @nodes;
on_both('granted again', "BEGIN;\n" . rows(52001, 52400) . "SAVEPOINT a;\n" . rows(52401, 60000) . "COMMIT;", 1);
check_all('EXECUTE revoked then granted');

# 4. create_view in the same transaction as many events
push @new_views, 'v_new1';
on_both('create_view in the transaction',
	"BEGIN;\n" . rows(60001, 66000)
	  . q{SELECT streamext.create_view('v_new1', $$ SELECT k, count(*) AS n FROM public.ev GROUP BY k $$);} . "\n"
	  . rows(66001, 72000) . "COMMIT;", 1);
check_all('create_view in a streamed transaction');

# 5. create_view committed elsewhere while a transaction is streamed (on
# another stream: one on the same stream waits for its producers)
{
	my $offset = -s $s->logfile;
	my $before = $s->safe_psql('postgres', $slot_stats);
	my @h;
	for my $node (@nodes)
	{
		my ($out, $err) = ('', '');
		push @h, IPC::Run::start(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c',
				"BEGIN;\n" . rows(72001, 80000, 1) . "SELECT pg_sleep(3);\n" . rows(80001, 84000) . "COMMIT;"],
			'<', \undef, '>', \$out, '2>', \$err);
	}
	ok(streamed_since($s, $before), 'the transaction is streamed before create_view');
	$_->safe_psql('postgres',
		q{SELECT streamext.create_view('v_new2', $$ SELECT k, count(*) AS n FROM public.ev2 GROUP BY k $$)})
	  for @nodes;
	$_->finish for @h;
	ok($s->wait_for_log(qr/again without streaming: the views were reloaded/, $offset),
		'views reloaded during a streamed transaction: decoded again without streaming');
}
check_all('create_view committed while a transaction is streamed');

# after a crash that cut a streamed transaction, PostgreSQL drops it from
# the worker's decoding at its next snapshot of running transactions (a
# CHECKPOINT writes one); until then the worker does not stream, and the
# next cases need it to
sub settle
{
	$s->safe_psql('postgres', 'CHECKPOINT');
	wait_caught_up($s);
}

# 6. an immediate stop during the fallback of a transaction that never
# commits; then one right after the commit of a failing one
{
	my $offset = -s $s->logfile;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(['psql', '-X', '-d', $s->connstr('postgres'), '-c',
			"BEGIN;\n" . rows(84001, 96000) . "SELECT pg_sleep(60);\nCOMMIT;"],
		'<', \undef, '>', \$out, '2>', \$err);
	ok($s->wait_for_log(qr/again without streaming/, $offset), 'the cut transaction falls back');
	$s->stop('immediate');
	$h->kill_kill;
	$s->start;
	settle();
}
check_all('immediate stop during a fallback');
$_->safe_psql('postgres', "BEGIN;\n" . rows(96001, 108000) . "COMMIT;") for @nodes;
$s->stop('immediate');
$s->start;
settle();
check_all('immediate stop right after a failing streamed commit');

# 7. kill -9 of the worker while it decodes a failing transaction again
{
	my $offset = -s $s->logfile;
	$s->safe_psql('postgres', "BEGIN;\n" . rows(108001, 124000) . "COMMIT;");
	# streamed and decoded again, or (streaming still off after the cut
	# transaction of case 6, until PostgreSQL sees it gone) set aside at
	# the commit: either way the worker decodes a failing transaction again
	ok($s->wait_for_log(qr/again without streaming|sets aside event/, $offset),
		'the worker decodes a failing transaction again');
	my $pid = worker_pid($s);
	kill 'KILL', $pid if $pid;
	$n->safe_psql('postgres', "BEGIN;\n" . rows(108001, 124000) . "COMMIT;");
	# the kill restarts the whole server: it may still be recovering
	$s->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
}
settle();
check_all('worker killed during a fallback');

# 8. create_subscription in the same transaction as many events (last: the
# subscription stays, and its filterless events are streamed from here on)
on_both('create_subscription in the transaction',
	"BEGIN;\n" . rows(124001, 130000)
	  . q{SELECT streamext.create_subscription('feed', 'public.ev', notify => 'none');} . "\n"
	  . rows(130001, 136000) . "COMMIT;", 1);
check_all('create_subscription in a streamed transaction');
for my $node (@nodes)
{
	is($node->safe_psql('postgres', q{SELECT count(*), min((event->>'id')::bigint) FROM streamext.poll('feed', 100000)}),
		'12000|124001', $node->name . ': the subscription got every event of the transaction that created it, as a view does');
}
$s->stop('immediate');
$s->start;
check_all('after a last immediate stop');

ok(!$s->log_contains('terminated by signal [^9]'), 'no process crashed');
done_testing();

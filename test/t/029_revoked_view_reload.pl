# A view whose owner lost EXECUTE on a function it calls is loaded all the
# same when the worker loads its views again (a rewind to the checkpoint
# after a poison event, a restart): its events are set aside as dead
# letters while EXECUTE is revoked and counted again once it is granted.
# Before, the load failed ("cannot maintain continuous view") and the view's
# events were neither counted nor set aside until some later reload.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('revoked_reload');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE ROLE alice LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE TABLE public.ev (id bigint NOT NULL, k int NOT NULL, v int NOT NULL);
SELECT streamext.create_stream('public.ev');
CREATE FUNCTION public.f(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + 1; END';
CREATE FUNCTION public.t_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 + $2; END';
CREATE AGGREGATE public.t_sum(int) (sfunc = public.t_trans, stype = int8, combinefunc = int8pl, initcond = '0');
CREATE FUNCTION public.picky_trans(int8, int) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN IF $2 = 13 THEN RAISE EXCEPTION ''no thirteens''; END IF; RETURN $1 + $2; END';
CREATE AGGREGATE public.picky_sum(int) (sfunc = public.picky_trans, stype = int8, combinefunc = int8pl, initcond = '0');
SELECT streamext.create_view('v_fn', $$ SELECT k, count(*) AS n, sum(public.f(v)) AS s FROM public.ev GROUP BY k $$);
SELECT streamext.create_view('v_agg', $$ SELECT k, count(*) AS n, public.t_sum(v) AS s FROM public.ev GROUP BY k $$);
SELECT streamext.create_view('v_picky', $$ SELECT k, public.picky_sum(v) AS s FROM public.ev GROUP BY k $$);
});

sub insert
{
	my ($from, $to, $poison) = @_;
	my $v = $poison ? "CASE WHEN i = $poison THEN 13 ELSE 20 + i END" : '20 + i';
	$node->safe_psql('postgres',
		"INSERT INTO ev SELECT i, i % 3, $v FROM generate_series($from, $to) i");
	wait_caught_up($node);
}

# the events each view counts: all but those committed while revoked
my @revoked;
sub counted
{
	return 'true' unless @revoked;
	return 'NOT (' . join(' OR ', map { "id BETWEEN $_->[0] AND $_->[1]" } @revoked) . ')';
}

# check compares the views with plain SQL (they cannot be read while their
# owner may not run them: readers compile them as the owner) and their dead
# letters with the events committed while revoked
sub check
{
	my ($label, $readable) = @_;
	my $c = counted();
	if ($readable)
	{
		check_view($node, 'postgres', 'v_fn',
			"SELECT k, count(*), sum(v + 1) FROM ev WHERE $c GROUP BY k", $label);
		check_view($node, 'postgres', 'v_agg',
			"SELECT k, count(*), sum(v) FROM ev WHERE $c GROUP BY k", $label);
	}
	for my $view ('v_fn', 'v_agg')
	{
		is($node->safe_psql('postgres', qq{
SELECT count(*) FROM ((SELECT id FROM ev WHERE NOT ($c)) EXCEPT ALL
  (SELECT (d.event->>'id')::bigint FROM streamext.dead_letters d
     JOIN streamext.view_def w ON w.id = d.view_id WHERE w.name = '$view')) a}),
			'0', "$label: each event committed while revoked is a dead letter of $view");
		is($node->safe_psql('postgres', qq{
SELECT count(*) - count(DISTINCT d.event->>'id') FROM streamext.dead_letters d
  JOIN streamext.view_def w ON w.id = d.view_id WHERE w.name = '$view'}),
			'0', "$label: no event of $view is a dead letter twice");
	}
}

insert(1, 100);
check('before the REVOKE', 1);

# EXECUTE revoked from the owner (its own grant too), on a function of the
# query and on an aggregate's transition function
$node->safe_psql('postgres', q{
REVOKE EXECUTE ON FUNCTION public.f(int) FROM PUBLIC, alice;
REVOKE EXECUTE ON FUNCTION public.t_trans(int8, int) FROM PUBLIC, alice;
});
push @revoked, [101, 300];
insert(101, 200);
my $offset = -s $node->logfile;
# a poison event of another view: the worker rewinds and loads its views again
insert(201, 300, 250);
ok($node->wait_for_log(qr/sets aside event .* for "v_picky": no thirteens/, $offset),
	'the poison event made the worker decode again');
ok($node->log_contains(qr/loads continuous view "v_fn" whose owner may not run it/, $offset),
	'v_fn is loaded although its owner may not run it');
ok(!$node->log_contains(qr/cannot maintain continuous view/, $offset),
	'no view is left unmaintained');
check('revoked, after a rewind');

$node->safe_psql('postgres', q{
GRANT EXECUTE ON FUNCTION public.f(int) TO alice;
GRANT EXECUTE ON FUNCTION public.t_trans(int8, int) TO alice;
});
insert(301, 400);
check('granted again', 1);

# revoked across an immediate stop: the worker starts with the view loaded
$node->safe_psql('postgres', q{
REVOKE EXECUTE ON FUNCTION public.f(int) FROM alice;
REVOKE EXECUTE ON FUNCTION public.t_trans(int8, int) FROM alice;
});
push @revoked, [401, 450];
insert(401, 425);
$node->stop('immediate');
$node->start;
insert(426, 450);
check('revoked across an immediate stop');
$node->safe_psql('postgres', q{
GRANT EXECUTE ON FUNCTION public.f(int) TO alice;
GRANT EXECUTE ON FUNCTION public.t_trans(int8, int) TO alice;
});
insert(451, 500);
check('granted after the restart', 1);

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();

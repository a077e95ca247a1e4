# Version 0.2.  A database still at 0.1 (its functions as 0.1 declared them,
# most not STRICT) served by the 0.2 library: a NULL in any argument of any
# function ends in an error or a result, never in a crash, as 0.1's library
# crashed on drop_view(NULL).  Then ALTER EXTENSION ... UPDATE TO '0.2'
# gives the functions and objects of a new 0.2 installation, strictness
# first.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('upgrade');
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('old', "CREATE EXTENSION streamext VERSION '0.1'");
$node->safe_psql('fresh', 'CREATE EXTENSION streamext');

my $version = "SELECT extversion FROM pg_extension WHERE extname = 'streamext'";
is($node->safe_psql('old', $version), '0.1', 'old is at 0.1');
is($node->safe_psql('fresh', $version), '0.2', 'a new installation is at 0.2');

# the SQL-callable functions and whether each is STRICT
my $strictness = q{
SELECT p.oid::regprocedure, p.proisstrict FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
 ORDER BY p.oid::regprocedure::text};

# at 0.1, the library's own checks are all that stands between a NULL and
# a crash: every non-strict function taking arguments, with all of them NULL
is($node->safe_psql('old', q{
SELECT string_agg(p.proname, ' ' ORDER BY p.proname) FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace AND NOT p.proisstrict
   AND p.proname IN ('drop_view', 'drop_stream', 'wait_caught_up')}),
	'drop_stream drop_view wait_caught_up',
	'at 0.1 the functions that crashed are not STRICT');
my @calls = split /\n/, $node->safe_psql('old', q{
SELECT format('SELECT streamext.%I(%s)', p.proname,
              (SELECT string_agg(format('NULL::%s', t::regtype), ', ' ORDER BY i)
                 FROM unnest(p.proargtypes) WITH ORDINALITY AS u(t, i)))
  FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace AND NOT p.proisstrict AND p.pronargs > 0
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
 ORDER BY 1});
ok(scalar(grep { /drop_view\(NULL::text\)/ } @calls), 'drop_view(NULL) is among the calls');
foreach my $call (@calls)
{
	my ($rc, $out, $err) = $node->psql('old', $call);
	# 0: a result (adopt_restored(NULL) adopts every stream's restored
	# views: none); 3: an ERROR; 2 would be a lost connection
	ok($rc == 0 || ($rc == 3 && $err =~ /ERROR:  .* must not be NULL/),
		"at 0.1: $call") or diag("rc $rc: $err");
}
ok(slurp_file($node->logfile) !~ /terminated by signal/, 'no backend crashed');
is($node->safe_psql('old', 'SELECT 1'), '1', 'the server is up');

# 0.1 -> 0.2
$node->safe_psql('old', "ALTER EXTENSION streamext UPDATE TO '0.2'");
is($node->safe_psql('old', $version), '0.2', 'old is at 0.2');
my $fresh_strict = $node->safe_psql('fresh', $strictness);
is($node->safe_psql('old', $strictness), $fresh_strict,
	'updated and new installations agree on which functions are STRICT');
like($fresh_strict, qr/^streamext\.drop_view\(text\)\|t$/m, 'drop_view is STRICT at 0.2');
like($fresh_strict, qr/^streamext\.wait_caught_up\(interval\)\|t$/m,
	'wait_caught_up is STRICT at 0.2');

# the rest of each function's definition and every member object as well:
# the update must leave nothing a new installation would not have
my $definitions = q{
SELECT p.oid::regprocedure,
       CASE WHEN p.prokind = 'a'
            THEN (SELECT format('%s %s %s', a.aggtransfn, a.aggfinalfn, a.aggtranstype::regtype)
                    FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
            ELSE pg_get_functiondef(p.oid) END,
       p.proacl FROM pg_proc p
 WHERE p.pronamespace = 'streamext'::regnamespace
 ORDER BY p.oid::regprocedure::text};
is($node->safe_psql('old', $definitions), $node->safe_psql('fresh', $definitions),
	'updated and new installations have the same function definitions');
my $members = q{
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'streamext')
 ORDER BY 1};
is($node->safe_psql('old', $members), $node->safe_psql('fresh', $members),
	'updated and new installations have the same member objects');

# the updated database works: a NULL gives NULL, a stream and view count
is($node->safe_psql('old', 'SELECT streamext.drop_view(NULL) IS NULL'), 't',
	'drop_view(NULL) is NULL at 0.2');
$node->safe_psql('old', q{
CREATE TABLE ev (v int, ts timestamptz NOT NULL DEFAULT now());
SELECT streamext.create_stream('ev', 'ts');
SELECT streamext.create_view('ev_total', $$ SELECT count(*) AS n, sum(v) AS s FROM ev $$);
INSERT INTO ev (v) SELECT i FROM generate_series(1, 100) i;});
wait_caught_up($node, 'old');
check_view($node, 'old', 'ev_total', 'SELECT count(*), sum(v) FROM ev', 'after the update');

$node->stop;
done_testing();

# What a reader of a continuous view or a subscription may do: no more than
# its grants allow, and nothing that crashes the server.
#  - read_view(id) AS t(...) must refuse a column definition list whose
#    types are not the view's (a bigint handed to text output crashed).
#  - reading runs the view's functions as the view's owner, with the
#    worker's search_path, not the reader's: a reader's operator must not
#    be found by the owner's SQL function.
#  - row-level security enabled after a subscription was created stops its
#    deliveries.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('reader_boundary');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE ROLE alice LOGIN;
CREATE ROLE mallory LOGIN;
GRANT CREATE ON SCHEMA public TO alice, mallory;
GRANT CREATE ON DATABASE postgres TO mallory;
});
my @alice = (extra_params => ['-U', 'alice']);
my @mallory = (extra_params => ['-U', 'mallory']);

$node->safe_psql('postgres', q{
CREATE TABLE clicks (ts timestamptz NOT NULL DEFAULT now(), page text, ms int);
SELECT streamext.create_stream('clicks', 'ts');
CREATE TABLE alice_secret (s text);
INSERT INTO alice_secret VALUES ('alice-top-secret');
CREATE FUNCTION plus_zero(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 0';
SELECT streamext.create_view('alice_counts', 'SELECT page, plus_zero(count(*)) AS n FROM clicks GROUP BY page');
GRANT SELECT ON alice_counts, clicks TO mallory;
INSERT INTO clicks (page, ms) VALUES ('home', 1);
}, @alice);
wait_caught_up($node);

# 1. the owner's SQL function, run with the owner's rights, resolves "+" in
# the reader's search_path
my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE SCHEMA ms;
GRANT USAGE ON SCHEMA ms TO PUBLIC;
CREATE FUNCTION ms.peek(bigint, int) RETURNS bigint LANGUAGE plpgsql AS $f$
BEGIN
  RAISE NOTICE 'as %: %', current_user, (SELECT string_agg(s, ',') FROM public.alice_secret);
  RETURN $1 OPERATOR(pg_catalog.+) $2;
END $f$;
CREATE OPERATOR ms.+ (leftarg = bigint, rightarg = int, function = ms.peek);
SET search_path = ms, pg_catalog, public;
SELECT * FROM public.alice_counts;
}, @mallory);
unlike($err, qr/alice-top-secret/,
	'a reader\'s operator does not run with the view owner\'s rights')
  or diag($err);

# 2. row-level security turned on after a subscription was made
$node->safe_psql('postgres', q{SELECT streamext.create_subscription('peek_clicks', source => 'clicks')},
	@mallory);
$node->safe_psql('postgres', q{
CREATE POLICY no_secrets ON clicks FOR SELECT USING (page <> 'secret');
ALTER TABLE clicks ENABLE ROW LEVEL SECURITY;
INSERT INTO clicks (page, ms) VALUES ('secret', 42), ('public', 1);
}, @alice);
wait_caught_up($node);
is($node->safe_psql('postgres', q{SELECT count(*) FROM clicks WHERE page = 'secret'}, @mallory), '0',
	'row-level security hides the row from the subscription\'s owner');
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT count(*) FROM streamext.poll('peek_clicks', 100) WHERE event->>'page' = 'secret'}, @mallory);
isnt($out, '1', 'the subscription does not deliver a row that row-level security hides')
  or diag("poll: $out $err");

# 3. read_view with a column definition list of the wrong types
my $id = $node->safe_psql('postgres', q{SELECT id FROM streamext.views WHERE name = 'alice_counts'});
($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM streamext.read_view($id) AS t(page text, n text)", @mallory);
isnt($ret, 2, 'read_view with wrong column types does not lose the connection') or diag($err);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
ok(!$node->log_contains(qr/terminated by signal/), 'no backend crashed');

$node->stop;
done_testing();

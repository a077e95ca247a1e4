# A statement whose first read came while streamext.max_memory cut a view
# short must not read that view later, once it is whole again, as the
# publish it pinned left it: groups that the cut publish did not write are
# missing there.  It gets the view's error instead.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('pins', "streamext.max_memory = '1MB'\n");
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k int NOT NULL, v int);
SELECT streamext.create_stream('ev');
SELECT streamext.create_view('small_v', $$ SELECT k % 3 AS b, count(*) AS n FROM ev GROUP BY 1 $$);
SELECT streamext.create_view('big_v', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k $$);
INSERT INTO ev SELECT i % 40000, i FROM generate_series(1, 80000) i;});
wait_caught_up($node);
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM big_v');
like($err, qr/does not fit in streamext.max_memory/, 'big_v is cut short');

# pinned now: its first read is of small_v, big_v comes at the next fetch
my $reader = $node->background_psql('postgres', on_error_stop => 0);
$reader->query_safe(q{BEGIN;
DECLARE c CURSOR FOR SELECT 'small', count(*) FROM small_v UNION ALL SELECT 'big', count(*) FROM big_v;
FETCH 1 FROM c;});

$node->append_conf('postgresql.conf', "streamext.max_memory = '256MB'\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT count(*) = 40000 FROM big_v})
  or die 'big_v did not become whole again';

my $second = $reader->query('FETCH 1 FROM c');
unlike($second, qr/^big\|/m, 'the pinned statement does not read big_v as its cut publish left it');
$reader->query('ROLLBACK');
$reader->quit;
is($node->safe_psql('postgres', 'SELECT count(*), sum(n) FROM big_v'), '40000|80000',
	'a new statement reads big_v whole');
$node->stop;
done_testing();

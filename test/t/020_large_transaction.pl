# One transaction of a million rows: decoded after its commit (spilled to
# disk by logical_decoding_work_mem), applied once, visible all at once.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('large', "logical_decoding_work_mem = '64kB'\n");
create_click_schema($node);

$node->safe_psql('postgres', q{
INSERT INTO clicks (url, user_id, ms, ts)
SELECT '/p' || (i % 97), i % 5000, i % 700, '2026-01-01 00:00:00+00'::timestamptz + (i % 3600) * interval '1 second'
  FROM generate_series(1, 1000000) i});

# while the worker applies it, readers see none of it or all of it
my %seen;
for (1 .. 400)
{
	my $n = $node->safe_psql('postgres', 'SELECT n FROM total');
	$seen{$n} = 1;
	last if $n eq '1000000';
}
is(join(',', sort { $a <=> $b } keys %seen), '0,1000000',
	'readers saw the transaction whole or not at all')
  or diag('counts seen: ' . join(',', sort { $a <=> $b } keys %seen));

check_click_views($node, 'one transaction of 1M rows');
is($node->safe_psql('postgres', 'SELECT n FROM total'), '1000000', 'total counts 1M events');

done_testing();

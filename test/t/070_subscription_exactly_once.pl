# Subscriptions under concurrent producers, out-of-order commits and faults:
# consumers that poll and ack in a loop receive every matching committed
# event exactly once and in commit order, no rolled-back or non-matching one,
# and a position always names the same event, across a worker kill and a
# server crash.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use StreamextTest;

my $node = streamext_node('subscriptions');
create_click_schema($node);
$node->safe_psql('postgres', q{
SELECT streamext.create_subscription('slow', 'clicks', filter => 'ms % 3 <> 0');
SELECT streamext.create_subscription('everything', 'clicks', notify => 'batch');
});
# the oracle of commit order: PostgreSQL's own test_decoding, from here on
$node->safe_psql('postgres',
	"SELECT pg_create_logical_replication_slot('commit_order', 'test_decoding')");

# 1. commit order is not id order: an early id commits last, and comes last
my $early = $node->background_psql('postgres');
my $early_id = $early->query_safe(
	"BEGIN; INSERT INTO clicks (url, user_id, ms) VALUES ('/early', 1, 1001) RETURNING id;");
$node->safe_psql('postgres', "INSERT INTO clicks (url, user_id, ms) VALUES ('/late1', 1, 1004)");
$node->safe_psql('postgres', "INSERT INTO clicks (url, user_id, ms) VALUES ('/late2', 1, 1007)");
$early->query_safe('COMMIT');
$early->quit;
wait_caught_up($node);
my $late_id = $node->safe_psql('postgres', "SELECT id FROM clicks WHERE url = '/late1'");
ok($early_id < $late_id, "the early transaction got the smaller id ($early_id < $late_id)");
is($node->safe_psql('postgres', "SELECT position, event->>'url' FROM streamext.poll('slow')"),
	"1|/late1\n2|/late2\n3|/early", 'entries follow commit order, not id order');

# 2. producers (with rolled-back transactions) while two consumers poll and
# ack in a loop; the worker is stopped, then the server crashes
my %seen = (slow => {}, everything => {});
my %mismatch = (slow => 0, everything => 0);
my $round = 0;

# consume polls once (2,000 entries while the load runs, more in the drain)
# and acks what it got ('everything' acks every other round only, so entries
# are handed out again and compared); a server that is down just makes this
# round a no-op
sub consume
{
	my ($sub, $limit) = @_;
	$limit //= 2000;
	my ($ret, $out) = $node->psql('postgres',
		"SELECT position, event->>'id' FROM streamext.poll('$sub', $limit)");
	return 0 if $ret != 0 || $out eq '';
	my $last = 0;
	for my $line (split /\n/, $out)
	{
		my ($pos, $id) = split /\|/, $line;
		if (exists $seen{$sub}{$pos})
		{
			$mismatch{$sub}++ if $seen{$sub}{$pos} ne $id;
		}
		$seen{$sub}{$pos} = $id;
		$last = $pos;
	}
	$node->psql('postgres', "SELECT streamext.ack('$sub', $last)")
	  if $sub eq 'slow' || $round % 2;
	return 1;
}

sub consume_for
{
	my ($seconds) = @_;
	my $until = time() + $seconds;
	while (time() < $until)
	{
		$round++;
		consume($_) for qw(slow everything);
		sleep 0.1;
	}
}

my $p = start_producers($node, seconds => 6);
consume_for(2);
my $pid = worker_pid($node);
kill 'TERM', $pid;
consume_for(2);
$node->stop('immediate');
finish_producers($p, 1);
$node->start;
$p = start_producers($node, seconds => 2);
consume_for(2);
finish_producers($p);
wait_caught_up($node);
$round = 1;						# the drain acks every round
for my $sub (qw(slow everything))
{
	1 while consume($sub, 50000);
}

# 3. every matching committed event exactly once, positions gap-free, in
# the order test_decoding saw the commits
my $decoded = $node->safe_psql('postgres', q{
SELECT substring(data from 'id\[bigint\]:(\d+)'), substring(data from 'ms\[integer\]:(-?\d+)')
  FROM pg_logical_slot_get_changes('commit_order', NULL, NULL) WITH ORDINALITY AS c(lsn, xid, data, n)
 WHERE data LIKE 'table public.clicks: INSERT:%' ORDER BY n});
my %in_commit_order = (slow => [], everything => []);
for my $line (split /\n/, $decoded)
{
	my ($id, $ms) = split /\|/, $line;
	push @{ $in_commit_order{everything} }, $id;
	push @{ $in_commit_order{slow} }, $id if $ms % 3 != 0;
}
my @everything = @{ $in_commit_order{everything} };
my $out_of_id_order = grep { $everything[$_] < $everything[ $_ - 1 ] } 1 .. $#everything;
ok($out_of_id_order > 0, "the load committed out of id order $out_of_id_order times");
my %oracle = (
	slow => 'SELECT id FROM clicks WHERE ms % 3 <> 0 ORDER BY id',
	everything => 'SELECT id FROM clicks ORDER BY id');
for my $sub (qw(slow everything))
{
	my @positions = sort { $a <=> $b } keys %{ $seen{$sub} };
	my @ids = sort { $a <=> $b } values %{ $seen{$sub} };
	my %distinct = map { $_ => 1 } @ids;
	my $expected = $node->safe_psql('postgres', $oracle{$sub});
	ok(scalar(@positions) > 1000, "$sub: " . scalar(@positions) . ' entries received');
	is($positions[-1], scalar(@positions), "$sub: positions are 1.." . scalar(@positions) . ', no gap');
	is($mismatch{$sub}, 0, "$sub: a position handed out again names the same event");
	is(scalar(keys %distinct), scalar(@ids), "$sub: no event twice");
	is(join(',', @ids), join(',', split /\n/, $expected),
		"$sub: exactly the matching committed events");
	ok(join(',', map { $seen{$sub}{$_} } @positions) eq join(',', @{ $in_commit_order{$sub} }),
		"$sub: positions follow commit order");
}
is($node->safe_psql('postgres', 'SELECT name, backlog FROM streamext.subscriptions ORDER BY name'),
	"everything|0\nslow|0", 'nothing left unacknowledged');
is($node->safe_psql('postgres', 'SELECT count(*) FROM streamext.subscription_queue'),
	'0', 'acknowledged entries are trimmed');
check_click_views($node, 'views beside subscriptions');

done_testing();

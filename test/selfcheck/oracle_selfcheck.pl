# oracle_selfcheck.pl: the SQL oracles of StreamextTest::window_oracle against
# a brute-force computation in Perl over the same random events (count per
# window and group, for every kind), without any continuous view: when a
# window test fails, this tells whether to suspect the oracle.  Not part of
# the suite (it tests the tests); run it as the TAP files are run:
#   prove -v test/selfcheck/oracle_selfcheck.pl
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('selfcheck');
create_event_stream($node);
my $p = start_event_producers($node, seconds => 5, rate => 400);
finish_producers($p);
my $t0 = $node->safe_psql('postgres', 'SELECT t0 FROM gen');
$node->safe_psql('postgres', qq{
INSERT INTO ev (g, k, v, ts) VALUES (1, 1000, 5, '$t0'::timestamptz + interval '20 seconds');
INSERT INTO ev (g, k, v, ts) VALUES (1, 1000, 7, '$t0'::timestamptz + interval '24 seconds');
INSERT INTO ev (g, k, v, ts) VALUES (2, 1000, 11, '$t0'::timestamptz + interval '22 seconds');});

my $O = q{'2000-01-01 00:00+00'::timestamptz};
my @ev = map { [ split /\|/, $_, -1 ] } split /\n/, $node->safe_psql('postgres',
	"SELECT coalesce(g::text, 'N'), k, coalesce(v::text, 'N'), (extract(epoch from ts - $O) * 1000000)::bigint FROM ev");
note scalar(@ev) . " events";
my $S = 1000000;
sub fl { my ($t, $s) = @_; return $t - ($t % $s); }

my %keyf = (
	'g' => sub { $_[0][0] },
	'k' => sub { $_[0][1] },
	'k % 10' => sub { $_[0][1] % 10 },
	'k % 40' => sub { $_[0][1] % 40 },
);
my %wheref = (
	'' => sub { 1 },
	'v >= 0' => sub { $_[0][2] ne 'N' && $_[0][2] >= 0 },
	'v % 5 <> 0' => sub { $_[0][2] ne 'N' && $_[0][2] % 5 != 0 },
	'k <= 10' => sub { $_[0][1] <= 10 },
);

sub brute
{
	my ($spec) = @_;
	my $kf = $spec->{keys} ? $keyf{ $spec->{keys}[0] } : sub { '' };
	my $wf = $wheref{ $spec->{where} // '' };
	my @e = grep { $wf->($_) } @ev;
	my %n;
	my ($kind, @a) = @{ $spec->{b} };
	if ($kind eq 'hop')
	{
		my ($s, $h) = map { $_ * $S } @a;
		for my $x (@e)
		{
			my $t = $x->[3];
			for (my $w = fl($t, $h); $w > $t - $s; $w -= $h) { $n{ join '|', $w, $w + $s, $kf->($x) }++; }
		}
	}
	elsif ($kind eq 'cum')
	{
		my ($s, $h) = map { $_ * $S } @a;
		for my $x (@e)
		{
			my $t = $x->[3];
			my $d = fl($t, $s);
			for (my $k = 1; $k <= $s / $h; $k++) { $n{ join '|', $d, $d + $k * $h, $kf->($x) }++ if $d + $k * $h > $t; }
		}
	}
	elsif ($kind eq 'sess')
	{
		my $g = $a[0] * $S;
		my %by;
		push @{ $by{ $kf->($_) } }, $_->[3] for @e;
		for my $key (keys %by)
		{
			my @t = sort { $a <=> $b } @{ $by{$key} };
			my ($first, $last, $c) = ($t[0], $t[0], 0);
			for my $t (@t)
			{
				if ($t - $last >= $g) { $n{ join '|', $first, $last + $g, $key } = $c; ($first, $c) = ($t, 0); }
				$last = $t; $c++;
			}
			$n{ join '|', $first, $last + $g, $key } = $c;
		}
	}
	elsif ($kind eq 'slide')
	{
		my ($s, $p, $late) = map { $_ * $S } @a;
		my $max = (sort { $b <=> $a } map { $_->[3] } @ev)[0];
		my $wm = $max - $late;
		for my $x (@e) { $n{ $kf->($x) }++ if fl($x->[3], $p) > fl($wm, $p) - $s; }
	}
	my $min = $spec->{min} // 1;
	return join "\n", sort grep { defined } map { $n{$_} >= $min ? "$_|$n{$_}" : undef } keys %n;
}

my @specs = (
	{ window => 'hopping 10 seconds every 2 seconds', keys => ['g'], b => ['hop', 10, 2] },
	{ window => 'hopping 60 seconds every 1 second', lateness => '15 seconds', keys => ['g'], where => 'v % 5 <> 0', b => ['hop', 60, 1] },
	{ window => 'hopping 6 seconds every 3 seconds', keys => ['k % 10'], having => 'count(*) >= 3', min => 3, b => ['hop', 6, 3] },
	{ window => 'tumbling 10 seconds', keys => ['g'], b => ['hop', 10, 10] },
	{ window => 'cumulate 30 seconds every 5 seconds', keys => ['g'], b => ['cum', 30, 5] },
	{ window => 'cumulate 20 seconds every 1 second', keys => ['g'], where => 'v >= 0', having => 'count(*) > 2', min => 3, b => ['cum', 20, 1] },
	{ window => 'session 3 seconds', keys => ['k'], b => ['sess', 3] },
	{ window => 'session 2 seconds', keys => ['k % 40'], where => 'v >= 0', having => 'count(*) >= 2', min => 2, b => ['sess', 2] },
	{ window => 'session 1 second', where => 'k <= 10', b => ['sess', 1] },
	{ window => 'sliding 30 seconds step 1 second', keys => ['g'], b => ['slide', 30, 1, 0] },
	{ window => 'sliding 1 minute', lateness => '5 seconds', keys => ['k % 10'], where => 'v >= 0', having => 'count(*) > 5', min => 6, b => ['slide', 60, 1, 5] },
	{ window => 'sliding 20 seconds step 2 seconds', keys => ['g'], b => ['slide', 20, 2, 0] },
);
for my $spec (@specs)
{
	$spec->{aggs} = ['count(*) AS n'];
	my $sql = window_oracle($spec);
	my $cols = $spec->{window} =~ /^sliding/ ? "coalesce(k1::text, 'N'), n"
	  : "(extract(epoch from ws - $O) * 1000000)::bigint, (extract(epoch from we - $O) * 1000000)::bigint, "
	  . ($spec->{keys} ? "coalesce(k1::text, 'N')" : "''") . ", n";
	$sql =~ s/^SELECT ws, we, /SELECT ws, we, /;
	my $got = join "\n", sort split /\n/, $node->safe_psql('postgres', "SELECT $cols FROM ($sql) o");
	my $want = brute($spec);
	my $nrows = () = $want =~ /\n/g;
	is($got, $want, "oracle of $spec->{window} (" . ($spec->{where} // '') . ") equals brute force ($nrows rows)");
}
done_testing();

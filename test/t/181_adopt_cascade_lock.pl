# Adopting the views on a restored view does not wait for a closed-window
# table another pg_restore job holds.  pg_restore -j adds the primary key of
# an upper view's closed table (ACCESS EXCLUSIVE, then adopt_ready at the
# command's end, which waits for the adopters' advisory lock) while another
# job adopts the lower view and looks at the upper one: a look that waited
# for the table deadlocked with it, and the primary key was rolled back.
# Here the job adding the key holds its lock a while first, so the two
# always meet; the upper view is adopted by that job at its command's end.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use StreamextTest;

my $node = streamext_node('adopt_cascade_lock');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE s (ts timestamptz NOT NULL, g int, v int);
SELECT streamext.create_stream('s', time_column => 'ts');
SELECT streamext.create_view('l', $$ SELECT g, count(*) AS n FROM s GROUP BY g $$, "window" => 'tumbling 1 second');
SELECT streamext.create_view('u', $$ SELECT g, sum(n) AS n FROM l GROUP BY g $$, "window" => 'tumbling 10 seconds');
INSERT INTO s SELECT '2024-01-01'::timestamptz + i * interval '100 ms', i % 5, 1 FROM generate_series(1, 2000) i;
});
wait_caught_up($node, 'postgres');
my $u_closed = $node->safe_psql('postgres', q{SELECT closed_relid FROM streamext.view_def WHERE name = 'u'});
like($u_closed, qr/^streamext\.closed_\d+$/, 'u has a closed table');

my $dir = PostgreSQL::Test::Utils::tempdir;
my ($out, $err) = run_command(['pg_dump', '-h', $node->host, '-p', $node->port, '-Fc',
	'-f', "$dir/d.dump", 'postgres']);
is($err, '', 'pg_dump');
($out, $err) = run_command(['pg_restore', '-l', "$dir/d.dump"]);
my @list = split /\n/, $out;
my $pkey = (my ($t) = $u_closed =~ /\.(closed_\d+)$/)[0] . '_pkey';
my @held = grep { /CONSTRAINT streamext \S+ \Q$pkey\E / || /TRIGGER public s streamext_wake / } @list;
is(scalar(@held), 2, 'the primary key of u\'s closed table and the stream\'s trigger are listed');
my %held = map { $_ => 1 } @held;
open(my $fh, '>', "$dir/most.list") or die;
print $fh "$_\n" for grep { !$held{$_} } @list;
close $fh;

$node->safe_psql('postgres', 'CREATE DATABASE r');
($out, $err) = run_command(['pg_restore', '-h', $node->host, '-p', $node->port, '-d', 'r',
	'-L', "$dir/most.list", "$dir/d.dump"]);
is($err, '', 'pg_restore of all but the two pieces');

# the job adding the key: holds the table, then adds the key (adopt_ready)
my ($b_out, $b_err) = ('', '');
my $b = IPC::Run::start(['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('r'),
	'-c', 'BEGIN', '-c', "LOCK TABLE $u_closed IN ACCESS EXCLUSIVE MODE", '-c', 'SELECT pg_sleep(3)',
	'-c', "ALTER TABLE ONLY $u_closed ADD CONSTRAINT $pkey PRIMARY KEY (window_start, window_end, _group)",
	'-c', 'COMMIT'], '>', \$b_out, '2>', \$b_err);
sleep 1;
# the job bringing the stream's trigger adopts l, and looks at u meanwhile
$node->safe_psql('r',
	'CREATE TRIGGER streamext_wake AFTER INSERT ON public.s FOR EACH STATEMENT EXECUTE FUNCTION streamext.note_write()');
$b->finish;
unlike($b_err, qr/deadlock/, 'the job adding the primary key does not deadlock');
is($node->safe_psql('r', "SELECT count(*) FROM pg_constraint WHERE conrelid = '$u_closed'::regclass AND contype = 'p'"),
	'1', 'the primary key is restored');
is($node->safe_psql('r', q{SELECT count(*) FROM streamext.view_def d
	WHERE NOT EXISTS (SELECT 1 FROM streamext.view_progress p WHERE p.view_id = d.id)}),
	'0', 'both views adopted');
wait_caught_up($node, 'r');
is($node->safe_psql('r', q{SELECT count(*) FROM (SELECT * FROM u EXCEPT ALL
	SELECT date_bin('10 seconds', window_start, '2000-01-01 00:00+00'),
	       date_bin('10 seconds', window_start, '2000-01-01 00:00+00') + interval '10 seconds', g, sum(n)
	  FROM l GROUP BY 1, 2, 3) x}), '0', 'u equals plain SQL over l');

done_testing();

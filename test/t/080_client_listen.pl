# The client side of subscriptions, as a user's program sees it:
# test/client/listen_test.py LISTENs on a subscription's channel, produces
# committed, rolled-back and non-matching rows, and checks the notifications,
# poll/ack, a notify => 'batch' subscription and examples/subscriber.py.  It
# runs twice in one database: its names are its own, so reruns do not clash.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

# Debian's python3-psycopg2 is installed for /usr/bin/python3
my $python = $ENV{PYTHON} // (-x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3');
my $testdir = $ENV{TESTDIR} // '.';
my $script = "$testdir/test/client/listen_test.py";
my $example = "$testdir/examples/subscriber.py";
my ($pyout, $pyerr) = ('', '');
my $ready = ok(-f $example, "the example is in the test directory ($example)");
$ready = ok(eval { IPC::Run::run([ $python, '-c', 'import psycopg2' ], '>', \$pyout, '2>', \$pyerr) },
	"$python imports psycopg2 (Debian: python3-psycopg2)") && $ready;
if (!$ready)
{
	diag($pyerr);
	done_testing();
	exit;
}

my $node = streamext_node('client');
my $dsn = sprintf('host=%s port=%d dbname=postgres', $node->host, $node->port);

for my $run (1, 2)
{
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ $python, $script, '--dsn', $dsn, '--example', $example ],
			'>', \$out, '2>', \$err, IPC::Run::timeout(180));
	};
	$err .= $@ if $@;
	note($out);
	ok($ok, "listen_test.py passes (run $run)")
	  or diag("stdout:\n$out\nstderr:\n$err");
}

$node->stop;
done_testing();

# Faults during load: the worker stopped (the launcher restarts it), killed
# with SIGKILL (the server restarts), and an immediate-mode server stop.
# After each, no event is lost and none is counted twice.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('crash');
create_click_schema($node);

# 1. SIGTERM: the worker exits, the launcher starts another
my $p = start_producers($node, seconds => 4);
sleep 2;
my $pid = worker_pid($node);
ok($pid, "worker runs (pid $pid)");
kill 'TERM', $pid;
finish_producers($p);
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'streamext worker' AND pid <> $pid")
  or die 'worker was not restarted';
check_click_views($node, 'after worker restart');

# 2. SIGKILL: the postmaster restarts every process
$p = start_producers($node, seconds => 4);
sleep 2;
$pid = worker_pid($node);
kill 'KILL', $pid;
finish_producers($p, 1);
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
$p = start_producers($node, seconds => 2);
finish_producers($p);
check_click_views($node, 'after kill -9 of the worker');

# 3. immediate stop during load, then restart
$p = start_producers($node, seconds => 4);
sleep 2;
$node->stop('immediate');
finish_producers($p, 1);
$node->start;
$p = start_producers($node, seconds => 2);
finish_producers($p);
check_click_views($node, 'after immediate stop');

# and a clean restart keeps everything
$node->restart;
check_click_views($node, 'after clean restart');

done_testing();

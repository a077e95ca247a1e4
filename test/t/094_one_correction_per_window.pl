# A closed window that several late events of one commit correct reaches
# a subscription once, as the view has it after that commit: the late
# events of two panes of one hopping or cumulating window, two late events
# joining one closed session, and two late events that make a new session
# (a window, then, not a correction: it was never delivered).  Each used to
# reach subscribers once per pane or per late event, states that no reader
# ever saw.  'changes' subscriptions get every row late events made; a row
# failing HAVING first does not make the next a correction; a merge of a
# late event into a closed session that fails leaves the session's row as
# it was.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('node');
my %views = (
	hop => q{'hopping 4 seconds every 2 seconds'},
	cum => q{'cumulate 4 seconds every 2 seconds'},
	ses => q{'session 2 seconds'});
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE ev (k text, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts', idle_timeout => NULL);}
	. join('', map {
		"SELECT streamext.create_view('$_', \$\$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k \$\$,
		                              \"window\" => $views{$_}, lateness => '1 second');
		 SELECT streamext.create_subscription('${_}_final', '$_');"
	} sort keys %views));
wait_caught_up($node);

my $t0 = "'2026-01-01 00:00:00+00'::timestamptz";
$node->safe_psql('postgres', "INSERT INTO ev VALUES ('a', 1, $t0 + interval '1 second')");
# a later event moves the watermark past the first one's windows: they close
$node->safe_psql('postgres', "INSERT INTO ev VALUES ('b', 1, $t0 + interval '30 seconds')");
wait_caught_up($node);
# one commit: two late events of key a, in two panes of [0 s, 4 s), joining
# the session [1 s, 3 s); two of key c, making a session closed at once
$node->safe_psql('postgres', "INSERT INTO ev VALUES
  ('a', 10, $t0 + interval '1.5 seconds'), ('a', 100, $t0 + interval '3 seconds'),
  ('c', 7, $t0 + interval '10 seconds'), ('c', 70, $t0 + interval '11 seconds')");
wait_caught_up($node);

for my $view (sort keys %views)
{
	# entries per window and key: at most one of each kind, and the last
	# one equal to the view's row
	my $dup = $node->safe_psql('postgres', qq{
SELECT count(*) FROM (
  SELECT event->>'window_start', event->>'window_end', event->>'k', kind
    FROM streamext.poll('${view}_final', 1000)
   GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d});
	is($dup, '0', "$view: one entry per window, key and kind");
	# a session's correction may end it later: its entries go by start
	my $end = $view eq 'ses' ? '' : "event->>'window_end',";
	my $stale = $node->safe_psql('postgres', qq{
SELECT count(*) FROM (
  SELECT DISTINCT ON (event->>'window_start', $end event->>'k')
         (event->>'window_start')::timestamptz AS ws, (event->>'window_end')::timestamptz AS we,
         event->>'k' AS k, (event->>'n')::bigint AS n, (event->>'s')::bigint AS s
    FROM streamext.poll('${view}_final', 1000)
   ORDER BY event->>'window_start', $end event->>'k', position DESC) e
 WHERE NOT EXISTS (SELECT 1 FROM $view v WHERE v.window_start = e.ws AND v.window_end = e.we
                                          AND v.k = e.k AND v.n = e.n AND v.s = e.s)});
	is($stale, '0', "$view: each window's last entry is the view's row");
}
is($node->safe_psql('postgres', q{
SELECT string_agg(kind || ' ' || (event->>'n') || ' ' || (event->>'s'), ', ' ORDER BY position)
  FROM streamext.poll('hop_final', 1000)
 WHERE event->>'k' = 'a' AND (event->>'window_start')::timestamptz = '2026-01-01 00:00:00+00'}),
	'window 1 1, correction 3 111', 'hopping [0 s, 4 s): the window, then one correction with both panes');
is($node->safe_psql('postgres', q{
SELECT string_agg(kind || ' ' || (event->>'window_start')::timestamptz::time || ' ' || (event->>'n'), ', ' ORDER BY event->>'k', position)
  FROM streamext.poll('ses_final', 1000) WHERE event->>'k' IN ('a', 'c')}),
	'window 00:00:01 1, correction 00:00:01 3, window 00:00:10 2',
	'sessions: the joined session corrected once, the new one a window');

# 'changes' subscribers never saw the late sessions open: they get them
$node->safe_psql('postgres', q{
SELECT streamext.create_subscription('ses_changes', 'ses', emit => 'changes');
SELECT streamext.create_view('ses_big', $$ SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k HAVING sum(v) > 50 $$,
                             "window" => 'session 2 seconds', lateness => '1 second');
SELECT streamext.create_subscription('ses_big_final', 'ses_big');
SELECT streamext.create_view('ses_div', $$ SELECT k, count(*) AS n, 100 / (count(*) - 3) AS d FROM ev WHERE k = 'e' GROUP BY k $$,
                             "window" => 'session 2 seconds', lateness => '1 second');});
wait_caught_up($node);
# key e: a closed session of two events; key f: a late session whose first
# event fails HAVING and whose second passes it; key g: a late session of one
$node->safe_psql('postgres', "INSERT INTO ev VALUES ('e', 1, $t0 + interval '40 seconds'),
  ('e', 1, $t0 + interval '40.5 seconds'), ('b', 1, $t0 + interval '60 seconds')");
wait_caught_up($node);
$node->safe_psql('postgres', "INSERT INTO ev VALUES
  ('f', 7, $t0 + interval '45 seconds'), ('f', 70, $t0 + interval '46 seconds'),
  ('g', 5, $t0 + interval '50 seconds'),
  ('e', 1, $t0 + interval '41 seconds')");
wait_caught_up($node);
is($node->safe_psql('postgres', q{
SELECT string_agg(kind || ' ' || (event->>'k') || ' ' || (event->>'n'), ', ' ORDER BY event->>'k', position)
  FROM streamext.poll('ses_changes', 1000) WHERE event->>'k' IN ('f', 'g')}),
	'correction f 2, correction g 1', "'changes': the sessions late events made");
is($node->safe_psql('postgres', q{
SELECT string_agg(kind || ' ' || (event->>'k') || ' ' || (event->>'n'), ', ' ORDER BY position)
  FROM streamext.poll('ses_big_final', 1000) WHERE event->>'k' = 'f'}),
	'window f 2', 'a late session whose first state failed HAVING is a window');
# e's session had 2 events: with the late one, 100 / (3 - 3) fails
is($node->safe_psql('postgres', q{SELECT n FROM ses_div WHERE k = 'e'}), '2',
	'a merge that fails leaves the closed session as it was');
is($node->safe_psql('postgres', q{SELECT dead_letters FROM streamext.views WHERE name = 'ses_div'}), '1',
	'and sets the late event aside');
$node->stop;
done_testing();

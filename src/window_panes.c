/*-------------------------------------------------------------------------
 *
 * window_panes.c
 *	  Combining panes into windows.  Hopping and cumulating windows keep one
 *	  state per group and pane (a tumbling window of the slide); a window is
 *	  the combination of its panes, made by the checkpoint that closes it
 *	  from the worker's states, and by readers from the published ones.
 *	  This is why an event costs one transition however many windows hold
 *	  it, and why memory grows with panes, not with size/slide.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"

#include "streamext.h"

/*
 * window_combine_panes returns a standalone window holding, for every
 * group, the combined states of the open panes in [start, end).  The caller
 * deletes its cxt.
 */
WindowGroups *
window_combine_panes(ViewPlan *plan, TimestampTz start, TimestampTz end)
{
	WindowGroups *result = palloc0(sizeof(WindowGroups));
	TimestampTz pane;

	window_groups_init(plan, result, false);
	result->start = start;
	for (pane = start; pane < end; pane += plan->window.pane_usec)
	{
		WindowGroups *wg = hash_search(plan->windows, &pane, HASH_FIND, NULL);
		TupleHashIterator it;
		TupleHashEntry entry;

		if (wg == NULL)
			continue;
		InitTupleHashIterator(wg->groups, &it);
		while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		{
			ViewGroup  *from = entry->additional;
			ViewGroup  *into;
			bool		isnew;
			int			i;

			ExecStoreMinimalTuple(entry->firstTuple, plan->keyslot, false);
			into = view_plan_group(plan, result, plan->keyslot, &isnew);
			for (i = 0; i < plan->naggs; i++)
				agg_combine(plan, &plan->aggs[i], &into->values[i], from->values[i].value,
							from->values[i].isnull || from->values[i].noValue, result->cxt);
		}
	}
	return result;
}

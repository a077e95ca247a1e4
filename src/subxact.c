/*-------------------------------------------------------------------------
 *
 * subxact.c
 *	  Running one piece of the worker's work in a subtransaction and keeping
 *	  its error instead of raising it, so that a view that cannot be loaded,
 *	  or an event or row whose expressions fail, is set aside while
 *	  everything else goes on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "streamext.h"

/*
 * run_isolated runs work(arg) in a subtransaction, in the caller's memory
 * context so that what it builds outlives the subtransaction.  Returns NULL
 * when it succeeded, else its error, allocated in the caller's context; the
 * subtransaction is then rolled back.
 */
ErrorData *
run_isolated(void (*work) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		work(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}

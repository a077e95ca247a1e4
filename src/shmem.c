/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The fixed shared memory of streamext: one slot per database with a
 *	  worker, through which the launcher, the workers and the backends find
 *	  and wake each other and the backends find the open-window states.
 *
 *	  The protocol, part by part of a slot (StreamextDbSlot):
 *
 *	  - Assignment and lifecycle, under StreamextState->lock: a slot is
 *	    claimed for a database by its first worker or create_stream and
 *	    freed by the launcher once the database is gone.  The worker sets
 *	    worker_pid and worker_latch when it starts and clears them when it
 *	    exits, then broadcasts progress_cv.  Backends set wanted,
 *	    recheck_extension and stop_requested; the worker and the launcher
 *	    read and clear them.  Whoever sets the worker's latch reads it
 *	    under the lock (streamext_wake_worker).
 *	  - Progress and counters, under the slot's spinlock mutex: only the
 *	    worker writes them; streamext.streams, wait_caught_up() and the
 *	    launcher's lag warning copy them in one critical section.
 *	    published_upto moves only after what it covers is published under
 *	    publish_lock; each move is broadcast on progress_cv.  It never goes
 *	    back while the worker lives: decoding again from its checkpoint,
 *	    the worker leaves it, and readers the area it had published, until
 *	    it has published past it (state_shmem_go_live).
 *	  - The replay handshake, under mutex: replay_dead_letters() numbers a
 *	    request and names its view or subscription; the worker copies the
 *	    request, serves it, sets replay_ok, replay_failed and replay_done
 *	    together, and broadcasts replay_cv.  A lock on dead_letters lets one
 *	    replay run at a time.
 *	  - The published area, under publish_lock (state_shmem.c): the worker
 *	    changes it exclusively, copying only bytes it serialised before; no
 *	    user code (a serial function, say) runs under the lock.  Readers
 *	    attach and copy under a shared lock and deserialise after it.
 *
 *	  A backend that waits for the worker sleeps on a condition variable
 *	  (progress_cv, replay_cv, or slot_claimed_cv while its database has no
 *	  slot yet), with a timeout where the wait has one; the sleep checks for
 *	  interrupts, and an error ends it in AbortTransaction.  The spinlock is
 *	  the innermost lock: nothing else is taken while it is held.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "settings.h"
#include "shmem.h"

StreamextShared *StreamextState = NULL;

/*
 * streamext_shmem_size is the size of the slot array.
 */
static Size
streamext_shmem_size(void)
{
	return add_size(offsetof(StreamextShared, slots),
					mul_size(streamext_max_databases, sizeof(StreamextDbSlot)));
}

/*
 * streamext_shmem_request asks for the slot array and its locks; it runs in
 * the postmaster's shmem_request_hook.
 */
void
streamext_shmem_request(void)
{
	RequestAddinShmemSpace(streamext_shmem_size());
}

/*
 * streamext_shmem_startup creates or attaches the slot array.
 */
void
streamext_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	StreamextState = ShmemInitStruct("streamext", streamext_shmem_size(), &found);
	if (!found)
	{
		int			tranche = LWLockNewTrancheId();
		int			i;

		memset(StreamextState, 0, streamext_shmem_size());
		LWLockInitialize(&StreamextState->lock, tranche);
		ConditionVariableInit(&StreamextState->slot_claimed_cv);
		StreamextState->dsa_tranche = LWLockNewTrancheId();
		StreamextState->max_databases = streamext_max_databases;
		for (i = 0; i < streamext_max_databases; i++)
		{
			StreamextDbSlot *slot = &StreamextState->slots[i];

			slot->area = DSA_HANDLE_INVALID;
			SpinLockInit(&slot->mutex);
			ConditionVariableInit(&slot->progress_cv);
			ConditionVariableInit(&slot->replay_cv);
			LWLockInitialize(&slot->publish_lock, tranche);
		}
	}
	LWLockRelease(AddinShmemInitLock);

	LWLockRegisterTranche(StreamextState->lock.tranche, "streamext");
	LWLockRegisterTranche(StreamextState->dsa_tranche, "streamext_dsa");
}

/*
 * streamext_find_db_slot returns the slot of a database, claiming a free one
 * when create is true.  Callers hold no lock; the slot's database never
 * changes while a worker or a backend of that database can look at it.
 */
StreamextDbSlot *
streamext_find_db_slot(Oid dboid, bool create)
{
	StreamextDbSlot *result = NULL;
	bool		claimed = false;
	int			i;

	if (StreamextState == NULL)
		return NULL;

	LWLockAcquire(&StreamextState->lock, create ? LW_EXCLUSIVE : LW_SHARED);
	for (i = 0; i < StreamextState->max_databases; i++)
	{
		if (StreamextState->slots[i].dboid == dboid)
		{
			result = &StreamextState->slots[i];
			break;
		}
	}
	if (result == NULL && create)
	{
		for (i = 0; i < StreamextState->max_databases; i++)
		{
			StreamextDbSlot *slot = &StreamextState->slots[i];

			if (slot->dboid == InvalidOid)
			{
				/* a free slot: nobody looks at it, its locks are kept */
				memset(slot, 0, STREAMEXT_SLOT_RESET_SIZE);
				slot->dboid = dboid;
				slot->area = DSA_HANDLE_INVALID;
				result = slot;
				break;
			}
		}
		if (result != NULL)
			claimed = true;
	}
	LWLockRelease(&StreamextState->lock);
	if (claimed)
		ConditionVariableBroadcast(&StreamextState->slot_claimed_cv);

	if (result == NULL && create)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many databases use streamext"),
				 errhint("Raise streamext.max_databases (now %d) and restart the server.",
						 streamext_max_databases)));
	return result;
}

/*
 * streamext_wake_launcher sets the launcher's latch.
 */
void
streamext_wake_launcher(void)
{
	Latch	   *latch;

	if (StreamextState == NULL)
		return;
	LWLockAcquire(&StreamextState->lock, LW_SHARED);
	latch = StreamextState->launcher_latch;
	LWLockRelease(&StreamextState->lock);
	/* a latch whose process left is still shared memory: setting it is harmless */
	if (latch)
		SetLatch(latch);
}

/*
 * streamext_wake_worker sets the latch of a database's worker, if it runs.
 * It runs at every commit that wrote a stream: one shared lock, no more.
 */
void
streamext_wake_worker(Oid dboid)
{
	Latch	   *latch = NULL;
	int			i;

	if (StreamextState == NULL)
		return;
	LWLockAcquire(&StreamextState->lock, LW_SHARED);
	for (i = 0; i < StreamextState->max_databases; i++)
	{
		if (StreamextState->slots[i].dboid == dboid)
		{
			latch = StreamextState->slots[i].worker_latch;
			break;
		}
	}
	LWLockRelease(&StreamextState->lock);
	if (latch)
		SetLatch(latch);
}

/*
 * streamext_request_worker tells the launcher that a database needs a
 * worker, e.g. after CREATE EXTENSION or create_stream committed.  The
 * database's slot was claimed by sqlfunc_check_setup() before, where running
 * out of slots is an ordinary error.
 */
void
streamext_request_worker(Oid dboid)
{
	/* runs at commit, where an error would be too late: never claims */
	StreamextDbSlot *slot = streamext_find_db_slot(dboid, false);
	Latch	   *latch;

	if (slot == NULL)
		return;

	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	slot->wanted = true;
	slot->absent = false;
	latch = slot->worker_latch;
	LWLockRelease(&StreamextState->lock);
	if (latch)
		SetLatch(latch);
	streamext_wake_launcher();
}

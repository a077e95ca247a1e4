/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The fixed shared memory of streamext: one slot per database with a
 *	  worker, through which the launcher, the workers and the backends find
 *	  and wake each other and the backends find the open-window states.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/ipc.h"
#include "storage/shmem.h"

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
		StreamextState->dsa_tranche = LWLockNewTrancheId();
		StreamextState->max_databases = streamext_max_databases;
		for (i = 0; i < streamext_max_databases; i++)
		{
			StreamextState->slots[i].area = DSA_HANDLE_INVALID;
			LWLockInitialize(&StreamextState->slots[i].publish_lock, tranche);
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
				LWLock		keep = slot->publish_lock;

				memset(slot, 0, sizeof(StreamextDbSlot));
				slot->publish_lock = keep;
				slot->dboid = dboid;
				slot->area = DSA_HANDLE_INVALID;
				result = slot;
				break;
			}
		}
	}
	LWLockRelease(&StreamextState->lock);

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
	Latch	   *latch = StreamextState ? StreamextState->launcher_latch : NULL;

	if (latch)
		SetLatch(latch);
}

/*
 * streamext_wake_worker sets the latch of a database's worker, if it runs.
 */
void
streamext_wake_worker(Oid dboid)
{
	StreamextDbSlot *slot = streamext_find_db_slot(dboid, false);

	if (slot && slot->worker_latch)
		SetLatch(slot->worker_latch);
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

	if (slot == NULL)
		return;

	LWLockAcquire(&StreamextState->lock, LW_EXCLUSIVE);
	slot->wanted = true;
	slot->absent = false;
	LWLockRelease(&StreamextState->lock);
	if (slot->worker_latch)
		SetLatch(slot->worker_latch);
	streamext_wake_launcher();
}

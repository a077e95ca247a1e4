/*-------------------------------------------------------------------------
 *
 * replay.h
 *	  replay_dead_letters: the SQL function asks, the worker applies the dead
 *	  letters of a view or subscription again.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_REPLAY_H
#define STREAMEXT_REPLAY_H

#include "shmem.h"
#include "utils/hsearch.h"

extern bool replay_dead_letters_now(int32 view_id, int32 sub_id, List *plans,
									List *subs, HTAB *streams, int64 *ok_out,
									int64 *failed_out);

#endif							/* STREAMEXT_REPLAY_H */

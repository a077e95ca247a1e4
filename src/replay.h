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

extern bool replay_dead_letters_now(StreamextDbSlot *slot, List *plans, List *subs,
									HTAB *streams);

#endif							/* STREAMEXT_REPLAY_H */

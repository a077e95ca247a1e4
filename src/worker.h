/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The per-database worker's entry point, started by the launcher by name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_WORKER_H
#define STREAMEXT_WORKER_H

#include "fmgr.h"

extern PGDLLEXPORT void streamext_worker_main(Datum main_arg);

#endif							/* STREAMEXT_WORKER_H */

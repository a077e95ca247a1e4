/*-------------------------------------------------------------------------
 *
 * launcher.h
 *	  The launcher: one background worker that starts a worker for every
 *	  database where streamext is wanted.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_LAUNCHER_H
#define STREAMEXT_LAUNCHER_H

#include "fmgr.h"

extern PGDLLEXPORT void streamext_launcher_main(Datum main_arg);
extern void streamext_register_launcher(void);

#endif							/* STREAMEXT_LAUNCHER_H */

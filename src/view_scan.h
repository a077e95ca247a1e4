/*-------------------------------------------------------------------------
 *
 * view_scan.h
 *	  The planner's lookup scan of continuous views by group key
 *	  (view_scan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_SCAN_H
#define STREAMEXT_VIEW_SCAN_H

extern void view_scan_install(void);

#endif							/* STREAMEXT_VIEW_SCAN_H */

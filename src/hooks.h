/*-------------------------------------------------------------------------
 *
 * hooks.h
 *	  The hooks streamext installs in every backend: utility statements on
 *	  streams, DROP DATABASE and DROP EXTENSION, catalog changes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_HOOKS_H
#define STREAMEXT_HOOKS_H

#include "nodes/nodes.h"
#include "postgres_ext.h"

/* called after every utility statement a backend ran */
typedef void (*UtilityFollower) (Node *parsetree, Oid relid);

extern void streamext_install_hooks(UtilityFollower follower);
extern void streamext_note_catalog_change(void);

#endif							/* STREAMEXT_HOOKS_H */

/*-------------------------------------------------------------------------
 *
 * distributed_delivery.h
 *	  Subscriptions of distributed views, delivered by the coordinator's
 *	  worker (see distributed_delivery.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_DISTRIBUTED_DELIVERY_H
#define STREAMEXT_DISTRIBUTED_DELIVERY_H

extern void distributed_deliver_due(void);

#endif							/* STREAMEXT_DISTRIBUTED_DELIVERY_H */

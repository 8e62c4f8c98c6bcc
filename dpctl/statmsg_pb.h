/* Status messages between the API's JSON and the protobuf form that
 * dpf_statmsg_format prints, so "statmsg list" and "statmsg watch" print
 * exactly the same line. */
#ifndef DPCTL_STATMSG_PB_H
#define DPCTL_STATMSG_PB_H

#include <jansson.h>
#include "dpfleet.pb-c.h"

/* Prints pb as the source's STATMSG line, flushed. */
void dpctl_statmsg_print(const Dpf__StatusMessage *pb);

/* Prints the API's JSON object for one status message as the STATMSG line. */
void dpctl_statmsg_print_json(json_t *o);

/* The API's JSON shape for pb (new object, owned by the caller). */
json_t *dpctl_statmsg_to_json(const Dpf__StatusMessage *pb);

#endif

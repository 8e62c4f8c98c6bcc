/* GET /v1/boundarygroups/{name}: one group (name matched
 * case-insensitively) with its boundaries, neighbors and member DPs, each
 * with whether it is in maintenance mode. */
#include "bg_change.h"

void prov_handle_bg_show(prov_request *req, prov_reply *reply)
{
    char name[PROV_GROUP_NAME_MAX + 1];
    if (prov_bg_name_param(req, reply, name))
        prov_bg_reply_group(req, reply, 200, name);
}

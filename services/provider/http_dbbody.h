/* Streaming a reply whose body is JSON texts made by the database
 * (prov_reply_db) as one HTTP response body; see the .c. */
#ifndef PROV_HTTP_DBBODY_H
#define PROV_HTTP_DBBODY_H

#include <microhttpd.h>
#include "provider.h"

/* A response (owned by the caller, MHD_destroy_response) that streams
 * reply->rows; the rows move into it (reply->rows becomes NULL) and are
 * freed with it. NULL when out of memory (the rows stay with the reply). */
struct MHD_Response *prov_http_db_response(prov_reply *reply);

#endif

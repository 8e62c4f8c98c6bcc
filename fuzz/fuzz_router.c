/* libFuzzer target: the provider's router (router.c) over the real route
 * table (routes.c), and the role lookup made before a body is read
 * (prov_route_roles). Input: method, NUL, path. Asserted: a match names a
 * route of the table whose method is the one asked, the captured segments
 * are NUL-terminated, non-empty when the pattern has them, and free of '/';
 * a 405 lists at least one method. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "provider.h"
#include "router.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)


static void match(const prov_route *routes, size_t nroutes, const char *method, const char *path,
                  size_t plen)
{
    const prov_route *route = NULL;
    char p1[PROV_PARAM_MAX + 1], p2[PROV_PARAM_MAX + 1], allow[64];
    memset(p1, 'x', sizeof p1);
    memset(p2, 'x', sizeof p2);
    memset(allow, 'x', sizeof allow);
    prov_route_result r = prov_route_match(routes, nroutes, method, path, &route, p1,
                                           plen ? p2 : NULL, plen ? plen : sizeof p1, allow,
                                           sizeof allow);
    if (r == PROV_ROUTE_FOUND) {
        CHECK(route >= routes && route < routes + nroutes);
        CHECK(strcmp(route->method, method) == 0);
        CHECK(memchr(p1, 0, sizeof p1) != NULL && strchr(p1, '/') == NULL);
        if (plen)
            CHECK(memchr(p2, 0, sizeof p2) != NULL && strchr(p2, '/') == NULL);
        if (strchr(route->pattern, '{') != NULL)
            CHECK(p1[0] != '\0');
    } else if (r == PROV_ROUTE_BAD_METHOD) {
        CHECK(memchr(allow, 0, sizeof allow) != NULL && allow[0] != '\0');
    } else {
        CHECK(r == PROV_ROUTE_NOT_FOUND);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once("SMS_PROVIDER");
    fuzz_in in = {data, size};
    unsigned small = fuzz_byte(&in) & 1;
    char *method = fuzz_piece(&in, NULL);
    char *path = fuzz_piece(&in, NULL);
    size_t n;
    const prov_route *routes = prov_routes(&n);
    /* the provider's buffers, and small ones (a segment longer than the
     * buffer must not match, never overflow) */
    match(routes, n, method, path, small ? 9 : 0);
    unsigned roles = 7;
    if (prov_route_roles(method, path, &roles))
        CHECK(roles != 0);
    else
        CHECK(roles == 0);
    free(method);
    free(path);
    return 0;
}

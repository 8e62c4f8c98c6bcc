/* Segment-by-segment matching of a path against route patterns. Both are
 * walked in place (no copies, no allocation) so a hostile path of any length
 * costs nothing but the walk. */
#include "router.h"

#include <string.h>

/* Length of the segment starting at s (up to '/' or end). */
static size_t seg_len(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash ? (size_t)(slash - s) : strlen(s);
}

static size_t path_len(const char *path)
{
    size_t n = strlen(path);
    if (n > 1 && path[n - 1] == '/')
        n--;
    return n;
}

static void clear_params(char *const params[2], size_t param_len)
{
    for (int i = 0; i < 2; i++) {
        if (params[i] != NULL && param_len > 0)
            params[i][0] = '\0';
    }
}

/* 1 if pattern matches path[0..plen), capturing up to two {param} segments. */
static int pattern_match(const char *pattern, const char *path, size_t plen,
                         char *const params[2], size_t param_len)
{
    const char *p = pattern, *s = path, *end = path + plen;
    int captured = 0;
    clear_params(params, param_len);
    while (*p != '\0' && s < end) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        size_t pl = seg_len(p);
        size_t sl = seg_len(s);
        if (s + sl > end)
            sl = (size_t)(end - s);
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (sl == 0 || sl >= param_len || captured >= 2 || params[captured] == NULL)
                return 0;
            memcpy(params[captured], s, sl);
            params[captured][sl] = '\0';
            captured++;
        } else if (pl != sl || memcmp(p, s, pl) != 0) {
            return 0;
        }
        p += pl;
        s += sl;
    }
    return *p == '\0' && s == end;
}

static void allow_add(char *allow, size_t allow_len, const char *method)
{
    size_t used = strlen(allow), mlen = strlen(method);
    /* two patterns may match the same path with the same method */
    for (const char *a = allow; (a = strstr(a, method)) != NULL; a += mlen) {
        if ((a == allow || a[-1] == ' ') && (a[mlen] == '\0' || a[mlen] == ','))
            return;
    }
    size_t sep = used ? 2 : 0;
    if (used + sep + mlen + 1 > allow_len)
        return;
    memcpy(allow + used, ", ", sep);
    memcpy(allow + used + sep, method, mlen + 1);
}

prov_route_result prov_route_match(const prov_route *routes, size_t n, const char *method,
                                   const char *path, const prov_route **route, char *param,
                                   char *param2, size_t param_len, char *allow,
                                   size_t allow_len)
{
    int path_known = 0;
    size_t plen = path_len(path);
    char *const params[2] = {param, param2};
    *route = NULL;
    if (allow_len > 0)
        allow[0] = '\0';
    clear_params(params, param_len);
    if (path[0] != '/')
        return PROV_ROUTE_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        const prov_route *r = &routes[i];
        if (!pattern_match(r->pattern, path, plen, params, param_len))
            continue;
        if (strcmp(r->method, method) == 0) {
            *route = r;
            return PROV_ROUTE_FOUND;
        }
        path_known = 1;
        allow_add(allow, allow_len, r->method);
    }
    clear_params(params, param_len);
    return path_known ? PROV_ROUTE_BAD_METHOD : PROV_ROUTE_NOT_FOUND;
}

/* libFuzzer target: boundary and CIDR parsing (validate_bg.c: a boundary
 * group's subnets "addr/len" and ranges "a-b", and the client address of
 * GET /v1/contentlocation), and the listen addresses of every HTTP server
 * (lib/src/netaddr.c, numeric forms only: a host name would ask DNS).
 * Asserted: an accepted boundary's canonical text is accepted again and
 * gives the same object (so what is stored is what was checked), a subnet
 * has no host bits, a range's start is not after its end, and a client
 * address's canonical text parses back to itself. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/netaddr.h>

#include "fuzz_util.h"
#include "validate_bg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void boundary(const char *text)
{
    json_t *b = NULL;
    char why[256];
    memset(why, 'x', sizeof why);
    if (!prov_bg_boundary_parse(text, &b, why, sizeof why)) {
        CHECK(b == NULL && memchr(why, 0, sizeof why) != NULL && why[0] != '\0');
        return;
    }
    CHECK(json_is_object(b));
    const char *kind = json_string_value(json_object_get(b, "kind"));
    const char *value = json_string_value(json_object_get(b, "value"));
    CHECK(kind != NULL && value != NULL && strlen(value) < PROV_BG_VALUE_MAX);
    if (strcmp(kind, "subnet") == 0) {
        const char *net = json_string_value(json_object_get(b, "net"));
        CHECK(net != NULL);
        /* no host bits: the network address with its length is the text */
        char addr[64];
        const char *slash = strchr(net, '/');
        CHECK(slash != NULL && (size_t)(slash - net) < sizeof addr);
        memcpy(addr, net, (size_t)(slash - net));
        addr[slash - net] = '\0';
        unsigned char raw[16];
        int v6 = strchr(addr, ':') != NULL;
        CHECK(inet_pton(v6 ? AF_INET6 : AF_INET, addr, raw) == 1);
        int bits = atoi(slash + 1), max = v6 ? 128 : 32;
        CHECK(bits >= 0 && bits <= max);
        for (int i = bits; i < max; i++)
            CHECK((raw[i / 8] & (0x80 >> (i % 8))) == 0);
    } else {
        CHECK(strcmp(kind, "range") == 0);
        const char *a = json_string_value(json_object_get(b, "start"));
        const char *e = json_string_value(json_object_get(b, "end"));
        CHECK(a != NULL && e != NULL);
        unsigned char ra[16], re[16];
        int v6 = strchr(a, ':') != NULL;
        CHECK(v6 == (strchr(e, ':') != NULL));
        CHECK(inet_pton(v6 ? AF_INET6 : AF_INET, a, ra) == 1);
        CHECK(inet_pton(v6 ? AF_INET6 : AF_INET, e, re) == 1);
        CHECK(memcmp(ra, re, v6 ? 16 : 4) <= 0);
    }
    json_t *again = NULL;
    CHECK(prov_bg_boundary_parse(value, &again, why, sizeof why));
    CHECK(json_equal(b, again));
    json_decref(again);
    json_decref(b);
}

static void address(const char *text)
{
    char canon[64], again[64];
    if (!prov_bg_address_parse(text, canon, sizeof canon))
        return;
    CHECK(memchr(canon, 0, sizeof canon) != NULL);
    CHECK(prov_bg_address_parse(canon, again, sizeof again));
    CHECK(strcmp(canon, again) == 0);
}

static void listen_addr(const char *text)
{
    /* numeric forms only: a name would be looked up */
    if (strspn(text, "0123456789abcdefABCDEF.:[]%") != strlen(text))
        return;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (dpf_listen_resolve(text, &ss, &len) == DPF_OK)
        CHECK(len > 0 && len <= sizeof ss && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once("SMS_PROVIDER");
    char *s = fuzz_strndup(data, size);
    boundary(s);
    address(s);
    listen_addr(s);
    free(s);
    return 0;
}

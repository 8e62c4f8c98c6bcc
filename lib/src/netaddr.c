/* Listen addresses: the one parser of "host:port" for dpfleet's HTTP
 * servers (see netaddr.h). */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "dpf/netaddr.h"

dpf_status dpf_listen_resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
    char host[256], port[16];
    if (listen == NULL)
        return DPF_ERR_INVALID;
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= sizeof port)
        return DPF_ERR_INVALID;
    size_t hlen = (size_t)(colon - listen);
    const char *h = listen;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return DPF_ERR_INVALID;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, strlen(colon + 1) + 1);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(hlen ? host : NULL, port, &hints, &res) != 0 || res == NULL)
        return DPF_ERR_INVALID;
    if (res->ai_addrlen > sizeof *ss) {
        freeaddrinfo(res);
        return DPF_ERR_INVALID;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return DPF_OK;
}

unsigned dpf_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

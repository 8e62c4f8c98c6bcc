/* The SQL of content location (GET /v1/contentlocation): which package is
 * asked for, and every DP a client at an address could be sent to, tier by
 * tier, with what decides whether it is. Read-only; one statement each,
 * every value a parameter. Strings are borrowed. */
#ifndef PROV_STORE_LOCATION_H
#define PROV_STORE_LOCATION_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/status.h>

/* DPF_OK if package id exists, DPF_ERR_NOT_FOUND if not. */
dpf_status prov_store_loc_package(dpf_db *db, const char *id) DPF_MUSTCHECK;

/* Column indexes of prov_store_loc_candidates' rows. */
enum {
    PROV_LOC_TIER,     /* 0 current group, 1 neighbor of one, 2 the site default */
    PROV_LOC_MINUTES,  /* 0, the neighbor's fallback time, the default's */
    PROV_LOC_GROUP,    /* the group's name */
    PROV_LOC_SERVER,   /* a member DP's server name; NULL for a group without DPs */
    PROV_LOC_BASE,     /* its content_base */
    PROV_LOC_STATE,    /* its dp_packages state for the package; NULL if none */
    PROV_LOC_MAINT,    /* 't' when in maintenance mode */
    PROV_LOC_ACTION,   /* 0, or 3 while being removed */
    PROV_LOC_INSTALL,  /* its install_state */
};

/* For a client at address (text PostgreSQL casts to inet) and package id:
 * one row per (tier, group, member DP), the groups whose boundaries contain
 * the address (a subnet: net >>= address; a range: same family and between
 * its ends) as tier 0, their neighbors that are not current groups as
 * tier 1 (with the shortest fallback time any current group gives them),
 * the site default group of the package's site as tier 2; ordered by tier,
 * minutes, group name, server name. *out owned by the caller. */
dpf_status prov_store_loc_candidates(dpf_db *db, const char *address, const char *id,
                                     dpf_db_result **out) DPF_MUSTCHECK;

#endif

/* db.c: being written; see lib/include/dpf/db.h. */

/* statmsg.c: being written; see lib/include/dpf/statmsg.h. */

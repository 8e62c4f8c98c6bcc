/* bus.c: being written; see lib/include/dpf/bus.h. */

/* Texts for dpf_status. Kept beside the enum's order in status.h; the switch
 * (rather than a table) lets the compiler warn when a value is added there
 * and forgotten here. */
#include "dpf/status.h"

const char *dpf_status_text(dpf_status s)
{
    switch (s) {
    case DPF_OK: return "ok";
    case DPF_ERR_NOMEM: return "out of memory";
    case DPF_ERR_INVALID: return "invalid argument";
    case DPF_ERR_NOT_FOUND: return "not found";
    case DPF_ERR_CONFLICT: return "already exists";
    case DPF_ERR_DB: return "database error";
    case DPF_ERR_BUS: return "message bus error";
    case DPF_ERR_TIMEOUT: return "timed out";
    case DPF_ERR_IO: return "I/O error";
    case DPF_ERR_DECODE: return "could not decode";
    case DPF_ERR_VERIFY: return "verification failed";
    case DPF_ERR_STEP: return "step failed";
    case DPF_ERR_BUSY: return "busy";
    case DPF_ERR_NO_STREAM: return "no such JetStream stream or consumer";
    case DPF_HELP_SHOWN: return "help shown";
    }
    return "unknown status";
}

/* Conversions for status messages. The JSON keys are the API's (GET
 * /v1/statmsgs), so a script reading "dpctl --json statmsg watch" and one
 * reading the API see the same objects. */
#include "statmsg_pb.h"

#include <stdio.h>
#include <stdlib.h>

#include <dpf/statmsg.h>

#define NISTR 10

void dpctl_statmsg_print(const Dpf__StatusMessage *pb)
{
    char line[2048];
    size_t need = dpf_statmsg_format(pb, line, sizeof line);
    char *text = line;
    if (need >= sizeof line && (text = malloc(need + 1)) != NULL)
        dpf_statmsg_format(pb, text, need + 1);
    else if (text == NULL)
        text = line;
    flockfile(stdout);
    fputs(text, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);
    if (text != line)
        free(text);
}

static char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return (char *)(s ? s : "");
}

void dpctl_statmsg_print_json(json_t *o)
{
    Dpf__StatusMessage pb = DPF__STATUS_MESSAGE__INIT;
    Dpf__StatusAttribute attr[DPF_STATMSG_MAX_ATTRS];
    Dpf__StatusAttribute *attrp[DPF_STATMSG_MAX_ATTRS];
    char *istr[NISTR];
    pb.id = (uint32_t)json_integer_value(json_object_get(o, "msgId"));
    pb.severity = str(o, "severity");
    pb.level = str(o, "level");
    pb.source = str(o, "source");
    pb.component = str(o, "component");
    pb.system = str(o, "system");
    pb.site = str(o, "site");
    pb.pid = (uint32_t)json_integer_value(json_object_get(o, "pid"));
    pb.tid = (uint64_t)json_integer_value(json_object_get(o, "tid"));
    pb.time_ms = json_integer_value(json_object_get(o, "timeMs"));
    pb.correlation_id = str(o, "correlationId");
    pb.record_id = json_integer_value(json_object_get(o, "id"));
    json_t *is = json_object_get(o, "istr");
    for (size_t i = 0; i < NISTR && i < json_array_size(is); i++) {
        const char *s = json_string_value(json_array_get(is, i));
        istr[pb.n_istr++] = (char *)(s ? s : "");
    }
    pb.istr = istr;
    json_t *as = json_object_get(o, "attrs");
    for (size_t i = 0; i < DPF_STATMSG_MAX_ATTRS && i < json_array_size(as); i++) {
        json_t *a = json_array_get(as, i);
        dpf__status_attribute__init(&attr[i]);
        attr[i].id = (uint32_t)json_integer_value(json_object_get(a, "id"));
        attr[i].value = str(a, "value");
        attrp[pb.n_attrs++] = &attr[i];
    }
    pb.attrs = attrp;
    dpctl_statmsg_print(&pb);
}

json_t *dpctl_statmsg_to_json(const Dpf__StatusMessage *pb)
{
    json_t *istr = json_array(), *attrs = json_array();
    for (size_t i = 0; i < pb->n_istr; i++)
        json_array_append_new(istr, json_string(pb->istr[i] ? pb->istr[i] : ""));
    for (size_t i = 0; i < pb->n_attrs; i++)
        json_array_append_new(attrs, json_pack("{s:i, s:s}", "id", (int)pb->attrs[i]->id, "value",
                                               pb->attrs[i]->value ? pb->attrs[i]->value : ""));
    return json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:s}",
                     "id", (json_int_t)pb->record_id, "msgId", (int)pb->id,
                     "severity", pb->severity ? pb->severity : "", "level", pb->level ? pb->level : "",
                     "source", pb->source ? pb->source : "", "component", pb->component ? pb->component : "",
                     "system", pb->system ? pb->system : "", "site", pb->site ? pb->site : "",
                     "pid", (json_int_t)pb->pid, "tid", (json_int_t)pb->tid, "timeMs", (json_int_t)pb->time_ms,
                     "istr", istr, "attrs", attrs,
                     "correlationId", pb->correlation_id ? pb->correlation_id : "");
}

/* exec.c - an op's scratch memory: its plan's workspace or the shared one
 * (rv_exec.h). */
#include "rv_alloc.h"
#include "rv_exec.h"

rv_status rv_exec_workspace(const rv_conv_exec *e, rv_device dev, size_t bytes, float **ws)
{
    if (!e || !e->workspace) {
        *ws = rv_workspace(dev, bytes);
        return *ws ? RV_OK : RV_ENOMEM;
    }
    *ws = NULL;
    if (rv_tensor_bytes(e->workspace) < bytes || e->workspace->device != dev)
        return rv_error(RV_EINVAL,
                        "conv: the plan's workspace holds %zu bytes, this call needs %zu (was "
                        "the plan made for this input shape and thread count?)",
                        rv_tensor_bytes(e->workspace), bytes);
    *ws = e->workspace->data;
    return RV_OK;
}

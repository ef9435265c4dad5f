/* rv_sgd.h - stochastic gradient descent with momentum (Nesterov) and weight decay.
 *
 * The update of torch.optim.SGD(params, lr, momentum, dampening=0,
 * weight_decay, nesterov), element by element, in float32 and in PyTorch's
 * order, for each parameter p with gradient g and momentum buffer b:
 *   g' = g + wd * p                   (only where the parameter decays)
 *   b  = g'                           on the first step (PyTorch's buffer is None)
 *   b  = momentum * b + g'            on every later step
 *   g''= g' + momentum * b            (nesterov; plain momentum: g'' = b)
 *   p  = p - lr * g''
 * With momentum 0 there is no buffer: p = p - lr * g'.
 *
 * Which parameters decay is a flag per parameter. PyTorch decays every
 * parameter of a parameter group; the usual choice, no decay on BN's gamma
 * and beta and on biases, is made there with a second group whose
 * weight_decay is 0, and here with decay = 0 on those parameters.
 */
#ifndef RV_SGD_H
#define RV_SGD_H

#include <stdint.h>

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    float momentum;     /* in [0, 1): 0.9 */
    float weight_decay; /* >= 0: 5e-4 */
    int nesterov;       /* 1: Nesterov's momentum (needs momentum > 0), 0: plain */
    int64_t steps;      /* steps taken; 0: no buffer holds anything yet (checkpointed) */
} rv_sgd;

/* One parameter: three tensors of the same shape on the CPU. */
typedef struct {
    const char *name;      /* names it in error messages (NULL: "parameter <i>") */
    rv_tensor *param;      /* updated in place */
    const rv_tensor *grad; /* read only, as PyTorch leaves p.grad as it was */
    rv_tensor *buf;        /* the momentum buffer (unused, may be NULL, at momentum 0) */
    int decay;             /* 1: weight decay applies to this parameter */
} rv_sgd_param;

/* One step of the update above at learning rate lr (>= 0) over the n
 * parameters ps, then opt->steps + 1. On RV_EINVAL (a bad setting or a
 * shape, device or buffer that does not fit, named) nothing has changed. */
rv_status rv_sgd_step(rv_sgd *opt, float lr, const rv_sgd_param *ps, int n);

#ifdef __cplusplus
}
#endif
#endif

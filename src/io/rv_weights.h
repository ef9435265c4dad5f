/* rv_weights.h - a RepVGG network to and from named tensors (a state_dict).
 *
 * Two naming layouts, told apart by the names:
 *   notebook  the seed notebook's RepVGG: stages.{s}.{b}.block.0.weight (3x3
 *             conv), .block.1.* (its BN), .shortcut.0.weight (1x1 conv),
 *             .shortcut.1.* (its BN), .identity.* (identity BN); after
 *             switch_to_fast: stages.{s}.{b}.conv.{weight,bias}. No head.
 *   official  the paper's reference code: stage0.*, stage{1..4}.{b}.*, each
 *             block rbr_dense.conv.weight, rbr_dense.bn.*, rbr_1x1.conv.weight,
 *             rbr_1x1.bn.*, rbr_identity.*; deploy form rbr_reparam.{weight,
 *             bias}; head linear.{weight,bias} after global average pooling.
 * A BN is {weight (gamma), bias (beta), running_mean, running_var}.
 * The architecture comes from the tensors: shapes give channels and groups,
 * the first block of every stage has stride 2, the identity branch exists
 * where its tensors do (and only where in == out and stride == 1).
 */
#ifndef RV_WEIGHTS_H
#define RV_WEIGHTS_H

#include "rv_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RV_LAYOUT_NOTEBOOK = 0, RV_LAYOUT_OFFICIAL = 1 } rv_layout;

const char *rv_layout_name(rv_layout l);
rv_status rv_layout_parse(const char *s, rv_layout *out);

/* Builds *net on dev from n named CPU tensors (BN num_batches_tracked and
 * other integer tensors are the reader's to drop). `file` names the source
 * in error messages. Checks every name, shape, the chaining of channels,
 * NaN/Inf and negative running_var. */
rv_status rv_weights_to_net(const rv_named *ts, int n, const char *file, rv_device dev, rv_net *net,
                            rv_layout *layout);

/* The named tensors of net (either form) in `layout`, as host copies, in
 * state_dict order; free with rv_named_free. */
rv_status rv_net_to_weights(const rv_net *net, rv_layout layout, rv_named **out, int *n);

#ifdef __cplusplus
}
#endif
#endif

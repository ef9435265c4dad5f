/* rv_notebook.h - what the source notebook printed, quoted wherever the
 * course sets our measurements beside it (these are not measurements of
 * ours). Its In [5] timed lesson 01's two forms, conv1(x) + conv2(x) and the
 * fused conv, on a 4x8x7x7 input on its GPU: the first call of each, two
 * branches first, host clock, no warm-up and no synchronisation.
 */
#ifndef RV_NOTEBOOK_H
#define RV_NOTEBOOK_H

#define RV_NOTEBOOK_TWO_BRANCH_S 0.182160 /* seconds, "conv1(x) + conv2(x) tooks" */
#define RV_NOTEBOOK_FUSED_S 0.000163      /* seconds, "conv_fused(x) tooks" */

#endif

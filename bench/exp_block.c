/* exp_block.c - block.tsv: one RepVGG block C -> C, stride 1, batch 1,
 * train-time against deploy-time, over channels at 56x56 and resolution at
 * 64 channels, with the activations each form holds.
 *
 * FLOPs: 2 x multiply-adds; a conv does N*O*P*Q*(C/groups)*KH*KW of them, and
 * each form is charged what it computes (train: the 3x3 and the 1x1 conv,
 * 10/9 of the deploy-time 3x3's).
 */
#include "bench.h"
#include "rv_block.h"

int bench_block_shape(const bench_run *run, int sweep, int k, int *c, int *s)
{
    static const int channels[] = {16, 32, 64, 128, 256, 512}, sizes[] = {14, 28, 56, 112, 224};
    if (k >= (run->quick ? 2 : sweep ? 5 : 6)) return 0;
    *c = sweep ? 64 : channels[k];
    *s = sweep ? sizes[k] : 56;
    if (run->quick) *c = sweep ? 8 : 8 * (k + 1), *s = sweep ? 7 * (k + 1) : 7;
    return 1;
}

static rv_status run_block(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    int repeat = run->quick ? 3 : 10, c, s;
    rv_status st = RV_OK;
    for (int d = 0; d < run->here.n && st == RV_OK; d++)
        for (int sweep = 0; sweep < 2 && st == RV_OK; sweep++)
            for (int k = 0; bench_block_shape(run, sweep, k, &c, &s) && st == RV_OK; k++) {
                rv_device dev = run->here.dev[d];
                bench_progress(run, "block on %s: %d channels, %dx%d", rv_device_name(dev), c, s,
                               s);
                rv_block_pair bp;
                rv_form_result r[2];
                rv_block_spec spec;
                if ((st = rv_repvgg_block_spec(c, c, 1, 1, &spec)) != RV_OK ||
                    (st = rv_block_pair_build(&bp, spec, dev, 1, s, 4)) != RV_OK)
                    break;
                st = bench_measure_pair(rv_block_pair_train, &bp, rv_block_pair_fast, &bp, dev,
                                        repeat, r);
                /* activations each form holds: x, its buffers (train: the branch
                 * buffer and y; deploy: y), as the tracking allocator counted them */
                size_t x_bytes = rv_tensor_bytes(&bp.x), held[2] = {bp.held[0], bp.held[1]};
                rv_block_pair_free(&bp);
                double macs3 = (double)c * c * 9 * s * s;
                for (int f = 0; f < 2 && st == RV_OK; f++) {
                    double macs = f ? macs3 : macs3 * 10 / 9;
                    bench_row(&out[0].rows, "%s\t%s\t%d\t%d\t%s\t",
                              sweep ? "resolution" : "channels", rv_device_name(dev), c, s,
                              f ? "deploy" : "train");
                    bench_time_row(&out[0].rows, &r[f]);
                    bench_row(&out[0].rows, "\t%.3f\t%zu\n", 2 * macs / (r[f].time.median_ms * 1e6),
                              x_bytes + held[f] + r[f].peak_bytes);
                }
            }
    return st;
}

const bench_experiment bench_exp_block = {
    .title = "one RepVGG block",
    .files = {{.name = "block.tsv",
               .what = "one RepVGG block C -> C, stride 1, "
                       "batch 1; activation_bytes = x, y, the branch buffer (train) and the "
                       "workspace",
               .columns = "sweep\tdevice\tchannels\tsize\tform\tmedian_ms\tmin_ms\t"
                          "max_ms\tpeak_bytes\tgflops\tactivation_bytes"}},
    .where = BENCH_EACH_DEVICE,
    .run = run_block,
};

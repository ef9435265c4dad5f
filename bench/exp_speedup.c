/* exp_speedup.c - speedup.tsv: deploy-time over train-time speed-up (median
 * over median) of each step the pairs experiment measures, at its reference
 * size, and of each network at batch 1, as those experiments recorded them
 * (bench_record_speedup). Run last: its header holds the run's time.
 */
#include "bench.h"
#include "rv_timing.h"

static rv_status run_speedup(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    for (int d = 0; d < run->here.n; d++)
        for (int k = 0; k < run->n_speedups; k++) {
            const bench_speedup *s = &run->speedups[k];
            if (s->dev == run->here.dev[d])
                bench_row(&out[0].rows, "%s\t%s\t%.5f\t%.5f\t%.3f\n", s->name,
                          rv_device_name(s->dev), s->train_ms, s->deploy_ms,
                          s->train_ms / s->deploy_ms);
        }
    bench_row(&out[0].what,
              "deploy/train speed-up (median over median); steps at %s, networks at batch 1, %s\n"
              "# run time: %.0f s (every experiment of this run; drawing the charts not included)",
              run->quick ? "16 channels 14x14" : "64 channels 56x56",
              run->quick ? "32x32" : "224x224", (rv_now_ms() - run->t0_ms) / 1e3);
    return RV_OK;
}

const bench_experiment bench_exp_speedup = {
    .title = "deploy/train speed-ups",
    .files = {{.name = "speedup.tsv",
               .what = NULL, /* its sizes and the run's time: run_speedup */
               .columns = "step\tdevice\ttrain_ms\tdeploy_ms\tspeedup"}},
    .where = BENCH_EACH_DEVICE,
    .run = run_speedup,
};

/* exp_networks.c - networks.tsv: RepVGG A0, A1 and B0, train-time against
 * deploy-time, over batch size on a 3-channel square input, with the memory
 * of one forward in its parts: the plan's activation buffers, its workspace,
 * the weights it prepared for the CPU's kernels (Winograd-domain or packed),
 * as rv_plan_describe reports them. Batch 1 goes on to speedup.tsv.
 */
#include <stdio.h>

#include "bench.h"
#include "rv_arch.h"
#include "rv_net.h"
#include "rv_plan.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

/* Both forms of a net on dev, on one input: each form's peak is its plan's
 * bytes (buffers, prepared weights, workspace) and what a forward adds,
 * their times interleaved, what each plan holds, and the CUDA launches of
 * one forward. */
static rv_status time_nets(rv_net *nets[2], rv_device dev, int batch, int size, int repeat,
                           rv_form_result r[2], rv_plan_info info[2], long launches[2])
{
    rv_rng rng = rv_rng_seed(8);
    rv_tensor x = {0}, y = {0};
    int64_t out[4];
    int rank;
    rv_status st = rv_tensor_random(&x, dev, 4, (const int64_t[]){batch, 3, size, size}, &rng,
                                    -1.0f, 1.0f, "input");
    if (st == RV_OK) st = rv_net_out_shape(nets[0], &x, out, &rank);
    if (st == RV_OK) st = rv_tensor_alloc(&y, dev, rank, out, "output");
    rv_plan plan[2] = {0};
    size_t planned[2] = {0};
    rv_plan_run c[2] = {{&plan[0], &x, &y}, {&plan[1], &x, &y}};
    for (int f = 0; f < 2; f++) {
        if (st == RV_OK) st = rv_plan_build_counted(&plan[f], nets[f], &x, NULL, &planned[f]);
        launches[f] = -1;
    }
    if (st == RV_OK)
        st = bench_measure_pair(rv_plan_run_fn, &c[0], rv_plan_run_fn, &c[1], dev, repeat, r);
    for (int f = 0; f < 2 && st == RV_OK; f++) {
        r[f].peak_bytes += planned[f];
        info[f] = rv_plan_describe(&plan[f]);
    }
#ifdef RV_HAVE_CUDA
    for (int f = 0; f < 2 && st == RV_OK && dev == RV_CUDA; f++) {
        long before = rv_cuda_launches();
        st = rv_plan_run_fn(&c[f]);
        launches[f] = rv_cuda_launches() - before;
    }
#endif
    for (int f = 0; f < 2; f++) rv_plan_free(&plan[f]);
    rv_tensor_free(&x);
    rv_tensor_free(&y);
    return st;
}

/* A network of the preset arch on dev, random weights with trained-like BN
 * statistics (so activations stay near unit scale), and its deploy form. */
static rv_status build_forms(const char *arch_name, rv_device dev, rv_net *train, rv_net *fast)
{
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n;
    rv_tensor calib = {0}, dcalib = {0};
    rv_rng rng = rv_rng_seed(9);
    rv_status st = rv_arch_preset(arch_name, &arch);
    if (st == RV_OK) st = rv_arch_specs(&arch, 3, specs, &n);
    if (st == RV_OK) st = rv_net_init_random(train, specs, n, 0, &rng, dev);
    if (st == RV_OK) st = rv_tensor_alloc4(&calib, RV_CPU, 2, 3, 64, 64, "calibration");
    if (st == RV_OK) st = rv_tensor_fill_uniform(&calib, &rng, -1.0f, 1.0f);
    if (st == RV_OK) st = rv_tensor_clone(&dcalib, &calib, dev, "calibration");
    if (st == RV_OK) st = rv_net_calibrate_bn(train, &dcalib, &rng);
    rv_tensor_free(&calib);
    rv_tensor_free(&dcalib);
    if (st == RV_OK) st = rv_net_switch_to_fast(train, fast);
    return st;
}

static rv_status run_networks(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    static const char *const archs[3] = {"A0", "A1", "B0"};
    static const int cpu_batch[] = {1, 4, 16, 64}, gpu_batch[] = {1, 8, 32, 128, 256};
    bench_table *t = &out[0].rows;
    int size = run->quick ? 32 : 224, na = run->quick ? 1 : 3;
    rv_status st = RV_OK;
    for (int d = 0; d < run->here.n && st == RV_OK; d++) {
        rv_device dev = run->here.dev[d];
        const int *batches = dev == RV_CUDA ? gpu_batch : cpu_batch;
        int nb = run->quick ? 2 : (dev == RV_CUDA ? 5 : 4);
        for (int a = 0; a < na && st == RV_OK; a++) {
            rv_net train = {0}, fast = {0};
            st = build_forms(archs[a], dev, &train, &fast);
            for (int b = 0; b < nb && st == RV_OK; b++) {
                int batch = batches[b], repeat = run->quick ? 2 : (batch >= 16 ? 2 : 5);
                rv_net *form[2] = {&train, &fast};
                rv_form_result r[2];
                rv_plan_info info[2];
                long launches[2];
                bench_progress(run, "networks on %s: RepVGG-%s, batch %d, both forms",
                               rv_device_name(dev), archs[a], batch);
                st = time_nets(form, dev, batch, size, repeat, r, info, launches);
                for (int f = 0; f < 2 && st == RV_OK; f++) {
                    bench_row(t, "%s\t%s\t%d\t%d\t%s\t", archs[a], rv_device_name(dev), batch, size,
                              f ? "deploy" : "train");
                    bench_time_row(t, &r[f]);
                    /* what the plan holds, each part within the peak: its
                     * activation buffers, the workspace, the weights prepared
                     * for the CPU's kernels */
                    bench_row(
                        t, "\t%.2f\t%.4f\t%ld\t%zu\t%zu\t%zu\n", batch * 1e3 / r[f].time.median_ms,
                        rv_net_macs(form[f], batch, size, size) / 1e9, launches[f],
                        info[f].activation_bytes, info[f].workspace_bytes, info[f].weight_bytes);
                }
                if (b == 0 && st == RV_OK) {
                    char name[48];
                    snprintf(name, sizeof name, "RepVGG-%s", archs[a]);
                    st = bench_record_speedup(run, name, dev, r[0].time.median_ms,
                                              r[1].time.median_ms);
                }
            }
            rv_net_free(&train);
            rv_net_free(&fast);
        }
    }
    return st;
}

const bench_experiment bench_exp_networks = {
    .title = "whole networks",
    .files = {{.name = "networks.tsv",
               .what = "whole networks, 3-channel square "
                       "input; peak_bytes = what one forward of a fresh plan allocates, in "
                       "parts: buffer_bytes = the planned activation buffers (two ping-pong "
                       "buffers, and the train-time form's branch buffer), workspace_bytes = "
                       "the scratch of im2col and Winograd, planned_weight_bytes = the weights "
                       "planned for the CPU's kernels (3x3 in the Winograd domain, the others "
                       "packed once); launches per forward on CUDA (-1 on the "
                       "CPU)",
               .columns = "arch\tdevice\tbatch\tsize\tform\t"
                          "median_ms\tmin_ms\tmax_ms\tpeak_bytes\timages_per_s\tgmacs\tlaunches\t"
                          "buffer_bytes\tworkspace_bytes\tplanned_weight_bytes"}},
    .where = BENCH_EACH_DEVICE,
    .run = run_networks,
};

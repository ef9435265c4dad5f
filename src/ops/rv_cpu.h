/* rv_cpu.h - the CPU's threads and vector instructions (src/ops/cpu.c).
 *
 * Threads are OpenMP's (OMP_NUM_THREADS, default one per core), OpenBLAS
 * set to one thread inside them: the ops call it from their own threads.
 */
#ifndef RV_CPU_H
#define RV_CPU_H

#ifdef __cplusplus
extern "C" {
#endif

/* Sets OpenBLAS to one thread (once; it also notes on stderr, with the
 * OPENBLAS_CORETYPE to set, when OpenBLAS chose kernels older than the CPU). */
void rv_cpu_threads_init(void);
/* The threads the CPU ops run on. */
int rv_cpu_threads(void);
/* "2 threads (OpenMP; ...), OpenBLAS 0.3.21 ..., SkylakeX kernels" */
void rv_cpu_blas_describe(char *buf, int len);
/* The widest vector instructions the CPU code runs here: "avx512", "avx2" or
 * "baseline"; the CPU's limit, or the build's with REPVGG_CPU_ISA=avx2. */
const char *rv_cpu_isa(void);

#ifdef __cplusplus
}
#endif
#endif

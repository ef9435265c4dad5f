/* rv_machine.h - the name a machine's benchmark results are filed under:
 * bench/results/<name>/, written by rv_bench and by the Python benchmarks
 * (bench/pybench.py asks `rv_bench --machine-name`, so the rule lives here
 * only).
 *
 * The device's model name, lower case, words joined by '-', without the marks
 * (R), (TM), (tm) and the words CPU, Processor, NVIDIA. On the CPU the number
 * of cores follows ("2c"), then "avx2" where the CPU has AVX2 but no AVX-512:
 * one model name ("AMD EPYC") covers CPUs with and without it, whose results
 * differ. "AMD EPYC" on two cores without AVX-512 -> "amd-epyc-2c-avx2".
 */
#ifndef RV_MACHINE_H
#define RV_MACHINE_H

#include <stddef.h>

#include "rv_device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out (len bytes) = in as a folder name, by the rule above:
 * "Intel(R) Xeon(R) Processor 2c" -> "intel-xeon-2c". */
void rv_machine_slug(const char *in, char *out, size_t len);
/* out (len bytes) = this machine's name for results measured on dev: the
 * GPU's model on RV_CUDA (what rv_device_describe says before its "("), the
 * CPU's with its cores and "avx2" on RV_CPU; slugged. */
void rv_machine_name(rv_device dev, char *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif

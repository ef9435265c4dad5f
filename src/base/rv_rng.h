/* rv_rng.h - seeded random numbers that are the same on every machine.
 *
 * splitmix64 (Steele, Lea & Flood, 2014): a 64-bit counter passed through a
 * bijective mixer. Never the clock, never libc rand(): a seed names the data.
 */
#ifndef RV_RNG_H
#define RV_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t state;
} rv_rng;

rv_rng rv_rng_seed(uint64_t seed);
uint64_t rv_rng_next(rv_rng *r);
/* Uniform in [lo, hi), from the top 24 bits (exactly representable floats). */
float rv_rng_uniform(rv_rng *r, float lo, float hi);
/* Uniform integer in [lo, hi], as a float. */
float rv_rng_int(rv_rng *r, int lo, int hi);

#ifdef __cplusplus
}
#endif
#endif

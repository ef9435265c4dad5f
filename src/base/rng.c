/* rng.c - splitmix64. */
#include "rv_rng.h"

rv_rng rv_rng_seed(uint64_t seed)
{
    rv_rng r = {seed};
    return r;
}

uint64_t rv_rng_next(rv_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

float rv_rng_uniform(rv_rng *r, float lo, float hi)
{
    float u = (float)(rv_rng_next(r) >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
}

float rv_rng_int(rv_rng *r, int lo, int hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - lo + 1);
    return (float)(lo + (int64_t)(rv_rng_next(r) % span));
}

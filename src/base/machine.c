/* machine.c - the name a machine's benchmark results are filed under
 * (rv_machine.h). */
#include "rv_machine.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void rv_machine_slug(const char *in, char *out, size_t len)
{
    static const char *const drop[] = {"(R)", "(TM)", "(tm)", "CPU", "Processor", "NVIDIA"};
    char clean[256];
    size_t k = 0;
    for (const char *p = in; *p && k + 1 < sizeof clean; p++) {
        size_t skip = 0;
        for (size_t i = 0; i < sizeof drop / sizeof drop[0] && !skip; i++)
            if (strncmp(p, drop[i], strlen(drop[i])) == 0) skip = strlen(drop[i]);
        if (skip)
            p += skip - 1;
        else
            clean[k++] = *p;
    }
    clean[k] = '\0';
    size_t n = 0;
    for (const char *p = clean; *p && n + 1 < len; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (isalnum((unsigned char)c))
            out[n++] = c;
        else if (n && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n && out[n - 1] == '-') n--;
    if (len) out[n] = '\0';
}

/* AVX2 but no AVX-512 on this CPU, whatever the build runs */
static int cpu_avx2_only(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx2") && !__builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

void rv_machine_name(rv_device dev, char *out, size_t len)
{
    char model[200], name[256];
    rv_device_describe(dev, model, sizeof model);
    if (dev == RV_CUDA) {
        model[strcspn(model, "(")] = '\0';
        snprintf(name, sizeof name, "%s", model);
    } else {
        snprintf(name, sizeof name, "%s %dc%s", model, (int)sysconf(_SC_NPROCESSORS_ONLN),
                 cpu_avx2_only() ? " avx2" : "");
    }
    rv_machine_slug(name, out, len);
}

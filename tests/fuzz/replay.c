/* replay.c - runs a fuzz target once on every file in the directories given:
 * the seed corpus and the regression inputs (each crash fuzzing found), as a
 * plain test in every build, without libFuzzer. Exit 0 when every input ran
 * (a crash is the failure; under ASan or valgrind, so is any memory error). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rv_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    unsigned char *d = NULL;
    size_t len = 0;
    rv_status st = rv_read_file(path, (size_t)1 << 26, &d, &len);
    if (st != RV_OK && st != RV_EFORMAT) { /* RV_EFORMAT: empty, a fine input too */
        fprintf(stderr, "replay: %s\n", rv_last_error());
        return 0;
    }
    LLVMFuzzerTestOneInput(d ? d : (const uint8_t *)"", len);
    free(d);
    return 1;
}

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir(argv[i]);
        if (!dir) continue; /* no regressions yet: nothing to replay */
        for (struct dirent *e; (e = readdir(dir));) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (!replay_file(path)) {
                closedir(dir);
                return 1;
            }
            ran++;
        }
        closedir(dir);
    }
    printf("PASS replay: %d input(s) ran\n", ran);
    return ran > 0 ? 0 : 1;
}

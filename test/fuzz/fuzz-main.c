/* Runs a fuzz target over the files named on the command line, so that
 * the seed corpus is a regression test in every build (the libFuzzer build
 * brings its own main). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char *argv[]) {
        static uint8_t buf[1 << 20];

        for (int i = 1; i < argc; i++) {
                FILE *f = fopen(argv[i], "re");
                if (!f) {
                        perror(argv[i]);
                        return EXIT_FAILURE;
                }
                size_t n = fread(buf, 1, sizeof buf, f);
                fclose(f);
                LLVMFuzzerTestOneInput(buf, n);
        }
        printf("%d inputs run\n", argc - 1);
        return EXIT_SUCCESS;
}

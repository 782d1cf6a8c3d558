/* tempus-worlds: runs the simulator in random worlds (worlds.c), one per
 * seed, and prints what each gave; for looking beyond the scenarios. No
 * limits: what a world allows depends on its draw (half a fixed path
 * asymmetry is an error no client can see), so the ranking at the end,
 * by RMS error against the quietest server's jitter, only says where to
 * look.
 *
 *   tempus-worlds [--first S] [--count N] [--worst K]
 *   tempus-worlds --first S --trace     one world, one line per update */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "shared/log.h"
#include "worlds.h"

typedef struct Outcome {
        uint64_t seed;
        double score;           /* RMS error / the quietest server's jitter */
} Outcome;

static int by_score_descending(const void *a, const void *b) {
        double x = ((const Outcome *) a)->score, y = ((const Outcome *) b)->score;
        return x < y ? 1 : x > y ? -1 : 0;
}

static int run_world(uint64_t seed, bool trace, Outcome *ret) {
        World w;
        SimResult r;

        world_draw(&w, seed);
        if (sim_run(&w.params, seed, trace, &r) < 0) {
                printf("world %llu: the simulation could not run | %s\n", (unsigned long long) seed, w.description);
                return -1;
        }
        printf("world %llu: sync %.1f s, max %.1f us, rms %.1f us, rms freq %.3f ppm, steps %u, external steps seen %u | %s\n",
               (unsigned long long) seed, r.sync_time, r.max_error * 1e6, r.rms_error * 1e6, r.rms_freq_error, r.steps,
               r.external_steps_seen, w.description);
        fflush(stdout);
        *ret = (Outcome) { seed, r.rms_error / w.quietest_jitter };
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "first", required_argument, NULL, 'f' },
                { "count", required_argument, NULL, 'n' },
                { "worst", required_argument, NULL, 'w' },
                { "trace", no_argument, NULL, 't' },
                {}
        };
        uint64_t first = 1;
        unsigned count = 100, worst = 10;
        bool trace = false;
        int c;

        log_set_max_level(LOG_WARNING);
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        first = strtoull(optarg, NULL, 10);
                        break;
                case 'n':
                        count = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'w':
                        worst = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 't':
                        trace = true;
                        count = 1;
                        log_set_max_level(LOG_INFO);
                        break;
                default:
                        fprintf(stderr, "Usage: tempus-worlds [--first S] [--count N] [--worst K] [--trace]\n");
                        return EXIT_FAILURE;
                }
        if (count == 0) {
                fprintf(stderr, "--count must be at least 1\n");
                return EXIT_FAILURE;
        }

        Outcome *outcomes = calloc(count, sizeof(Outcome));
        if (!outcomes)
                return EXIT_FAILURE;
        unsigned n = 0;
        for (unsigned i = 0; i < count; i++)
                if (run_world(first + i, trace, &outcomes[n]) == 0)
                        n++;
        qsort(outcomes, n, sizeof(Outcome), by_score_descending);
        if (n > 1 && worst > 0) {
                printf("\nLargest RMS error against the quietest server's jitter:\n");
                for (unsigned i = 0; i < n && i < worst; i++)
                        printf("  world %llu: %.1f\n", (unsigned long long) outcomes[i].seed, outcomes[i].score);
        }
        free(outcomes);
        return n == count ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* tempus-sim: runs the simulator's scenarios.
 *
 *   tempus-sim SCENARIO [--seeds N]    run N seeds (default 10), check the
 *                                      medians against the scenario's limits
 *                                      and every seed against its checks;
 *                                      exit 1 on any failure
 *   tempus-sim SCENARIO --seed S --trace   one run, one line per update
 *   tempus-sim --table [--seeds N]     the benchmark table of all scenarios
 *   tempus-sim --list
 * --duration S changes the length of the runs (for exploring; the limits
 * are meant for the scenarios' own durations). --estimate judges the
 * engine's estimate of true time (the clock plus the correction still
 * being slewed, what tempusd reports under Control=no) instead of the
 * clock, as the real-kernel benchmark does. --replay FILE puts the
 * first server behind a recorded path instead of the scenario's: each
 * line of FILE is one exchange, "OUT BACK" (each leg's time on the wire,
 * seconds) or "lost"; '#' starts a comment. The requests take the lines in
 * turn; once they run out, every request is lost (test/bench/kernel/
 * replay_path.py writes such a file from a benchmark run). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios.h"
#include "shared/log.h"

#define DEFAULT_SEEDS 10
#define MAX_SEEDS 1000

typedef struct Summary {
        double sync_time, max_error, rms_error, rms_freq_error, packets;
        double worst_sync_time, worst_rms_error;        /* over all seeds */
        int final_poll;
        const char *failure;            /* first per-seed check that failed */
        uint64_t failed_seed;
} Summary;

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), compare_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* --duration: a longer or shorter run than the scenario's (exploration). */
static double duration_override;
/* --estimate: judge the estimate, not the clock. */
static bool measure_estimate;
/* --replay: the recorded path of the first server. */
static SimExchange *replay;
static size_t n_replay;

static void setup(const Scenario *sc, SimParams *p) {
        sc->setup(p);
        if (duration_override > 0)
                p->duration = duration_override;
        p->measure_estimate = measure_estimate;
        if (n_replay > 0)
                p->servers[0].net = (SimNet) { .replay = replay, .n_replay = n_replay };
}

/* Parses one line of a --replay file into *x. Returns 0, or -EINVAL. */
static int parse_exchange(const char *line, SimExchange *x) {
        char word[16], rest[2];
        double out, back;

        if (sscanf(line, " %15s %1s", word, rest) == 1 && strcmp(word, "lost") == 0) {
                *x = (SimExchange) { .out = -1, .back = -1 };
                return 0;
        }
        if (sscanf(line, "%lf %lf %1s", &out, &back, rest) != 2 || !(out >= 0 && out < 60) ||
            !(back >= 0 && back < 60))
                return -EINVAL;
        *x = (SimExchange) { .out = out, .back = back };
        return 0;
}

static bool blank(const char *line) {
        return line[strspn(line, " \t\r\n")] == '\0';
}

/* Reads a --replay file. Returns 0, or a negative errno after saying why
 * (file and line). */
static int read_replay(const char *path) {
        char line[256];
        unsigned lineno = 0;
        FILE *f = fopen(path, "re");

        if (!f) {
                int r = -errno;
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        while (fgets(line, sizeof line, f)) {
                lineno++;
                line[strcspn(line, "#")] = '\0';
                if (blank(line))
                        continue;
                SimExchange *grown = realloc(replay, (n_replay + 1) * sizeof *replay);
                if (!grown) {
                        fclose(f);
                        return -ENOMEM;
                }
                replay = grown;
                if (parse_exchange(line, &replay[n_replay]) < 0) {
                        fprintf(stderr, "%s:%u: expected \"OUT BACK\" (seconds, 0 to 60) or \"lost\"\n", path, lineno);
                        fclose(f);
                        return -EINVAL;
                }
                n_replay++;
        }
        fclose(f);
        if (n_replay == 0) {
                fprintf(stderr, "%s: no exchanges\n", path);
                return -EINVAL;
        }
        return 0;
}

static int run_scenario(const Scenario *sc, unsigned n_seeds, Summary *ret) {
        double sync[MAX_SEEDS], maxe[MAX_SEEDS], rms[MAX_SEEDS], rmsf[MAX_SEEDS], pk[MAX_SEEDS], poll[MAX_SEEDS];
        SimParams p;

        *ret = (Summary) {};
        setup(sc, &p);
        for (unsigned i = 0; i < n_seeds; i++) {
                SimResult r;
                int k = sim_run(&p, i + 1, false, &r);
                if (k < 0)
                        return k;
                sync[i] = r.sync_time;
                maxe[i] = r.max_error;
                rms[i] = r.rms_error;
                rmsf[i] = r.rms_freq_error;
                pk[i] = (double) r.packets_sent;
                poll[i] = r.final_poll;
                const char *why = sc->check ? sc->check(&p, &r) : NULL;
                if (why && !ret->failure) {
                        ret->failure = why;
                        ret->failed_seed = i + 1;
                }
        }
        ret->sync_time = median(sync, n_seeds);
        ret->max_error = median(maxe, n_seeds);
        ret->rms_error = median(rms, n_seeds);
        /* median() sorted them: the worst seed is last. */
        ret->worst_sync_time = sync[n_seeds - 1];
        ret->worst_rms_error = rms[n_seeds - 1];
        ret->rms_freq_error = median(rmsf, n_seeds);
        ret->packets = median(pk, n_seeds);
        ret->final_poll = (int) median(poll, n_seeds);
        return 0;
}

static int minpoll_of(const Scenario *sc) {
        SimParams p;
        const char *reason;
        SourceSpec spec;
        char text[256];

        sc->setup(&p);
        snprintf(text, sizeof text, "10.0.0.1 %s", p.servers[0].options ?: "");
        if (source_spec_parse(SOURCE_KIND_SERVER, text, &spec, &reason) < 0)
                return SOURCE_DEFAULT_MINPOLL;
        int m = spec.minpoll;
        source_spec_done(&spec);
        return m;
}

static bool over(double value, double limit) {
        return limit > 0 && !(value <= limit);
}

static unsigned check_limits(const Scenario *sc, const Summary *s) {
        const SimLimits *l = &sc->limits;
        unsigned failures = 0;

#define CHECK(cond, ...) do { if (cond) { printf("FAIL %s: ", sc->name); printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)
        CHECK(over(s->sync_time, l->sync_time), "sync time %.1f s > %.1f s", s->sync_time, l->sync_time);
        CHECK(over(s->max_error, l->max_error), "max |error| %.1f us > %.1f us", s->max_error * 1e6, l->max_error * 1e6);
        CHECK(over(s->rms_error, l->rms_error), "RMS error %.1f us > %.1f us", s->rms_error * 1e6, l->rms_error * 1e6);
        CHECK(over(s->rms_freq_error, l->rms_freq_error), "RMS frequency error %.3f ppm > %.3f ppm",
              s->rms_freq_error, l->rms_freq_error);
        CHECK(l->poll_grows && s->final_poll <= minpoll_of(sc), "poll stayed at %d (minpoll)", s->final_poll);
        CHECK(s->failure != NULL, "seed %llu: %s", (unsigned long long) s->failed_seed, s->failure ?: "");
#undef CHECK
        return failures;
}

static void print_summary(const Scenario *sc, const Summary *s, unsigned n_seeds) {
        printf("%s (%s), median of %u seeds:\n", sc->name, sc->description, n_seeds);
        printf("  sync %.1f s (limit %.0f), max |error| %.1f us (limit %.0f), RMS error %.1f us (limit %.0f),\n"
               "  RMS frequency error %.3f ppm (limit %.2f), final poll %d, packets %.0f\n",
               s->sync_time, sc->limits.sync_time, s->max_error * 1e6, sc->limits.max_error * 1e6,
               s->rms_error * 1e6, sc->limits.rms_error * 1e6, s->rms_freq_error, sc->limits.rms_freq_error,
               s->final_poll, s->packets);
}

static void format_sync(char *buf, size_t size, double t) {
        if (isfinite(t))
                snprintf(buf, size, "%.1f", t);
        else
                snprintf(buf, size, "never");
}

static int print_table(unsigned n_seeds) {
        unsigned failures = 0;

        printf("| scenario | sync time (s) | worst sync (s) | max \\|time error\\| (us) | RMS time error (us) | worst RMS (us) | RMS freq error (ppm) | packets sent |\n");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (size_t i = 0; i < n_scenarios; i++) {
                Summary s;
                if (run_scenario(&scenarios[i], n_seeds, &s) < 0) {
                        printf("| %s | error | | | | | | |\n", scenarios[i].name);
                        failures++;
                        continue;
                }
                char sync[32], worst[32];
                format_sync(sync, sizeof sync, s.sync_time);
                format_sync(worst, sizeof worst, s.worst_sync_time);
                printf("| %s | %s | %s | %.1f | %.1f | %.1f | %.3f | %.0f |\n", scenarios[i].name, sync, worst,
                       s.max_error * 1e6, s.rms_error * 1e6, s.worst_rms_error * 1e6, s.rms_freq_error,
                       s.packets);
                fflush(stdout);
        }
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int trace_one(const Scenario *sc, uint64_t seed) {
        SimParams p;
        SimResult r;

        setup(sc, &p);
        if (sim_run(&p, seed, true, &r) < 0)
                return EXIT_FAILURE;
        printf("sync %.1f s, max %.2f us, rms %.3f us, rms freq %.3f ppm, max freq %.3f ppm, early base freq %.3f ppm, max base freq %.3f ppm, packets %llu, poll %d, steps %u\n",
               r.sync_time, r.max_error * 1e6, r.rms_error * 1e6, r.rms_freq_error, r.max_freq_error, r.rms_freq_error_early,
               r.max_base_freq_error,
               (unsigned long long) r.packets_sent, r.final_poll, r.steps);
        if (p.clock.jump_at > 0)
                printf("frequency jump: back within %.0f us after %.1f s, max %.2f us after it\n",
                       sim_sync_threshold(&p) * 1e6, r.jump_recovery,
                       r.max_error_after_jump * 1e6);
        const char *why = sc->check ? sc->check(&p, &r) : NULL;
        if (why)
                printf("check: %s\n", why);
        return EXIT_SUCCESS;
}

static void usage(void) {
        printf("Usage: tempus-sim SCENARIO [--seeds N] | SCENARIO --seed S --trace | --table [--seeds N] | --list\n"
               "       [--duration S] [--replay FILE] [--estimate]\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "seeds", required_argument, NULL, 'n' },
                { "seed", required_argument, NULL, 's' },
                { "trace", no_argument, NULL, 't' },
                { "table", no_argument, NULL, 'T' },
                { "list", no_argument, NULL, 'l' },
                { "duration", required_argument, NULL, 'd' },
                { "replay", required_argument, NULL, 'r' },
                { "estimate", no_argument, NULL, 'e' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        unsigned n_seeds = 0;   /* 0: the scenario's own count */
        uint64_t seed = 1;
        bool trace = false, table = false;
        int c;

        log_set_max_level(LOG_WARNING);
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        n_seeds = (unsigned) strtoul(optarg, NULL, 10);
                        if (n_seeds == 0 || n_seeds > MAX_SEEDS) {
                                fprintf(stderr, "--seeds must be 1..%d\n", MAX_SEEDS);
                                return EXIT_FAILURE;
                        }
                        break;
                case 's':
                        seed = strtoull(optarg, NULL, 10);
                        break;
                case 'd':
                        duration_override = strtod(optarg, NULL);
                        break;
                case 'r':
                        if (read_replay(optarg) < 0)
                                return EXIT_FAILURE;
                        break;
                case 'e':
                        measure_estimate = true;
                        break;
                case 't':
                        trace = true;
                        log_set_max_level(LOG_INFO);
                        break;
                case 'T':
                        table = true;
                        break;
                case 'l':
                        for (size_t i = 0; i < n_scenarios; i++)
                                printf("%-20s %s\n", scenarios[i].name, scenarios[i].description);
                        return EXIT_SUCCESS;
                case 'h':
                        usage();
                        return EXIT_SUCCESS;
                default:
                        usage();
                        return EXIT_FAILURE;
                }
        if (table)
                return print_table(n_seeds ?: DEFAULT_SEEDS);
        if (optind != argc - 1) {
                usage();
                return EXIT_FAILURE;
        }
        const Scenario *sc = scenario_find(argv[optind]);
        if (!sc) {
                fprintf(stderr, "Unknown scenario %s (see --list).\n", argv[optind]);
                return EXIT_FAILURE;
        }
        if (trace)
                return trace_one(sc, seed);

        if (n_seeds == 0)
                n_seeds = sc->seeds ?: DEFAULT_SEEDS;
        Summary s;
        if (run_scenario(sc, n_seeds, &s) < 0) {
                printf("FAIL %s: the simulation could not run\n", sc->name);
                return EXIT_FAILURE;
        }
        print_summary(sc, &s, n_seeds);
        unsigned failures = check_limits(sc, &s);
        if (failures == 0)
                printf("PASS %s\n", sc->name);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

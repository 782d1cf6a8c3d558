/* The simulator's scenarios and their pass limits. */
#pragma once

#include "sim.h"

/* Limits on the median over seeds; 0 means not checked. */
typedef struct SimLimits {
        double sync_time;       /* seconds */
        double max_error;       /* seconds */
        double rms_error;       /* seconds */
        double rms_freq_error;  /* ppm */
        bool poll_grows;        /* the selected source ends above minpoll */
} SimLimits;

typedef struct Scenario {
        const char *name;
        const char *description;
        void (*setup)(SimParams *p);
        SimLimits limits;
        /* Checked on every seed: NULL, or what went wrong. */
        const char *(*check)(const SimParams *p, const SimResult *r);
        /* Seeds the limits are judged on (0: the default, 10). */
        unsigned seeds;
} Scenario;

extern const Scenario scenarios[];
extern const size_t n_scenarios;

const Scenario *scenario_find(const char *name);

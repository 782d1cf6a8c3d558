/* Random worlds for the simulator: each seed draws one set of conditions
 * (the clock, its drift file and MakeStep, one to five servers and their
 * paths, polling, someone else's steps) from wide ranges, so that the
 * engine meets combinations no scenario was written for
 * (test/sim/tempus-worlds.c). The same seed always draws the same world. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

typedef struct World {
        SimParams params;
        char options[SIM_MAX_SERVERS][64];      /* the servers' option strings */
        char description[1024];
        double quietest_jitter, noisiest_jitter;        /* of its servers, seconds */
} World;

void world_draw(World *w, uint64_t seed);

/* Source selection: which sources tell the truth, which one to follow, and
 * the combined estimate of our clock's offset and frequency.
 *
 * 1. Each usable source offers a correctness interval
 *    [offset - distance, offset + distance] (RFC 5905 section 11.2.1).
 * 2. The largest group of sources whose intervals share a common point are
 *    truechimers, if they are a majority; the rest are falsetickers.
 * 3. Among truechimers (only the preferred ones, if any is), the source
 *    with the best score (quality plus a small stratum penalty) is
 *    selected; a previous selection is kept unless clearly beaten. The
 *    score leaves out the dispersion that grows with a sample's age
 *    (PHI * age, 15 us per second): with it, whichever source answered
 *    last would win every time, and the clock would follow each source in
 *    turn.
 * 4. Truechimers whose quality is within combine_limit of the selected
 *    one's are combined: offsets weighted by the inverse of their
 *    variances, frequencies by the inverse of skew^2, the minimum-variance
 *    unbiased combination of independent estimates. An offset's variance
 *    is its own spread's plus the share of its asymmetry bound that the
 *    sources' disagreement shows to be real (a random-effects
 *    combination): sources that agree far better than their round trips
 *    bound are weighed by their noise, sources that disagree by it as well
 *    as by their bounds.
 *
 * Authentication (AuthSelectMode=, chrony's authselectmode) limits who
 * takes part: "require" leaves out every unauthenticated source; "prefer"
 * leaves them out when any authenticated source is configured; "mix" (the
 * default), when both kinds are configured, lets the authenticated sources
 * alone find the majority interval, admits an unauthenticated source only
 * if it overlaps that interval, and selects nothing unless an
 * authenticated source survives (chrony's "require" and "trust" on the
 * authenticated ones); "ignore" treats all alike. Sources with noselect
 * count as neither kind. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum SelectState {
        SELECT_UNUSABLE,        /* unreachable, unsynchronised, noselect or no samples */
        SELECT_FALSETICKER,     /* outside the majority's intersection */
        SELECT_JITTERY,         /* agrees, but too noisy to use */
        SELECT_NOT_COMBINED,    /* truechimer, but too far behind the best */
        SELECT_COMBINED,        /* used in the combined estimate */
        SELECT_SELECTED,        /* the system peer */
        _SELECT_STATE_MAX,
} SelectState;

/* MIX first: zeroed parameters get the default. */
typedef enum SelectAuthMode {
        SELECT_AUTH_MIX,
        SELECT_AUTH_REQUIRE,
        SELECT_AUTH_PREFER,
        SELECT_AUTH_IGNORE,
        _SELECT_AUTH_MODE_MAX,
        _SELECT_AUTH_MODE_INVALID = -1,
} SelectAuthMode;

const char *select_auth_mode_to_string(SelectAuthMode m);
SelectAuthMode select_auth_mode_from_string(const char *s);

/* State names as the D-Bus API spells them. */
const char *select_state_to_string(SelectState s);

typedef struct SelectCandidate {
        bool usable;            /* reachable, synchronised, selectable, has samples */
        /* Not usable yet, but expected to be soon: it has not answered its
         * first request yet, or was reset and is being asked again. It
         * counts towards the majority, so that the first source to
         * answer cannot win a vote alone. */
        bool pending;
        bool prefer;
        bool noselect;          /* configured with noselect */
        bool authenticated;     /* its replies carry a MAC we verify */
        uint8_t stratum;
        double offset;          /* seconds */
        double offset_sd;
        double distance;        /* half width of the correctness interval */
        double frequency;       /* s/s */
        double skew;            /* s/s */
        double std_dev;
        double root_delay;
        double root_dispersion;
        /* The source's own error, without the dispersion that grows with
         * the age of its last sample: the standard error of offset plus
         * half the round trip to the reference (the most asymmetric
         * routing can add) and the server's root dispersion. Ranks
         * sources and weighs them in the combination (0: use distance). */
        double quality;
        /* The part of quality that bounds a fixed error (half the round
         * trip and the server's root dispersion), the rest being the
         * estimate's own spread (0: not known; combine by quality). */
        double asymmetry_bound;
        int leap;               /* NtpLeap of the last reply */
} SelectCandidate;

typedef struct SelectParams {
        unsigned min_sources;   /* truechimers needed before selecting */
        double max_jitter;      /* std_dev above this: jittery (seconds) */
        double max_distance;    /* root distance above this: unusable (seconds) */
        double combine_limit;   /* combine distance <= limit * selected's */
        double reselect_distance; /* hysteresis when switching, seconds */
        double stratum_weight;  /* seconds of distance per stratum */
        SelectAuthMode auth_mode;
} SelectParams;

extern const SelectParams select_default_params;

typedef struct SelectResult {
        int selected;           /* index of the system peer, -1 if none */
        unsigned n_truechimers;
        unsigned n_agree;       /* the largest number of intervals that overlap */
        unsigned n_voters;      /* usable and pending candidates */
        unsigned n_combined;    /* including the selected */
        double offset;          /* combined offset, seconds */
        double offset_sd;
        double frequency;       /* combined residual frequency, s/s */
        double skew;
        double root_delay;      /* of the selected source */
        double root_dispersion;
        int leap;               /* majority leap among the combined */
        const char *reason;     /* why nothing is selected, or NULL */
} SelectResult;

/* Runs selection over n candidates. previous is the index selected last
 * time (or -1). Writes one state per candidate into states[]. */
void select_sources(const SelectCandidate *c, size_t n, int previous, const SelectParams *p,
                    SelectState *states, SelectResult *ret);

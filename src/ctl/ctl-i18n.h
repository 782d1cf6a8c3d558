/* gettext shorthands for tempusctl. GETTEXT_PACKAGE and LOCALEDIR come from
 * build-config.h. Without a bound catalogue gettext() returns the English
 * text, so pure code and its tests may use _() freely. */
#pragma once

#include <libintl.h>

#define _(s) gettext(s)
#define N_(s) (s)

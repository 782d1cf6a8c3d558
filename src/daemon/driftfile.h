/* The drift file ([Clock] DriftFile=): the clock's frequency error and its
 * uncertainty, one line "<ppm> <skew ppm>" as chrony writes it, so a
 * restart does not have to learn the frequency again. Written atomically:
 * the new content goes into an unnamed file (O_TMPFILE) in the same
 * directory, is synced, linked as "<name>.XXXXXX" and renamed over the old
 * file, and the directory is synced; a crash leaves the old file or the new
 * one, never a torn one. Where O_TMPFILE is not available the temporary is
 * a named file from the start. */
#pragma once

/* -ENOENT when missing, -EINVAL when the content is not two numbers in
 * range (or not a regular file). Called at start, it first removes the
 * regular files named "<name>.XXXXXX" (six letters or digits) next to the
 * drift file: temporaries that a crash left behind. */
int driftfile_read(const char *path, double *ret_freq_ppm, double *ret_skew_ppm);
int driftfile_write(const char *path, double freq_ppm, double skew_ppm);

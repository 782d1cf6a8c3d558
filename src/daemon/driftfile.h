/* The drift file ([Clock] DriftFile=): the clock's frequency error and its
 * uncertainty, one line "<ppm> <skew ppm>" as chrony writes it, so a
 * restart does not have to learn the frequency again. Written atomically:
 * a temporary file in the same directory, fsync, rename, fsync of the
 * directory; a crash leaves the old file or the new one, never a torn one. */
#pragma once

/* -ENOENT when missing, -EINVAL when the content is not two numbers in
 * range. */
int driftfile_read(const char *path, double *ret_freq_ppm, double *ret_skew_ppm);
int driftfile_write(const char *path, double freq_ppm, double skew_ppm);

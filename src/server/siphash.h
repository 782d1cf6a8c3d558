/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash of a short input. The rate limiter indexes its
 * client table with it under a key drawn at start, so that nobody who does
 * not know the key can choose addresses that land in one client's slot.
 * It is a hash-table key, not a message authentication code: packets are
 * authenticated elsewhere, with GnuTLS. Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_SIZE 16

uint64_t siphash24(const void *data, size_t len, const uint8_t key[static SIPHASH_KEY_SIZE]);

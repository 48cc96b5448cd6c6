/* CRC32C (Castagnoli), the checksum of every transaction-log frame and
 * checkpoint block. Written here because no Debian C library offers it (zlib's
 * crc32 is another polynomial); uses the SSE4.2 instruction when the CPU has it. */
#ifndef GRAFT_UTIL_CRC32C_H
#define GRAFT_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (start with 0) over n bytes. */
uint32_t graft_crc32c(uint32_t crc, const void *data, size_t n);

#endif

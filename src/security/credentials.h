/* Password hashes as stored in a user's `credentials` property:
 * "pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>", PBKDF2-HMAC-
 * SHA256 from OpenSSL with a 16-byte random salt and a 32-byte hash. Pure
 * functions, safe on any thread (security.c runs them on the thread pool). */
#ifndef GRAFT_SECURITY_CREDENTIALS_H
#define GRAFT_SECURITY_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any string credentials_hash writes, NUL included. */
#define CREDENTIALS_SIZE 128
/* Stored iteration counts above this are refused as corrupt, so a damaged
 * record cannot make a login run for minutes. */
#define CREDENTIALS_MAX_ITERATIONS 10000000u

/* Hashes password with a fresh random salt into out (CREDENTIALS_SIZE
 * bytes). GRAFT_OK, GRAFT_EINVAL (iterations 0 or above the maximum) or
 * GRAFT_EIO (no randomness or a failing OpenSSL call). */
int credentials_hash(const char *password, size_t len, uint32_t iterations,
		     char *out);

/* Whether password matches stored, compared in constant time. A stored
 * string that does not parse never matches. */
bool credentials_verify(const char *stored, const char *password, size_t len);

#endif

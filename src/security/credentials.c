#include "credentials.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../util/err.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define PREFIX "pbkdf2-sha256$"
/* Base64 of n bytes is 4 * ceil(n / 3) characters. */
#define B64_LEN(n) (4 * (((n) + 2) / 3))

static bool derive(const char *password, size_t len, const unsigned char *salt,
		   uint32_t iterations, unsigned char *hash)
{
	return PKCS5_PBKDF2_HMAC(password, (int)len, salt, SALT_LEN,
				 (int)iterations, EVP_sha256(), HASH_LEN,
				 hash) == 1;
}

int credentials_hash(const char *password, size_t len, uint32_t iterations,
		     char *out)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt64[B64_LEN(SALT_LEN) + 1], hash64[B64_LEN(HASH_LEN) + 1];

	if (iterations == 0 || iterations > CREDENTIALS_MAX_ITERATIONS ||
	    len > INT32_MAX)
		return GRAFT_EINVAL;
	if (RAND_bytes(salt, SALT_LEN) != 1 ||
	    !derive(password, len, salt, iterations, hash))
		return GRAFT_EIO;
	EVP_EncodeBlock((unsigned char *)salt64, salt, SALT_LEN);
	EVP_EncodeBlock((unsigned char *)hash64, hash, HASH_LEN);
	snprintf(out, CREDENTIALS_SIZE, PREFIX "%" PRIu32 "$%s$%s", iterations,
		 salt64, hash64);
	OPENSSL_cleanse(hash, sizeof hash);
	return GRAFT_OK;
}

/* Decodes exactly n bytes of base64 text of length B64_LEN(n), ending at
 * '$' or NUL; returns the text's end or NULL. */
static const char *decode_field(const char *p, unsigned char *out, size_t n)
{
	unsigned char buf[B64_LEN(HASH_LEN)];
	size_t text = B64_LEN(n);

	if (strlen(p) < text || (p[text] != '$' && p[text] != '\0'))
		return NULL;
	if (EVP_DecodeBlock(buf, (const unsigned char *)p, (int)text) < 0)
		return NULL;
	memcpy(out, buf, n); /* padding decodes to trailing zero bytes */
	return p + text;
}

bool credentials_verify(const char *stored, const char *password, size_t len)
{
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	const char *p;
	char *end;
	unsigned long iterations;
	bool ok;

	if (stored == NULL || strncmp(stored, PREFIX, strlen(PREFIX)) != 0 ||
	    len > INT32_MAX)
		return false;
	p = stored + strlen(PREFIX);
	iterations = strtoul(p, &end, 10);
	if (end == p || *end != '$' || iterations == 0 ||
	    iterations > CREDENTIALS_MAX_ITERATIONS)
		return false;
	p = decode_field(end + 1, salt, SALT_LEN);
	if (p == NULL || *p != '$')
		return false;
	p = decode_field(p + 1, want, HASH_LEN);
	if (p == NULL || *p != '\0')
		return false;
	ok = derive(password, len, salt, (uint32_t)iterations, got) &&
	     CRYPTO_memcmp(got, want, HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof got);
	return ok;
}

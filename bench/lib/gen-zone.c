/*
 * gen-zone: deterministic benchmark zone generator.
 *
 * Contract: for a given (names, seed, origin) the output is byte-identical on
 * every run and machine (no time, locale or hash-table order involved).  It
 * writes, in master-file format with fully qualified names on every line,
 * explicit TTL and class, one record per line and no '@' or $-directives:
 *
 *   apex    SOA + 2 NS (out-of-zone nameservers)
 *   N owner names below the apex, in exact proportions:
 *     60 %  hosts:        A; half of them also AAAA
 *     30 %  delegations:  2 NS; a third of them with in-zone nameservers and
 *                         their glue (2 A records under the cut), a fifth of
 *                         them with a DS record (chosen independently)
 *     10 %  TXT (half) or MX (half)
 *
 * 100,000 names give 186,003 records (3 apex + 90,000 + 60,000 + 20,000 glue
 * + 6,000 DS + 10,000).  Which name gets which role is drawn from the seeded
 * generator with exact quotas (sequential sampling), so every seed gives the
 * same counts.  Labels are 8 base32 characters of a keyed bijection of the
 * name's index, so they are unique and look random in canonical order.
 *
 * Usage: gen-zone [-n NAMES] [-s SEED] [-z ORIGIN] [-o FILE]
 * Built with: cc -O2 -o gen-zone gen-zone.c (bench/gen-zone does this).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TTL "3600"

static uint64_t rng_state;

/* splitmix64: small, fast, fully specified, same output everywhere. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (rejection sampling: no modulo bias). */
static uint64_t rng_below(uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = rng_next();
	while (x >= limit);
	return x % n;
}

/*
 * Sequential sampling with exact quotas: true with probability
 * want/left, then the quota shrinks.  Over `left` calls exactly `want`
 * return true.
 */
static int take(uint64_t *want, uint64_t *left)
{
	int yes = *want > 0 && rng_below(*left) < *want;
	if (yes)
		(*want)--;
	(*left)--;
	return yes;
}

/* Keyed bijection on 40 bits: unique labels for up to 2^40 names. */
#define LBITS 40
#define LMASK ((1ULL << LBITS) - 1)
static uint64_t label_key1, label_key2;

static uint64_t scramble(uint64_t x)
{
	x = (x ^ label_key1) & LMASK;
	x ^= x >> 21;
	x = (x * 0x9E3779B97F4BULL) & LMASK;	/* odd multiplier */
	x ^= x >> 17;
	x = (x * 0xBF58476D1CE5ULL) & LMASK;
	x ^= x >> 19;
	return (x ^ label_key2) & LMASK;
}

static void label(uint64_t i, char out[9])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint64_t x = scramble(i);
	for (int k = 7; k >= 0; k--) {
		out[k] = b32[x & 31];
		x >>= 5;
	}
	out[8] = '\0';
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gen-zone [-n NAMES] [-s SEED] [-z ORIGIN] [-o FILE]\n"
		   "  NAMES default 100000, SEED default 1, ORIGIN default bench.example.\n");
}

int main(int argc, char **argv)
{
	uint64_t n = 100000, seed = 1;
	const char *origin = "bench.example.", *outpath = NULL;
	int c;

	while ((c = getopt(argc, argv, "n:s:z:o:h")) != -1) {
		char *end;
		switch (c) {
		case 'n':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || *end || n == 0 || n > LMASK) {
				fprintf(stderr, "gen-zone: -n %s: need 1..%llu\n",
					optarg, (unsigned long long)LMASK);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (errno || *end) {
				fprintf(stderr, "gen-zone: -s %s: not a number\n", optarg);
				return 2;
			}
			break;
		case 'z': origin = optarg; break;
		case 'o': outpath = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	size_t olen = strlen(origin);
	if (olen == 0 || origin[olen - 1] != '.' || olen > 200) {
		fprintf(stderr, "gen-zone: -z %s: need a fully qualified name (ending in '.')\n",
			origin);
		return 2;
	}

	FILE *out = stdout;
	if (outpath && !(out = fopen(outpath, "w"))) {
		fprintf(stderr, "gen-zone: %s: %s\n", outpath, strerror(errno));
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(out, buf, _IOFBF, sizeof buf);

	rng_state = seed;
	label_key1 = rng_next();
	label_key2 = rng_next();

	uint64_t hosts = (n * 6 + 5) / 10, delegs = (n * 3 + 5) / 10;
	if (hosts + delegs > n)
		delegs = n - hosts;
	uint64_t other = n - hosts - delegs;
	uint64_t left = n, want_h = hosts, want_d = delegs;
	uint64_t aaaa_want = hosts / 2, aaaa_left = hosts;
	uint64_t glue_want = delegs / 3, glue_left = delegs;
	uint64_t ds_want = delegs / 5, ds_left = delegs;
	uint64_t txt_want = other / 2, txt_left = other;
	uint64_t records = 3;

	fprintf(out, "%s " TTL " IN SOA ns1.example.net. hostmaster.example.net. "
		     "2024010101 7200 3600 1209600 3600\n", origin);
	fprintf(out, "%s " TTL " IN NS ns1.example.net.\n", origin);
	fprintf(out, "%s " TTL " IN NS ns2.example.net.\n", origin);

	for (uint64_t i = 0; i < n; i++) {
		char l[9];
		label(i, l);
		/* Role by exact quotas: host, delegation or TXT/MX. */
		uint64_t r = rng_below(left);
		left--;
		if (r < want_h) {
			want_h--;
			uint64_t a = rng_next();
			fprintf(out, "%s.%s " TTL " IN A 10.%u.%u.%u\n", l, origin,
				(unsigned)(a >> 8 & 255), (unsigned)(a >> 16 & 255),
				(unsigned)(a >> 24 & 255));
			records++;
			if (take(&aaaa_want, &aaaa_left)) {
				fprintf(out, "%s.%s " TTL " IN AAAA 2001:db8:%x:%x::%x\n",
					l, origin, (unsigned)(a >> 32 & 0xffff),
					(unsigned)(a >> 48 & 0xffff), (unsigned)(a & 0xff) + 1);
				records++;
			}
		} else if (r < want_h + want_d) {
			want_d--;
			int glue = take(&glue_want, &glue_left);
			int ds = take(&ds_want, &ds_left);
			if (glue) {
				uint64_t a = rng_next();
				for (int k = 1; k <= 2; k++)
					fprintf(out, "%s.%s " TTL " IN NS ns%d.%s.%s\n",
						l, origin, k, l, origin);
				for (int k = 1; k <= 2; k++)
					fprintf(out, "ns%d.%s.%s " TTL " IN A 192.0.%u.%u\n",
						k, l, origin, (unsigned)(a >> (16 * k) & 255),
						(unsigned)(a >> (16 * k + 8) & 255));
				records += 4;
			} else {
				unsigned p = (unsigned)rng_below(1000);
				for (int k = 1; k <= 2; k++)
					fprintf(out, "%s.%s " TTL " IN NS ns%d.provider%u.net.\n",
						l, origin, k, p);
				records += 2;
			}
			if (ds) {
				uint64_t d[4];
				for (int k = 0; k < 4; k++)
					d[k] = rng_next();
				fprintf(out, "%s.%s " TTL " IN DS %u 13 2 "
					     "%016" PRIX64 "%016" PRIX64 "%016" PRIX64 "%016" PRIX64 "\n",
					l, origin, (unsigned)(d[0] >> 48), d[0], d[1], d[2], d[3]);
				records++;
			}
		} else {
			uint64_t a = rng_next();
			if (take(&txt_want, &txt_left))
				fprintf(out, "%s.%s " TTL " IN TXT \"v=bench1 id=%016" PRIx64 "\"\n",
					l, origin, a);
			else
				fprintf(out, "%s.%s " TTL " IN MX %u mx%u.example.net.\n",
					l, origin, (unsigned)(a & 3) * 10 + 10,
					(unsigned)(a >> 8 & 7) + 1);
			records++;
		}
	}

	if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "gen-zone: %s: write failed: %s\n",
			outpath ? outpath : "stdout", strerror(errno));
		return 1;
	}
	fprintf(stderr, "gen-zone: %" PRIu64 " names, %" PRIu64 " records (seed %" PRIu64 ")\n",
		n, records, seed);
	return 0;
}

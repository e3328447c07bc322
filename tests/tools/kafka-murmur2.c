/*
 * kafka-murmur2.c — the partition the Java Kafka client's default partitioner
 * (and librdkafka's murmur2/murmur2_random) chooses for a key, so the integration
 * tests can check that pgcdc's records land where a Java/Debezium producer's would.
 *
 *   kafka-murmur2 PARTITIONS KEY...   one line per KEY: its partition
 *   kafka-murmur2 --selftest          check the hash against the vectors of Kafka's
 *                                     UtilsTest.testMurmur2 (exit 1 on a mismatch)
 *
 * A straight transcription of org.apache.kafka.common.utils.Utils.murmur2 and
 * toPositive(murmur2(key)) % partitions, written independently of librdkafka.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t
murmur2(const unsigned char *data, size_t length)
{
	const uint32_t m = 0x5bd1e995;
	const int r = 24;
	uint32_t h = 0x9747b28cU ^ (uint32_t) length;
	size_t length4 = length / 4;

	for (size_t i = 0; i < length4; i++) {
		size_t i4 = i * 4;
		uint32_t k = (uint32_t) data[i4] | (uint32_t) data[i4 + 1] << 8 |
		             (uint32_t) data[i4 + 2] << 16 | (uint32_t) data[i4 + 3] << 24;

		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (length % 4) {
	case 3:
		h ^= (uint32_t) data[(length & ~(size_t) 3) + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t) data[(length & ~(size_t) 3) + 1] << 8;
		/* fall through */
	case 1:
		h ^= (uint32_t) data[length & ~(size_t) 3];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32_t) h;
}

static int
selftest(void)
{
	static const struct {
		const char *key;
		int32_t want;
	} cases[] = {   /* Kafka's clients/src/test/.../utils/UtilsTest.java testMurmur2 */
		{ "21", -973932308 },
		{ "foobar", -790332482 },
		{ "a-little-bit-long-string", -985981536 },
		{ "a-little-bit-longer-string", -1486304829 },
		{ "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971 },
		{ "abc", 479470107 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t got = murmur2((const unsigned char *) cases[i].key, strlen(cases[i].key));

		if (got != cases[i].want) {
			fprintf(stderr, "murmur2(\"%s\") = %d, Kafka says %d\n", cases[i].key, got,
			        cases[i].want);
			bad = 1;
		}
	}
	puts(bad ? "selftest failed" : "selftest ok");
	return bad;
}

int
main(int argc, char **argv)
{
	long parts;

	if (argc == 2 && strcmp(argv[1], "--selftest") == 0)
		return selftest();
	if (argc < 3 || (parts = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: kafka-murmur2 PARTITIONS KEY... | --selftest\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		int32_t h = murmur2((const unsigned char *) argv[i], strlen(argv[i]));

		printf("%ld\n", (long) ((uint32_t) h & 0x7fffffffU) % parts);
	}
	return 0;
}

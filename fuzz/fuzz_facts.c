/* fuzz_facts.c: libFuzzer harness for the facts reader (qq_facts_read) and writer round trip. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qq_facts f = { NULL, 0, 0 }, g = { NULL, 0, 0 };
	struct qq_err e;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp, *mem;

	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	if (qq_facts_read(&f, fp, "fuzz", &e) == 0) {
		/* What was accepted must be written and read back unchanged. */
		if ((mem = open_memstream(&out, &outlen)) == NULL)
			abort();
		if (qq_facts_write(&f, mem, &e) != 0)
			abort();
		fclose(mem);
		if ((mem = fmemopen(out, outlen, "r")) == NULL && outlen > 0)
			abort();
		if (mem != NULL) {
			if (qq_facts_read(&g, mem, "again", &e) != 0 || g.n != f.n)
				abort();
			for (size_t i = 0; i < f.n; i++)
				if (strcmp(f.v[i].key, g.v[i].key) != 0 ||
				    strcmp(f.v[i].value, g.v[i].value) != 0)
					abort();
			fclose(mem);
		}
		free(out);
	} else if (strchr(e.msg, '\n') != NULL)
		abort();	/* a message is one line */
	fclose(fp);
	qq_facts_free(&f);
	qq_facts_free(&g);
	return 0;
}

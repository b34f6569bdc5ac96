/* fuzz_unquote.c: libFuzzer harness for the argv unquoter (xargs rules) and the quoter round trip. */
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
	struct qq_err e;
	char **argv = NULL, **again = NULL, *out = NULL;
	size_t argc = 0, n2 = 0, outlen = 0;
	FILE *fp, *mem;
	int nul;

	if (size == 0)
		return 0;
	nul = data[0] & 1;	/* the first byte picks the mode: lines or NUL-separated */
	if ((fp = fmemopen((void *)(data + 1), size - 1 > 0 ? size - 1 : 1, "r")) == NULL)
		return 0;
	if (size == 1) {
		fclose(fp);
		return 0;
	}
	if (qq_unquote_read(fp, nul, &argv, &argc, &e) == 0) {
		/* Quoting what was read and reading it again gives the same arguments. */
		if ((mem = open_memstream(&out, &outlen)) == NULL)
			abort();
		if (qq_quote_argv(mem, argv, nul, &e) == 0) {
			fclose(mem);
			mem = fmemopen(out, outlen > 0 ? outlen : 1, "r");
			if (mem == NULL || (outlen > 0 &&
			    qq_unquote_read(mem, nul, &again, &n2, &e) != 0))
				abort();
			if (outlen > 0) {
				if (n2 != argc)
					abort();
				for (size_t i = 0; i < argc; i++)
					if (strcmp(argv[i], again[i]) != 0)
						abort();
			}
			qq_argv_free(again);
		}
		if (mem != NULL)
			fclose(mem);
		free(out);
		qq_argv_free(argv);
	} else if (strchr(e.msg, '\n') != NULL)
		abort();
	fclose(fp);
	return 0;
}

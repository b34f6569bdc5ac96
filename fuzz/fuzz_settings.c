/* fuzz_settings.c: libFuzzer harness for every settings validator and the size parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, out[QQ_VALUE_MAX], again[QQ_VALUE_MAX];
	unsigned long long bytes;
	size_t i;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	(void)qq_size_parse(in, &bytes);
	for (i = 0; i < QQ_SET__COUNT; i++) {
		const struct qq_setting_def *d = &qq_settings_table[i];

		if (d->valid == NULL)
			continue;
		memset(out, 'x', sizeof(out));
		if (d->valid(in, out, sizeof(out)) == 0) {
			/* A valid value is a C string, and validating it again keeps it. */
			if (memchr(out, '\0', sizeof(out)) == NULL)
				abort();
			if (d->valid != qq_valid_path && d->valid != qq_valid_command &&
			    (d->valid(out, again, sizeof(again)) != 0 || strcmp(out, again) != 0))
				abort();
		}
	}
	free(in);
	return 0;
}

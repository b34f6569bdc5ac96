/* fuzz_qmp.c: libFuzzer harness for the QMP reply reader (qq_qmp_kind, qq_qmp_string, usernet). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, desc[64], out[256];
	int kind, port;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	kind = qq_qmp_kind(line, desc, sizeof(desc));
	if (kind < QQ_QMP_OTHER || kind > QQ_QMP_EVENT || strlen(desc) >= sizeof(desc))
		abort();
	if (qq_qmp_string(line, "status", out, sizeof(out)) == 0 && strlen(out) >= sizeof(out))
		abort();
	if (qq_qmp_string(line, "return", out, sizeof(out)) == 0)
		(void)qq_qmp_usernet_port(out);
	port = qq_qmp_usernet_port(line);
	if (port != -1 && (port < 1 || port > 65535))
		abort();
	free(line);
	return 0;
}

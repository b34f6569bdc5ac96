/* mkimage.c: qq-mkimage: the cache (image.key) around the builders of mkimage_*.c, and the stage facts they build from. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "mkimage.h"

#define KEY_FILE	"image.key"
#define DIGESTS_FILE	"image.digests"
#define KEY_VERSION	"qq-mkimage key 2"

static const struct qq_mkimage_ops *const builders[] = {
	&qq_mkimage_qnx,
	&qq_mkimage_initramfs,
};

void
qq_mkimage_kadd(SHA2_CTX *k, const char *s)
{
	if (s == NULL)
		s = "";
	SHA256Update(k, (const uint8_t *)s, strlen(s) + 1);
}

int
qq_mkimage_wpath(const struct qq_mkimage_ctx *c, const char *rel, char *out, size_t outsz,
    struct qq_err *e)
{
	return qq_ws_path(&c->ws, rel, out, outsz, e);
}

static const struct qq_mkimage_ops *
find_builder(const char *name)
{
	for (size_t i = 0; i < sizeof(builders) / sizeof(builders[0]); i++)
		if (strcmp(builders[i]->name, name) == 0)
			return builders[i];
	return NULL;
}

int
qq_mkimage_builder(const char *opt, char *out, size_t outsz, struct qq_err *e)
{
	const char *v = opt, *from = "--builder";

	if (v == NULL) {
		v = getenv("QNX_QEMU_BUILDER");
		from = "QNX_QEMU_BUILDER";
		if (v == NULL || *v == '\0') {
			v = "mkqnximage";
			from = "default";
		}
	}
	if (find_builder(v) == NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%s\": expected mkqnximage or "
		    "initramfs", from, v);
	strlcpy(out, v, outsz);
	return 0;
}

static int
read_pubkey(const struct qq_mkimage_opts *o, const struct qq_facts *f, char *out, size_t outsz,
    struct qq_err *e)
{
	const char *v;
	char *buf = NULL;

	if (o->ssh_pubkey != NULL) {
		if (qq_file_read(o->ssh_pubkey, 65536, &buf, NULL, e) != 0)
			return e->status;
		buf[strcspn(buf, "\r\n")] = '\0';
		v = buf;
	} else if ((v = qq_facts_get(f, "ssh_pubkey")) == NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "no ssh_pubkey fact: run qq-keygen first "
		    "(qq-keygen | qq-stage ... | qq-mkimage) or give --ssh-pubkey FILE");
	/* An OpenSSH public key line: type, base64 blob, optional comment. */
	if (strncmp(v, "ssh-", 4) != 0 && strncmp(v, "ecdsa-", 6) != 0 &&
	    strncmp(v, "sk-", 3) != 0) {
		qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%.60s\": expected an OpenSSH public key "
		    "line (ssh-ed25519 AAAA...)", o->ssh_pubkey ? o->ssh_pubkey : "fact ssh_pubkey",
		    v);
		free(buf);
		return e->status;
	}
	if (strlcpy(out, v, outsz) >= outsz) {
		free(buf);
		return qq_err_set(e, QQ_EXIT_INPUT, "public key too long");
	}
	free(buf);
	return 0;
}

static int
cmp_guest(const void *a, const void *b)
{
	return strcmp((*(struct qq_mkimage_sfile *const *)a)->guest,
	    (*(struct qq_mkimage_sfile *const *)b)->guest);
}

static void
files_free(struct qq_mkimage_ctx *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].guest);
		free(c->files[i].host);
	}
	free(c->files);
}

/* The stage facts, in order; their files' digests come from the fingerprint cache. */
static int
load_files(struct qq_mkimage_ctx *c, const struct qq_facts *f, struct qq_err *e)
{
	char guest[PATH_MAX], host[PATH_MAX];
	struct qq_mkimage_sfile **sorted;
	struct stat st;
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, "stage") == 0)
			n++;
	if ((c->files = calloc(n ? n : 1, sizeof(*c->files))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the stage facts");
	for (i = 0; i < f->n; i++) {
		struct qq_mkimage_sfile *x = &c->files[c->nfiles];

		if (strcmp(f->v[i].key, "stage") != 0)
			continue;
		if (qq_stage_parse(f->v[i].value, guest, sizeof(guest), host, sizeof(host), e) != 0)
			return e->status;
		if ((x->guest = strdup(guest)) == NULL || (x->host = strdup(host)) == NULL) {
			free(x->guest);
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the stage facts");
		}
		c->nfiles++;
		if (qq_digest_get(&c->dc, x->host, x->hex, &st, e) != 0)
			return e->status;
		x->mode = st.st_mode & 0777;
		x->mtime = st.st_mtim.tv_sec;
		x->size = st.st_size;
		c->bytes += (unsigned long long)st.st_size;
	}
	if ((sorted = calloc(n ? n : 1, sizeof(*sorted))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to read the stage facts");
	for (i = 0; i < n; i++)
		sorted[i] = &c->files[i];
	qsort(sorted, n, sizeof(*sorted), cmp_guest);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i]->guest, sorted[i - 1]->guest) == 0) {
			qq_err_set(e, QQ_EXIT_INPUT, "two stage facts for %s: %s and %s",
			    sorted[i]->guest, sorted[i - 1]->host, sorted[i]->host);
			free(sorted);
			return e->status;
		}
	free(sorted);
	return 0;
}

/* A binary linked for the other OS is refused like one for the wrong arch (static ones pass). */
static int
check_os(const struct qq_mkimage_ctx *c, const struct qq_mkimage_ops *b, struct qq_err *e)
{
	char interp[256];

	for (size_t i = 0; i < c->nfiles; i++) {
		if (qq_stage_interp(c->files[i].host, interp, sizeof(interp), e) != 0)
			return e->status;
		if (strstr(interp, b->foreign) != NULL)
			return qq_err_set(e, QQ_EXIT_INPUT, "%s is linked for %s (interpreter %s), "
			    "but the %s builder makes a %s guest: link it for %s (interpreter %s) "
			    "or statically", c->files[i].guest, b->guest_os[0] == 'Q' ? "Linux" :
			    "QNX", interp, b->name, b->guest_os, b->guest_os, b->native);
	}
	return 0;
}

static int
key_file_matches(struct qq_mkimage_ctx *c, const char *hex, const char *const outputs[],
    struct qq_err *e)
{
	char path[PATH_MAX], *buf = NULL;
	struct qq_err missing;
	struct stat st;
	int ok;

	if (qq_mkimage_wpath(c, KEY_FILE, path, sizeof(path), e) != 0)
		return -1;
	if (qq_file_read(path, 256, &buf, NULL, &missing) != 0)
		return 0;	/* no key: build */
	ok = strncmp(buf, hex, QQ_DIGEST_HEX - 1) == 0 && buf[QQ_DIGEST_HEX - 1] == '\n';
	free(buf);
	for (size_t i = 0; ok && outputs[i] != NULL; i++)
		if (qq_mkimage_wpath(c, outputs[i], path, sizeof(path), e) != 0 ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			ok = 0;
	return ok;
}

static int
write_key(struct qq_mkimage_ctx *c, const char *hex, struct qq_err *e)
{
	char path[PATH_MAX], line[QQ_DIGEST_HEX + 1];

	if (qq_mkimage_wpath(c, KEY_FILE, path, sizeof(path), e) != 0)
		return e->status;
	snprintf(line, sizeof(line), "%s\n", hex);
	return qq_file_write_atomic(path, line, strlen(line), 0644, e);
}

static int
forget_key(struct qq_mkimage_ctx *c, struct qq_err *e)
{
	char path[PATH_MAX];

	if (qq_mkimage_wpath(c, KEY_FILE, path, sizeof(path), e) != 0)
		return e->status;
	if (unlink(path) == -1 && errno != ENOENT)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to remove %s", path);
	return 0;
}

int
qq_mkimage_facts(struct qq_settings *s, struct qq_facts *f, const struct qq_mkimage_opts *o,
    struct qq_mkimage_result *r, struct qq_err *e)
{
	const struct qq_mkimage_ops *b;
	struct qq_mkimage_ctx *c;
	char builder[16], path[PATH_MAX];
	int rc;

	memset(r, 0, sizeof(*r));
	e->status = 0;
	if (qq_mkimage_builder(o->builder, builder, sizeof(builder), e) != 0)
		return e->status;
	b = find_builder(builder);
	/* The context holds a public key line of up to 16 KiB: keep it off the stack. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to build the image");
	c->ws.lockfd = -1;
	c->dc.dirfd = -1;
	c->talk = o->talk;
	c->s = s;
	c->f = f;
	c->o = o;
	if (qq_settings_get(s, QQ_SET_ARCH, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_WORKSPACE, f, e) != 0 ||
	    read_pubkey(o, f, c->pubkey, sizeof(c->pubkey), e) != 0)
		goto out;
	strlcpy(r->builder, builder, sizeof(r->builder));
	/* Everything the build needs is checked before the workspace is touched. */
	if (qq_mkimage_plan(s, f, o, builder, sizeof(builder), e) != 0 ||
	    qq_ws_begin(&c->ws, s->val[QQ_SET_WORKSPACE], 1, e) != 0)
		goto out;
	if (qq_mkimage_wpath(c, DIGESTS_FILE, path, sizeof(path), e) != 0 ||
	    qq_digest_load(&c->dc, path, e) != 0)
		goto out;
	if (load_files(c, f, e) != 0)
		goto out;
	SHA256Init(&c->key);
	qq_mkimage_kadd(&c->key, KEY_VERSION);
	qq_mkimage_kadd(&c->key, b->name);
	qq_mkimage_kadd(&c->key, c->pubkey);
	for (size_t i = 0; i < c->nfiles; i++) {
		char mode[8];

		snprintf(mode, sizeof(mode), "%03o", (unsigned)c->files[i].mode);
		qq_mkimage_kadd(&c->key, c->files[i].guest);
		qq_mkimage_kadd(&c->key, mode);
		qq_mkimage_kadd(&c->key, c->files[i].hex);
	}
	if (b->prepare(c, e) != 0)
		goto out;
	SHA256End(&c->key, r->key);
	if (!o->rebuild && (rc = key_file_matches(c, r->key, b->outputs, e)) != 0) {
		if (rc == -1)
			goto out;
		if (c->talk != NULL)
			fprintf(c->talk, "qq-mkimage: nothing changed since the last build "
			    "(image.key %.12s); %s\n", r->key, b->skipped);
	} else {
		/*
		 * Only before a build: a cache hit has the files and builder of a build
		 * that passed (2,000 opens would cost a hit its speed).
		 */
		if (check_os(c, b, e) != 0)
			goto out;
		r->built = 1;
		if (forget_key(c, e) != 0 || b->build(c, e) != 0)
			goto out;
		for (size_t i = 0; b->outputs[i] != NULL; i++) {
			struct stat st;

			if (qq_mkimage_wpath(c, b->outputs[i], path, sizeof(path), e) != 0)
				goto out;
			if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
				qq_err_set(e, QQ_EXIT_RUNTIME, "%s did not write %s", b->name, path);
				goto out;
			}
		}
		if (write_key(c, r->key, e) != 0)
			goto out;
	}
	if (b->facts(c, e) != 0)
		goto out;
	if (qq_mkimage_wpath(c, DIGESTS_FILE, path, sizeof(path), e) != 0 ||
	    qq_digest_save(&c->dc, path, e) != 0)
		goto out;
	qq_settings_export(s, f, e);
out:
	if (b->done != NULL)
		b->done(c);
	qq_digest_free(&c->dc);
	files_free(c);
	qq_ws_close(&c->ws);
	free(c);
	return e->status;
}

/*
 * The stage facts as a build reads them, without their files (they may not be
 * staged yet): one array, its strings after the entries; the caller frees *vp.
 */
static int
stage_facts_parse(const struct qq_facts *f, struct qq_mkimage_file **vp, size_t *np,
    struct qq_err *e)
{
	struct qq_mkimage_file *v;
	size_t k = 0;

	*vp = NULL;
	*np = 0;
	if ((v = calloc(f->n ? f->n : 1, sizeof(*v) + 2 * PATH_MAX)) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the image");
	for (size_t i = 0; i < f->n; i++) {
		char *guest = (char *)(v + f->n) + 2 * PATH_MAX * k;

		if (strcmp(f->v[i].key, "stage") != 0)
			continue;
		if (qq_stage_parse(f->v[i].value, guest, PATH_MAX, guest + PATH_MAX, PATH_MAX,
		    e) != 0) {
			free(v);
			return e->status;
		}
		v[k++] = (struct qq_mkimage_file){ .guest = guest, .host = guest + PATH_MAX,
		    .mode = 0755 };
	}
	*vp = v;
	*np = k;
	return 0;
}

int
qq_mkimage_plan(struct qq_settings *s, struct qq_facts *f, const struct qq_mkimage_opts *o,
    char *builder, size_t buildersz, struct qq_err *e)
{
	const struct qq_mkimage_ops *b;
	struct qq_mkimage_ctx *c;
	int rc;

	/* What a build would refuse, checked without writing: the same calls, in the same order. */
	if (qq_mkimage_builder(o->builder, builder, buildersz, e) != 0 ||
	    qq_settings_get(s, QQ_SET_ARCH, f, e) != 0 ||
	    qq_settings_get(s, QQ_SET_WORKSPACE, f, e) != 0)
		return e->status;
	b = find_builder(builder);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the image");
	c->ws.lockfd = -1;
	c->dc.dirfd = -1;
	c->s = s;
	c->f = f;
	c->o = o;
	e->status = 0;
	if ((o->ssh_pubkey != NULL || qq_facts_get(f, "ssh_pubkey") != NULL) &&
	    read_pubkey(o, f, c->pubkey, sizeof(c->pubkey), e) != 0)
		rc = e->status;
	else if (qq_ws_check(&c->ws, s->val[QQ_SET_WORKSPACE], e) != 0)
		rc = e->status;
	else
		rc = stage_facts_parse(f, &c->planned, &c->nplanned, e);
	if (rc == 0)
		rc = b->plan(c, e);
	if (b->done != NULL)
		b->done(c);
	qq_digest_free(&c->dc);
	free(c->planned);
	free(c);
	return rc;
}

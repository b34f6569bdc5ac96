/* mkimage.h: the one small interface between qq-mkimage's cache (mkimage.c) and its builders (mkimage_*.c). */
#ifndef QQ_MKIMAGE_H
#define QQ_MKIMAGE_H

#include <sys/types.h>

#include <sha2.h>
#include <stdio.h>
#include <time.h>

#include "qq.h"

/* One stage fact, with what the builders need to know about its file. */
struct qq_mkimage_sfile {
	char	*guest;		/* /data/...; owned */
	char	*host;		/* absolute; owned */
	char	 hex[QQ_DIGEST_HEX];
	mode_t	 mode;
	time_t	 mtime;
	off_t	 size;		/* bytes */
};

/* What a build is made from; mkimage.c fills it, a builder reads it and adds to key. */
struct qq_mkimage_ctx {
	struct qq_ws			 ws;
	struct qq_digest_cache		 dc;
	struct qq_mkimage_sfile		*files;
	size_t				 nfiles;
	unsigned long long		 bytes;		/* staged bytes, all files */
	char				 pubkey[QQ_PUBKEY_LINE_MAX];
	SHA2_CTX			 key;		/* the cache key being computed */
	struct qq_settings		*s;
	struct qq_facts			*f;
	const struct qq_mkimage_opts	*o;
	FILE				*talk;		/* notes; NULL: quiet */
	struct qq_mkimage_file		*planned;	/* plan only: the stage facts parsed, not yet staged */
	size_t				 nplanned;
	void				*priv;		/* the builder's own state; its done() frees it */
};

/*
 * A builder. mkimage.c runs prepare (find the tools and inputs, add every one of
 * them to c->key), compares the key with WS/image.key, runs build only when they
 * differ or an output is missing, then facts. plan is the dry run: the facts a
 * build would set, from settings and options alone (the workspace is not opened).
 */
struct qq_mkimage_ops {
	const char		 *name;		/* --builder NAME */
	const char		 *guest_os;	/* "QNX", "Linux": for the wrong-OS message */
	const char		 *foreign;	/* an interpreter holding this is for the other OS */
	const char		 *native;	/* the interpreter this guest's binaries name */
	const char *const	 *outputs;	/* relative to the workspace; a cache hit needs them */
	const char		 *skipped;	/* the cache-hit note's tail */
	int	(*prepare)(struct qq_mkimage_ctx *c, struct qq_err *e);
	int	(*build)(struct qq_mkimage_ctx *c, struct qq_err *e);
	int	(*facts)(struct qq_mkimage_ctx *c, struct qq_err *e);
	int	(*plan)(struct qq_mkimage_ctx *c, struct qq_err *e);
	void	(*done)(struct qq_mkimage_ctx *c);
};

extern const struct qq_mkimage_ops qq_mkimage_qnx;		/* mkimage_qnx.c */
extern const struct qq_mkimage_ops qq_mkimage_initramfs;	/* mkimage_initramfs.c */

/* Adds a NUL-terminated string to the key (NUL-separated: no ambiguity); NULL counts as "". */
void	 qq_mkimage_kadd(SHA2_CTX *k, const char *s);
/* The workspace path of rel. */
int	 qq_mkimage_wpath(const struct qq_mkimage_ctx *c, const char *rel, char *out, size_t outsz,
	    struct qq_err *e);

#endif /* QQ_MKIMAGE_H */

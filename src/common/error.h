/*
 * Error codes and error-message buffers shared by every module.
 *
 * A function returns 0 on success or a negative code: a negated errno where
 * one fits (TDM_ENOMEM = -ENOMEM), or one of Tandem's own codes from -1000
 * down.  Context for the operator travels separately in a struct tdm_err,
 * which each layer prefixes as the error goes up, so the top level prints
 * "kasp.xml:41: <Policy name=\"lab\">: <Lifetime>: not a duration".
 */
#ifndef TDM_ERROR_H
#define TDM_ERROR_H

#include <errno.h>
#include <stddef.h>

enum {
	TDM_OK = 0,
	TDM_ENOMEM = -ENOMEM,
	TDM_EINVAL = -EINVAL,
	TDM_ENOENT = -ENOENT,
	TDM_EEXIST = -EEXIST,
	TDM_EIO = -EIO,
	TDM_EAGAIN = -EAGAIN,
	TDM_ERANGE = -ERANGE,

	TDM_EPARSE = -1000,    /* malformed input: zone, XML, message, entry */
	TDM_ESCHEMA = -1001,   /* well-formed XML that fails its RelaxNG schema */
	TDM_EHSM = -1002,      /* a PKCS#11 call failed */
	TDM_ENOKEY = -1003,    /* a key named by CKA_ID or tag is not there */
	TDM_EALGO = -1004,     /* algorithm not supported (by us or the token) */
	TDM_ESERIAL = -1005,   /* SOA serial policy cannot produce a new serial */
	TDM_EZONE = -1006,     /* zone content violates a DNS rule */
	TDM_EDB = -1007,       /* SQLite failure */
	TDM_ENOTLEADER = -1008,/* write refused: this node is not the leader */
	TDM_ECLUSTER = -1009,  /* Raft / membership failure */
	TDM_ECODEC = -1010,    /* ledger command malformed or truncated */
	TDM_EVERSION = -1011,  /* format version not supported */
	TDM_ESHUTDOWN = -1012, /* the node is shutting down */
	TDM_ETIMEOUT = -1013,
	TDM_EPROTO = -1014,    /* bad control / DNS protocol message */
};

/** A human-readable name for a code ("not the leader", "PKCS#11 error"). */
const char *tdm_strerror(int code);

#define TDM_ERRMSG_SIZE 1024

/** Context for an error, written by the layer that found it. */
struct tdm_err {
	char msg[TDM_ERRMSG_SIZE];
};

/** Replace the message (printf format). */
void tdm_err_set(struct tdm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Prefix the existing message with "<fmt>: " (printf format). */
void tdm_err_wrap(struct tdm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Set msg and return code: "return tdm_err_fail(err, TDM_EPARSE, ...)". */
int tdm_err_fail(struct tdm_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Clear the message. */
void tdm_err_clear(struct tdm_err *err);

/**
 * Out-of-memory is not recoverable anywhere in Tandem: print and abort.
 * Every allocation goes through these so there is one policy.
 */
void *tdm_malloc(size_t n);
void *tdm_calloc(size_t nmemb, size_t n);
void *tdm_realloc(void *p, size_t n);
char *tdm_strdup(const char *s);

#endif

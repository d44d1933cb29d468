/*
 * Per-thread sessions.  A PKCS#11 session may be used by one thread at a
 * time, so each thread that signs gets its own read/write session, opened
 * on its first hsm_sign() and kept in a pthread key of the ctx.  After the
 * first call, finding it is one pthread_getspecific(): no lock, no malloc.
 *
 * A thread's session is closed when the thread exits (key destructor) or
 * when the ctx closes, whichever comes first.  Every session of the ctx is
 * on ctx->threads so hsm_ctx_close() can reach the ones of threads that
 * are still alive.  A session the token declares dead (a network HSM
 * restarted) is dropped, and the thread's next call opens a new one.
 * Session objects are not created in these sessions
 * (they would die with the thread) but in the ctx's admin session.
 */
#include "hsm/internal.h"

#include <stdlib.h>

static void unlink_thread(struct hsm_ctx *ctx, struct hsm__thread *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		ctx->threads = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

static void destructor(void *p)
{
	struct hsm__thread *t = p;
	struct hsm_ctx *ctx = t->ctx;

	pthread_mutex_lock(&ctx->lock);
	unlink_thread(ctx, t);
	pthread_mutex_unlock(&ctx->lock);
	if (ctx->generation == hsm__fork_generation)
		ctx->p11->C_CloseSession(t->session);
	EVP_MD_CTX_free(t->md);
	free(t);
}

int hsm__threads_init(struct hsm_ctx *ctx)
{
	return pthread_key_create(&ctx->tkey, destructor) == 0 ? 0 : -1;
}

int hsm__thread_get(struct hsm_ctx *ctx, struct hsm__thread **out,
		    struct tdm_err *err)
{
	struct hsm__thread *t = pthread_getspecific(ctx->tkey);
	CK_RV rv;

	/* An inherited ctx also has the forking thread's session in its
	 * key: the generation check keeps the child off the parent's. */
	if (__builtin_expect(t != NULL &&
			     ctx->generation == hsm__fork_generation, 1)) {
		*out = t;
		return 0;
	}
	if (ctx->generation != hsm__fork_generation)
		return tdm_err_fail(err, TDM_EHSM,
				    "repository %s: context inherited across fork(): "
				    "open the repository again in the child",
				    ctx->name);
	t = tdm_calloc(1, sizeof *t);
	t->ctx = ctx;
	rv = ctx->p11->C_OpenSession(ctx->slot,
				     CKF_SERIAL_SESSION | CKF_RW_SESSION,
				     NULL, NULL, &t->session);
	if (rv != CKR_OK) {
		free(t);
		return hsm__fail(err, "C_OpenSession", rv);
	}
	t->md = EVP_MD_CTX_new();
	if (t->md == NULL) {
		ctx->p11->C_CloseSession(t->session);
		free(t);
		return tdm_err_fail(err, TDM_ENOMEM, "EVP_MD_CTX_new failed");
	}
	pthread_mutex_lock(&ctx->lock);
	t->next = ctx->threads;
	if (t->next != NULL)
		t->next->prev = t;
	ctx->threads = t;
	pthread_mutex_unlock(&ctx->lock);
	pthread_setspecific(ctx->tkey, t);
	*out = t;
	return 0;
}

void hsm__thread_drop(struct hsm_ctx *ctx, struct hsm__thread *t)
{
	pthread_setspecific(ctx->tkey, NULL);
	destructor(t);
}

void hsm__threads_close(struct hsm_ctx *ctx, bool call_module)
{
	struct hsm__thread *t, *next;

	pthread_mutex_lock(&ctx->lock);
	for (t = ctx->threads; t != NULL; t = next) {
		next = t->next;
		if (call_module)
			ctx->p11->C_CloseSession(t->session);
		EVP_MD_CTX_free(t->md);
		free(t);
	}
	ctx->threads = NULL;
	pthread_mutex_unlock(&ctx->lock);
	/* The calling thread's slot would otherwise run the destructor on
	 * freed memory at thread exit if the key were not deleted next. */
	pthread_setspecific(ctx->tkey, NULL);
}

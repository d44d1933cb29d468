/*
 * p11speed: PKCS#11 P-256 signing rate, independent of Tandem's code.
 *
 * sign-bench measures the PKCS#11 ceiling with `tandem-hsmutil speed`; when
 * that command is not available it falls back to this program, and it can be
 * run by hand to cross-check the figure.  It loads the module with dlopen,
 * logs in to the token with the given label, generates an EC P-256 key pair
 * (token objects, or session objects with -S) and calls C_SignInit + C_Sign
 * with CKM_ECDSA on a 32-byte digest (what a DNSSEC signer does with SoftHSM2
 * 2.6.1, which lacks CKM_ECDSA_SHA256) from N threads of one process (-T) or
 * from N processes (-P, each with its own C_Initialize; for session keys each
 * process makes its own key).  Workers start together and stop at a deadline.
 * Token keys it made are destroyed at the end.
 *
 * Output: one JSON object on stdout
 *   {"module": ..., "keys": "token"|"session", "threads": T, "processes": P,
 *    "seconds": S, "signatures": N, "per_second": R}
 *
 * Usage: p11speed -m MODULE -l TOKENLABEL -p PIN [-T N | -P N] [-s SECONDS] [-S]
 * Build: cc -O2 -pthread -I/usr/include/p11-kit-1 -o p11speed p11speed.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR p11;
static const char *opt_module, *opt_label, *opt_pin;
static int opt_threads = 1, opt_procs = 1;
static double opt_seconds = 3;
static bool opt_session;
static char key_label[64];

static void die(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11speed: %s: CKR 0x%lx\n", what, (unsigned long)rv);
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void load_module(void)
{
	void *h = dlopen(opt_module, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "p11speed: %s: %s\n", opt_module, dlerror());
		exit(1);
	}
	CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
	if (!gfl) {
		fprintf(stderr, "p11speed: %s: no C_GetFunctionList\n", opt_module);
		exit(1);
	}
	CK_RV rv = gfl(&p11);
	if (rv != CKR_OK)
		die("C_GetFunctionList", rv);
}

static void p11_init(void)
{
	CK_C_INITIALIZE_ARGS args;
	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	CK_RV rv = p11->C_Initialize(&args);
	if (rv != CKR_OK)
		die("C_Initialize", rv);
}

/*
 * SoftHSM2 2.6.1 sometimes does not see a token when several processes run
 * C_Initialize at the same moment (seen with 2 worker processes: the slot
 * list lacks the token about one time in three).  find_slot() therefore
 * retries: after C_Finalize + C_Initialize, up to 20 times.
 */
static CK_SLOT_ID find_slot_once(bool *found)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_RV rv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	*found = false;
	if (rv != CKR_OK)
		die("C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		size_t len = strlen(opt_label);
		if (len <= sizeof ti.label && memcmp(ti.label, opt_label, len) == 0) {
			bool pad = true;
			for (size_t k = len; k < sizeof ti.label; k++)
				pad = pad && ti.label[k] == ' ';
			if (pad) {
				*found = true;
				return slots[i];
			}
		}
	}
	return 0;
}

static void p11_init(void);

static CK_SLOT_ID find_slot(void)
{
	bool found;
	for (int attempt = 0; attempt < 20; attempt++) {
		CK_SLOT_ID slot = find_slot_once(&found);
		if (found) {
			if (attempt > 0)
				fprintf(stderr, "p11speed: token '%s' found after %d retries\n",
					opt_label, attempt);
			return slot;
		}
		p11->C_Finalize(NULL);
		usleep(20000 + 10000 * (useconds_t)(getpid() % 5));
		p11_init();
	}
	fprintf(stderr, "p11speed: no token labelled '%s'\n", opt_label);
	exit(1);
}

static CK_SESSION_HANDLE open_session(CK_SLOT_ID slot, bool login)
{
	CK_SESSION_HANDLE s;
	CK_RV rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		die("C_OpenSession", rv);
	if (login) {
		rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)opt_pin, strlen(opt_pin));
		if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
			die("C_Login", rv);
	}
	return s;
}

/* P-256 OID 1.2.840.10045.3.1.7, DER */
static CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static CK_OBJECT_HANDLE generate(CK_SESSION_HANDLE s, bool token)
{
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL t = CK_TRUE, tok = token ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_VERIFY, &t, sizeof t },
		{ CKA_EC_PARAMS, p256_oid, sizeof p256_oid },
		{ CKA_LABEL, key_label, strlen(key_label) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_SIGN, &t, sizeof t },
		{ CKA_PRIVATE, &t, sizeof t },
		{ CKA_SENSITIVE, &t, sizeof t },
		{ CKA_LABEL, key_label, strlen(key_label) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_RV rv = p11->C_GenerateKeyPair(s, &mech, pub, 4, priv, 5, &hpub, &hpriv);
	if (rv != CKR_OK)
		die("C_GenerateKeyPair", rv);
	return hpriv;
}

/* All objects (private keys, or both halves with any_class) labelled key_label. */
static CK_ULONG find_keys(CK_SESSION_HANDLE s, bool any_class, CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_LABEL, key_label, strlen(key_label) },
		{ CKA_CLASS, &cls, sizeof cls },
	};
	CK_ULONG n = 0;
	CK_RV rv = p11->C_FindObjectsInit(s, tmpl, any_class ? 1 : 2);
	if (rv != CKR_OK)
		die("C_FindObjectsInit", rv);
	rv = p11->C_FindObjects(s, out, max, &n);
	if (rv != CKR_OK)
		die("C_FindObjects", rv);
	p11->C_FindObjectsFinal(s);
	return n;
}

static unsigned long sign_until(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, double deadline)
{
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_BYTE digest[32], sig[64];
	unsigned long n = 0;
	for (int i = 0; i < 32; i++)
		digest[i] = (CK_BYTE)(i * 7 + 1);
	while (now() < deadline) {
		for (int k = 0; k < 16; k++) {
			CK_ULONG len = sizeof sig;
			digest[0] = (CK_BYTE)n;
			CK_RV rv = p11->C_SignInit(s, &mech, key);
			if (rv != CKR_OK)
				die("C_SignInit", rv);
			rv = p11->C_Sign(s, digest, sizeof digest, sig, &len);
			if (rv != CKR_OK)
				die("C_Sign", rv);
			n++;
		}
	}
	return n;
}

/* --- threads ----------------------------------------------------------- */
struct worker {
	pthread_t tid;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE key;
	pthread_barrier_t *start;
	double *deadline;
	unsigned long count;
};

static void *thread_main(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE s = open_session(w->slot, false);
	pthread_barrier_wait(w->start);
	w->count = sign_until(s, w->key, *w->deadline);
	p11->C_CloseSession(s);
	return NULL;
}

static unsigned long run_threads(void)
{
	p11_init();
	CK_SLOT_ID slot = find_slot();
	CK_SESSION_HANDLE s = open_session(slot, true);
	CK_OBJECT_HANDLE key = generate(s, !opt_session);
	pthread_barrier_t start;
	double deadline = 0;
	pthread_barrier_init(&start, NULL, (unsigned)opt_threads + 1);
	struct worker *w = calloc((size_t)opt_threads, sizeof *w);
	if (!w)
		exit(1);
	for (int i = 0; i < opt_threads; i++) {
		w[i] = (struct worker){ .slot = slot, .key = key, .start = &start, .deadline = &deadline };
		if (pthread_create(&w[i].tid, NULL, thread_main, &w[i]) != 0) {
			fprintf(stderr, "p11speed: pthread_create failed\n");
			exit(1);
		}
	}
	deadline = now() + opt_seconds;
	pthread_barrier_wait(&start);
	unsigned long total = 0;
	for (int i = 0; i < opt_threads; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].count;
	}
	free(w);
	if (!opt_session) {
		CK_OBJECT_HANDLE objs[8];
		CK_ULONG n = find_keys(s, true, objs, 8);
		for (CK_ULONG i = 0; i < n; i++)
			p11->C_DestroyObject(s, objs[i]);
	}
	p11->C_CloseSession(s);
	p11->C_Finalize(NULL);
	return total;
}

/* --- processes ----------------------------------------------------------- */
static unsigned long run_procs(void)
{
	/* Token key made before fork, in a PKCS#11 context the children never see. */
	if (!opt_session) {
		p11_init();
		CK_SESSION_HANDLE s = open_session(find_slot(), true);
		generate(s, true);
		p11->C_CloseSession(s);
		p11->C_Finalize(NULL);
	}
	int go[2], res[2];
	if (pipe(go) != 0 || pipe(res) != 0)
		exit(1);
	pid_t *pids = calloc((size_t)opt_procs, sizeof *pids);
	if (!pids)
		exit(1);
	for (int i = 0; i < opt_procs; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("p11speed: fork");
			exit(1);
		}
		if (pid == 0) {
			close(go[1]);
			close(res[0]);
			p11_init();
			CK_SLOT_ID slot = find_slot();
			CK_SESSION_HANDLE s = open_session(slot, true);
			CK_OBJECT_HANDLE key;
			if (opt_session) {
				key = generate(s, false);
			} else if (find_keys(s, false, &key, 1) != 1) {
				fprintf(stderr, "p11speed: child: token key not found\n");
				_exit(1);
			}
			double deadline;
			/* Ready: wait for the parent's start time. */
			if (read(go[0], &deadline, sizeof deadline) != sizeof deadline)
				_exit(1);
			unsigned long n = sign_until(s, key, deadline);
			p11->C_CloseSession(s);
			p11->C_Finalize(NULL);
			if (write(res[1], &n, sizeof n) != sizeof n)
				_exit(1);
			_exit(0);
		}
		pids[i] = pid;
	}
	close(go[0]);
	close(res[1]);
	/* Give the children time to initialise and log in, then start them. */
	usleep(300000);
	double deadline = now() + opt_seconds;
	for (int i = 0; i < opt_procs; i++)
		if (write(go[1], &deadline, sizeof deadline) != sizeof deadline)
			exit(1);
	unsigned long total = 0, n;
	int failed = 0;
	for (int i = 0; i < opt_procs; i++) {
		int st;
		if (read(res[0], &n, sizeof n) == sizeof n)
			total += n;
		else
			failed = 1;
		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	free(pids);
	if (!opt_session) {
		p11_init();
		CK_SESSION_HANDLE s = open_session(find_slot(), true);
		CK_OBJECT_HANDLE objs[8];
		CK_ULONG k = find_keys(s, true, objs, 8);
		for (CK_ULONG i = 0; i < k; i++)
			p11->C_DestroyObject(s, objs[i]);
		p11->C_CloseSession(s);
		p11->C_Finalize(NULL);
	}
	if (failed) {
		fprintf(stderr, "p11speed: a worker process failed\n");
		exit(1);
	}
	return total;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "m:l:p:T:P:s:S")) != -1) {
		switch (c) {
		case 'm': opt_module = optarg; break;
		case 'l': opt_label = optarg; break;
		case 'p': opt_pin = optarg; break;
		case 'T': opt_threads = atoi(optarg); break;
		case 'P': opt_procs = atoi(optarg); break;
		case 's': opt_seconds = atof(optarg); break;
		case 'S': opt_session = true; break;
		default:
			fprintf(stderr, "usage: p11speed -m MODULE -l TOKENLABEL -p PIN [-T N | -P N] [-s SECONDS] [-S]\n");
			return 2;
		}
	}
	if (!opt_module || !opt_label || !opt_pin || opt_threads < 1 || opt_procs < 1 ||
	    (opt_threads > 1 && opt_procs > 1) || opt_seconds <= 0) {
		fprintf(stderr, "usage: p11speed -m MODULE -l TOKENLABEL -p PIN [-T N | -P N] [-s SECONDS] [-S]\n");
		return 2;
	}
	snprintf(key_label, sizeof key_label, "p11speed-%ld", (long)getpid());
	load_module();
	unsigned long total = opt_procs > 1 ? run_procs() : run_threads();
	printf("{\"module\": \"%s\", \"keys\": \"%s\", \"threads\": %d, \"processes\": %d, "
	       "\"seconds\": %.2f, \"signatures\": %lu, \"per_second\": %.0f}\n",
	       opt_module, opt_session ? "session" : "token", opt_threads, opt_procs,
	       opt_seconds, total, total / opt_seconds);
	return 0;
}

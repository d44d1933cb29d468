/*
 * Test helpers: temporary directories, private SoftHSM2 tokens.  See
 * testlib.h.
 */
#include "config.h"

#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * LeakSanitizer (--enable-sanitize) reads this hook at startup.  SoftHSM2
 * 2.6.1 leaks an ASN1 string per Ed25519 C_Sign inside the module; that is
 * not ours to fix, and would hide our own leaks in the noise.  The match
 * needs the module in the leak's stack: a suite that signs with Ed25519
 * under ASan sets fast_unwind_on_malloc=0 (tests/unit/hsm/main.c).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libsofthsm2.so\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static void die(const char *what)
{
	fprintf(stderr, "testlib: %s: %s\n", what, strerror(errno));
	abort();
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw);

static void remove_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tdm_test_tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/tandem-test-XXXXXX", base) < 0)
		die("asprintf");
	if (mkdtemp(path) == NULL)
		die(path);
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(stderr, "testlib: cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

void tdm_test_tmpdir_remove(char *path)
{
	if (path == NULL)
		return;
	remove_tree(path);
	free(path);
}

char *tdm_test_run_dir_begin(void)
{
	char *dir = tdm_test_tmpdir_new();

	setenv("TMPDIR", dir, 1);
	return dir;
}

void tdm_test_run_dir_end(char *dir)
{
	tdm_test_tmpdir_remove(dir);
}

char *tdm_test_write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		die("asprintf");
	f = fopen(path, "w");
	if (f == NULL)
		die(path);
	fputs(text, f);
	if (fclose(f) != 0)
		die(path);
	return path;
}

const char *tdm_test_softhsm_module(void)
{
	const char *m = getenv("TDM_SOFTHSM_MODULE");

	return m != NULL && *m != '\0' ? m : TDM_SOFTHSM_MODULE;
}

int tdm_test_softhsm_token(const char *dir, const char *label,
			   const char *pin, const char *so_pin)
{
	char *conf, *tokens, *text;
	struct stat st;
	pid_t pid;
	int status;

	if (asprintf(&conf, "%s/softhsm2.conf", dir) < 0 ||
	    asprintf(&tokens, "%s/tokens", dir) < 0)
		die("asprintf");
	if (stat(conf, &st) != 0) {
		if (mkdir(tokens, 0700) != 0 && errno != EEXIST)
			die(tokens);
		if (asprintf(&text,
			     "directories.tokendir = %s\n"
			     "objectstore.backend = file\n"
			     "log.level = ERROR\n"
			     "slots.removable = false\n", tokens) < 0)
			die("asprintf");
		free(tdm_test_write_file(dir, "softhsm2.conf", text));
		free(text);
	}
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);
	free(tokens);

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execlp("softhsm2-util", "softhsm2-util", "--init-token", "--free",
		       "--label", label, "--pin", pin, "--so-pin", so_pin,
		       (char *)NULL);
		fprintf(stderr, "testlib: softhsm2-util: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "testlib: softhsm2-util --init-token %s failed\n",
			label);
		return -1;
	}
	return 0;
}

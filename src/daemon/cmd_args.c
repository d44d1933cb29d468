/*
 * Command-line words of the ods-enforcer grammar inside tandemd: short and
 * long options ("-z x.org", "--zone x.org", "--zone=x.org"), and the file
 * contents tandem-enforcer appends after a "--content" marker (every word
 * after the marker is a chunk of the file, up to the next marker).
 */
#include "daemon/daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_marker(const char *w)
{
	return strncmp(w, "--content", 9) == 0;
}

int daemon__args(const struct control_request *req, int argi, struct cmd_opt *opts, size_t n,
		 char *msg, size_t cap)
{
	for (int i = argi; i < req->argc; i++) {
		const char *w = req->argv[i];
		const char *eq = NULL;
		struct cmd_opt *o = NULL;
		if (is_marker(w))
			break;
		if (w[0] != '-' || w[1] == '\0') {
			snprintf(msg, cap, "error: unexpected word \"%.80s\"\n", w);
			return TDM_EINVAL;
		}
		for (size_t k = 0; k < n && o == NULL; k++) {
			if (w[1] != '-' && w[1] == opts[k].shrt && w[2] == '\0')
				o = &opts[k];
			else if (w[1] == '-' && opts[k].lng) {
				size_t l = strlen(opts[k].lng);
				if (!strncmp(w + 2, opts[k].lng, l) && (w[2 + l] == '\0' || w[2 + l] == '=')) {
					o = &opts[k];
					if (w[2 + l] == '=')
						eq = w + 3 + l;
				}
			}
		}
		if (o == NULL) {
			snprintf(msg, cap, "error: unknown option \"%.80s\"\n", w);
			return TDM_EINVAL;
		}
		o->set = true;
		if (!o->has_arg)
			continue;
		if (eq != NULL) {
			o->val = eq;
		} else if (i + 1 < req->argc && !is_marker(req->argv[i + 1])) {
			o->val = req->argv[++i];
		} else {
			snprintf(msg, cap, "error: option %s needs a value\n", w);
			return TDM_EINVAL;
		}
	}
	return 0;
}

int daemon__content(const struct control_request *req, int argi, const char *marker,
		    char **buf, size_t *len)
{
	int start = -1;
	size_t total = 0;
	for (int i = argi; i < req->argc; i++)
		if (!strcmp(req->argv[i], marker)) {
			start = i + 1;
			break;
		}
	if (start < 0)
		return TDM_ENOENT;
	int end = start;
	while (end < req->argc && !is_marker(req->argv[end]))
		total += strlen(req->argv[end++]);
	char *out = tdm_malloc(total + 1);
	size_t off = 0;
	for (int i = start; i < end; i++) {
		size_t l = strlen(req->argv[i]);
		memcpy(out + off, req->argv[i], l);
		off += l;
	}
	out[off] = '\0';
	*buf = out;
	*len = off;
	return 0;
}

void daemon__zone_name_trim(char *name)
{
	size_t l = strlen(name);
	if (l > 1 && name[l - 1] == '.')
		name[l - 1] = '\0';
}

/*
 * history.c — learned types and primary keys, as of LSN, persisted (see history.h).
 *
 * The file is one JSON object:
 *   {"types": [[oid, "typtype", base, elem, "delim", "name"], ...],
 *    "keys":  [[reloid, "X/X", ["col", ...]], ...]}      (keys in the order learned)
 * written whole to <path>.tmp, fsynced and renamed over <path>.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "history.h"
#include "pg.h"

struct htype {
	uint32_t oid, base, elem;
	char typtype, delim;
	char *name;
};

struct hkey {
	uint32_t reloid;
	cdc_lsn from;
	char **names;
	int n;
};

struct hist {
	char *path;
	struct htype *types;
	int ntypes, captypes;
	struct hkey *keys;
	int nkeys, capkeys;
	bool dirty;
};

void
hist_free(struct hist *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < h->ntypes; i++)
		free(h->types[i].name);
	for (int i = 0; i < h->nkeys; i++) {
		for (int k = 0; k < h->keys[i].n; k++)
			free(h->keys[i].names[k]);
		free(h->keys[i].names);
	}
	free(h->types);
	free(h->keys);
	free(h->path);
	free(h);
}

static int
put_type(struct hist *h, uint32_t oid, char typtype, uint32_t base, uint32_t elem, char delim,
         const char *name)
{
	struct htype *t = NULL;

	for (int i = 0; i < h->ntypes && t == NULL; i++)
		if (h->types[i].oid == oid)
			t = &h->types[i];
	if (t != NULL && t->typtype == typtype && t->base == base && t->elem == elem &&
	    t->delim == delim && strcmp(t->name, name) == 0)
		return 0;
	if (t == NULL) {
		if (h->ntypes == h->captypes) {
			int cap = h->captypes ? h->captypes * 2 : 16;
			struct htype *nt = realloc(h->types, (size_t) cap * sizeof(*nt));

			if (nt == NULL)
				return -1;
			h->types = nt;
			h->captypes = cap;
		}
		t = &h->types[h->ntypes++];
		t->name = NULL;
	}
	free(t->name);
	t->oid = oid;
	t->typtype = typtype;
	t->base = base;
	t->elem = elem;
	t->delim = delim;
	t->name = strdup(name);
	if (t->name == NULL) {
		h->ntypes--;
		return -1;
	}
	h->dirty = true;
	return 0;
}

static int
put_key(struct hist *h, uint32_t reloid, cdc_lsn from, char *const *names, int n)
{
	struct hkey *k;

	if (h->nkeys == h->capkeys) {
		int cap = h->capkeys ? h->capkeys * 2 : 16;
		struct hkey *nk = realloc(h->keys, (size_t) cap * sizeof(*nk));

		if (nk == NULL)
			return -1;
		h->keys = nk;
		h->capkeys = cap;
	}
	k = &h->keys[h->nkeys];
	k->reloid = reloid;
	k->from = from;
	k->n = n;
	k->names = calloc((size_t) (n > 0 ? n : 1), sizeof(char *));
	if (k->names == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if ((k->names[i] = strdup(names[i])) == NULL) {
			for (int j = 0; j < i; j++)
				free(k->names[j]);
			free(k->names);
			return -1;
		}
	h->nkeys++;
	h->dirty = true;
	return 0;
}

static int
parse(struct hist *h, json_t *root)
{
	json_t *types = json_object_get(root, "types"), *keys = json_object_get(root, "keys"), *v;
	size_t i;

	if (!json_is_array(types) || !json_is_array(keys))
		return -1;
	json_array_foreach(types, i, v) {
		const char *tt = json_string_value(json_array_get(v, 1));
		const char *dl = json_string_value(json_array_get(v, 4));
		const char *nm = json_string_value(json_array_get(v, 5));

		if (json_array_size(v) != 6 || tt == NULL || dl == NULL || nm == NULL ||
		    !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 2)) ||
		    !json_is_integer(json_array_get(v, 3)) || strlen(tt) != 1 || strlen(dl) != 1)
			return -1;
		if (put_type(h, (uint32_t) json_integer_value(json_array_get(v, 0)), tt[0],
		             (uint32_t) json_integer_value(json_array_get(v, 2)),
		             (uint32_t) json_integer_value(json_array_get(v, 3)), dl[0], nm) != 0)
			return -1;
	}
	json_array_foreach(keys, i, v) {
		const char *lsn = json_string_value(json_array_get(v, 1));
		json_t *cols = json_array_get(v, 2), *c;
		char *names[PGO_MAX_COLS];
		cdc_lsn from;
		size_t j;

		if (json_array_size(v) != 3 || !json_is_integer(json_array_get(v, 0)) || lsn == NULL ||
		    cdc_lsn_parse(lsn, &from) != 0 || !json_is_array(cols) ||
		    json_array_size(cols) > PGO_MAX_COLS)
			return -1;
		json_array_foreach(cols, j, c) {
			if ((names[j] = (char *) json_string_value(c)) == NULL)
				return -1;
		}
		if (put_key(h, (uint32_t) json_integer_value(json_array_get(v, 0)), from, names,
		            (int) json_array_size(cols)) != 0)
			return -1;
	}
	h->dirty = false;
	return 0;
}

struct hist *
hist_open(const char *path, struct cdc_err *err)
{
	struct hist *h = calloc(1, sizeof(*h));
	json_error_t jerr;
	json_t *root;

	if (h == NULL || (h->path = strdup(path)) == NULL) {
		free(h);
		cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return h;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL || parse(h, root) != 0) {
		cdc_errf(err, CDC_ERR_FATAL, "state file %s cannot be read (%s): it holds the types and "
		         "keys pgcdc learned; restore it, or remove it to learn them again from the "
		         "current catalog", path, root == NULL ? jerr.text : "unexpected content");
		json_decref(root);
		hist_free(h);
		return NULL;
	}
	json_decref(root);
	return h;
}

int
hist_fill_types(const struct hist *h, struct cdc_types *types, struct cdc_err *err)
{
	for (int i = 0; i < h->ntypes; i++) {
		const struct htype *t = &h->types[i];

		if (types_add(types, t->oid, t->typtype, t->base, t->elem, t->delim, t->name) != 0)
			return cdc_errf(err, CDC_ERR_NOMEM, "out of memory registering types");
	}
	return 0;
}

int
hist_add_type(struct hist *h, uint32_t oid, char typtype, uint32_t base, uint32_t elem,
              char delim, const char *name)
{
	return put_type(h, oid, typtype, base, elem, delim, name) == 0 ? 0 : CDC_ERR_NOMEM;
}

static const struct hkey *
newest(const struct hist *h, uint32_t reloid, cdc_lsn at)
{
	const struct hkey *best = NULL;

	for (int i = 0; i < h->nkeys; i++) {
		const struct hkey *k = &h->keys[i];

		if (k->reloid != reloid || k->from > at)
			continue;
		if (best == NULL || k->from >= best->from)
			best = k;
	}
	return best;
}

int
hist_add_key(struct hist *h, uint32_t reloid, cdc_lsn lsn, char *const *names, int n)
{
	const struct hkey *cur = newest(h, reloid, lsn);
	bool same = cur != NULL && cur->n == n;

	for (int i = 0; same && i < n; i++)
		same = strcmp(cur->names[i], names[i]) == 0;
	if (same)
		return 0;
	return put_key(h, reloid, lsn, names, n) == 0 ? 0 : CDC_ERR_NOMEM;
}

int
hist_key_at(const struct hist *h, uint32_t reloid, cdc_lsn lsn, char *const **names)
{
	const struct hkey *k = newest(h, reloid, lsn);

	if (k == NULL)
		return -1;
	*names = k->names;
	return k->n;
}

int
hist_save(struct hist *h, struct cdc_err *err)
{
	json_t *root, *types, *keys;
	char tmp[4200], lsn[32];
	char *dir = NULL;
	int fd, rc = 0;

	if (!h->dirty)
		return 0;
	root = json_object();
	types = json_array();
	keys = json_array();
	if (root == NULL || types == NULL || keys == NULL)
		goto nomem;
	json_object_set_new(root, "types", types);
	json_object_set_new(root, "keys", keys);
	for (int i = 0; i < h->ntypes; i++) {
		const struct htype *t = &h->types[i];
		char tt[2] = { t->typtype, 0 }, dl[2] = { t->delim, 0 };

		json_array_append_new(types, json_pack("[I,s,I,I,s,s]", (json_int_t) t->oid, tt,
		                                       (json_int_t) t->base, (json_int_t) t->elem, dl,
		                                       t->name));
	}
	for (int i = 0; i < h->nkeys; i++) {
		const struct hkey *k = &h->keys[i];
		json_t *cols = json_array();

		if (cols == NULL) {
			rc = cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (int c = 0; c < k->n; c++)
			json_array_append_new(cols, json_string(k->names[c]));
		snprintf(lsn, sizeof(lsn), CDC_LSN_FMT, CDC_LSN_ARGS(k->from));
		json_array_append_new(keys, json_pack("[I,s,o]", (json_int_t) k->reloid, lsn, cols));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", h->path);
	if (json_dump_file(root, tmp, JSON_COMPACT) != 0) {
		rc = cdc_errf(err, CDC_ERR_IO, "cannot write %s: %s (check source.state_dir)", tmp,
		              strerror(errno));
		goto out;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0 || rename(tmp, h->path) != 0) {
		rc = cdc_errf(err, CDC_ERR_IO, "cannot write %s: %s (check source.state_dir)", h->path,
		              strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if ((dir = strdup(h->path)) != NULL) {
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			if (fsync(dfd) != 0)
				rc = cdc_errf(err, CDC_ERR_IO, "cannot fsync the directory of %s: %s",
				              h->path, strerror(errno));
			close(dfd);
		}
	}
	if (rc == 0)
		h->dirty = false;
out:
	free(dir);
	json_decref(root);
	return rc;
nomem:
	json_decref(root);
	json_decref(types);
	json_decref(keys);
	return cdc_errf(err, CDC_ERR_NOMEM, "out of memory");
}

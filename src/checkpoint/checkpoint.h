/* Checkpoints: one immutable file holding a database's whole graph as of a
 * transaction id, so recovery is the newest valid checkpoint plus the log
 * after it. Written without stopping writes: a forked child serialises its
 * copy-on-write image of the graph (Redis's RDB technique) while the loop
 * goes on; the same file serves store copies and full backups. */
#ifndef GRAFT_CHECKPOINT_CHECKPOINT_H
#define GRAFT_CHECKPOINT_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "../graph/graph.h"
#include "../util/buf.h"
#include "../util/err.h"

struct checkpoint_req;
typedef void (*checkpoint_cb)(struct checkpoint_req *req, int status);

/* Caller-owned; must stay alive until cb. */
struct checkpoint_req {
	void *data;
	uint64_t txid;                 /* set by checkpoint_start */
	/* Set by the caller before checkpoint_start: the Raft index the
	 * header records (txlog_set_raft_index; 0: none or unknown). */
	uint64_t raft_index;
	/* Set by the caller before checkpoint_start: a graph of at most
	 * this many bytes (graph_stats) is serialised into memory on the
	 * calling thread instead of forking (0: always fork). A fork copies
	 * the page tables of the whole process, tens of ms for a server
	 * holding GBs, however small the database. */
	uint64_t copy_max_bytes;
	uint64_t bytes;                /* file size, on success */
	uint64_t fork_us;              /* how long the loop stood still to fork
					* or to serialise (forked false) */
	bool forked;                   /* set by checkpoint_start */
	char path[4096];               /* final file, on success */
	char errmsg[GRAFT_ERRMSG_SIZE]; /* on failure */
	/* private */
	uv_work_t work;
	pid_t child;
	int msg_fd; /* read end of the child's error-message pipe, or the
		     * memfd holding the serialised graph (not forked) */
	int status;
	char dir[4096];
	checkpoint_cb cb;
};

/* Starts writing dir/checkpoint.<txid> of g as of txid, where g is the graph
 * with every transaction up to txid applied and no other: a forked child
 * writes its copy-on-write image, or (a graph within req->copy_max_bytes)
 * the graph is serialised into a memfd here and a thread-pool job writes
 * that to the file; either way g may change as soon as it returns. Returns
 * at once;
 * cb runs on the loop thread when the file is durable (older checkpoints in
 * dir are then deleted) or has failed (nothing half-written is left under
 * the final name). Returns an error and never calls cb if it cannot start. */
int checkpoint_start(uv_loop_t *loop, struct checkpoint_req *req,
		     const struct graph *g, uint64_t txid, const char *dir,
		     checkpoint_cb cb);

/* Writes the checkpoint in the calling thread (clean shutdown, tools,
 * tests), same file format and durability; raft_index as
 * checkpoint_req's. */
int checkpoint_write_sync(const struct graph *g, uint64_t txid,
			  uint64_t raft_index, const char *dir, char *errmsg);

/* Serialises g to fd in the checkpoint format (no fsync). For tests and
 * for the child; deterministic: equal graphs give equal bytes. */
int checkpoint_write_fd(const struct graph *g, uint64_t txid,
			uint64_t raft_index, int fd, char *errmsg);

/* Loads the newest checkpoint in dir into g (fresh from graph_new) and sets
 * *txid. GRAFT_ENOTFOUND if dir holds none; GRAFT_ECORRUPT with errmsg
 * naming file and offset if the newest is damaged (never silently falls back
 * to an older one, whose log may have been pruned). Removes leftover
 * checkpoint.*.tmp files, so only the directory's owner (holding the store
 * lock) may call it; a reader of a live store uses checkpoint_load_file. */
int checkpoint_load_newest(const char *dir, struct graph *g, uint64_t *txid,
			   char *errmsg);
/* Loads one named file. */
int checkpoint_load_file(const char *path, struct graph *g, uint64_t *txid,
			 char *errmsg);
/* The Raft index the header of dir's checkpoint of txid records (0 in a
 * file of version 1, written before headers had it). GRAFT_OK, or an
 * error with errmsg naming the file. */
int checkpoint_raft_index(const char *dir, uint64_t txid, uint64_t *out,
			  char *errmsg);
/* The final name of the checkpoint of txid in dir (for a file that
 * arrives whole from elsewhere: a store copy). GRAFT_EINVAL: too long. */
int checkpoint_path(char *out, size_t n, const char *dir, uint64_t txid);

/* The newest checkpoint of a live store read as bytes, as they are on disk
 * (store copies and FULL backups send them). The open file stays readable
 * when a newer checkpoint replaces it. Any thread; one reader a struct. */
struct checkpoint_file {
	int fd;        /* -1 when closed */
	uint64_t txid; /* 0: dir holds no checkpoint */
	uint64_t size; /* bytes */
	uint64_t left; /* bytes not read yet */
	uint32_t crc;  /* CRC32C of the bytes read so far */
};
/* Opens the newest checkpoint in dir without touching the directory
 * (tmp files are its owner's); f->txid 0 and GRAFT_OK when there is none.
 * Close f after GRAFT_OK. */
int checkpoint_file_open_newest(struct checkpoint_file *f, const char *dir,
				char *errmsg);
/* Appends up to max of the bytes left to out (at least one when any is
 * left); GRAFT_EIO when the file is shorter than it was. */
int checkpoint_file_read(struct checkpoint_file *f, struct graft_buf *out,
			 size_t max, char *errmsg);
void checkpoint_file_close(struct checkpoint_file *f);

#endif

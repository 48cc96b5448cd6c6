/* The backup server (server.backup.listen_address, 127.0.0.1:6362 by
 * default): hands out a consistent copy of a database while it takes
 * writes, read from immutable files off the loop thread.
 *
 * Protocol (one request per connection, text line then binary):
 *   client: "GRAFT-BACKUP/1 LIST\n"
 *           "GRAFT-BACKUP/1 FULL <db>\n"
 *           "GRAFT-BACKUP/1 DIFF <db> <after txid> [<database id>]\n"
 *   server: "GRAFT-BACKUP/1 OK LIST <db> <db>...\n", then closes;
 *           "GRAFT-BACKUP/1 OK <FULL|DIFF> <checkpoint txid> <first> <last>
 *             <database id>\n" then the backup stream (stream.h) and closes;
 *           "GRAFT-BACKUP/1 ERR <NOTFOUND|PRUNED|AHEAD|IDENTITY|INVALID|IO>
 *             <text>\n" and closes.
 * FULL is the newest checkpoint file plus the log after it up to the last
 * transaction applied when the request arrived; DIFF is the log after the
 * given id up to the same point (PRUNED when the log no longer reaches back
 * there, AHEAD when the id is past the server's last transaction, IDENTITY
 * when the request names a database id (that of the chain it continues,
 * artifact.h) and the database of that name here has another: it was
 * dropped and created again). The database id is dbms_origin's; a client
 * of before ids reads the OK line's first four fields only. A stream
 * that fails half-way is cut without its end mark, which the client reports.
 * Loop thread only. */
#ifndef GRAFT_BACKUP_SERVE_H
#define GRAFT_BACKUP_SERVE_H

#include <uv.h>

#include "../db/dbms.h"
#include "../util/config.h"

#define BACKUP_PROTO "GRAFT-BACKUP/1"

struct backup_server;

/* Listens on addr (setting names it in errors). data_dir and txlog_root
 * are copied; dbms is borrowed and must outlive backup_server_close. */
int backup_server_start(uv_loop_t *loop, struct dbms *dbms,
			const char *data_dir, const char *txlog_root,
			const char *setting, const struct graft_address *addr,
			struct backup_server **out, char *errmsg);
/* Serves a connection another server accepted (the transaction port
 * hands backup requests over: catchup_server_handoff): fd is taken in all
 * cases, head is what was read of the request so far (copied). */
void backup_server_adopt(void *backup_server, uv_os_sock_t fd,
			 const char *head, size_t n);
/* The port it listens on (the one chosen when addr's port was 0). */
int backup_server_port(const struct backup_server *s);
/* Stops listening and closes every connection (streams in progress are
 * cut); frees everything once the last handle and work item are done. */
void backup_server_close(struct backup_server *s);

#endif

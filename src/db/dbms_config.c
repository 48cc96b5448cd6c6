#include "dbms_config.h"

#include <string.h>

void dbms_options_from_config(const struct graft_config *cfg,
			      struct dbms_options *o)
{
	memset(o, 0, sizeof *o);
	o->data_dir = graft_config_path(cfg, "server.directories.data");
	o->txlog_root = graft_config_path(
		cfg, "server.directories.transaction.logs.root");
	o->default_db = graft_config_string(cfg, "initial.dbms.default_database");
	o->db.rotation_size = graft_config_size(cfg, "db.tx_log.rotation.size");
	graft_config_retention(cfg, "db.tx_log.rotation.retention_policy",
			       &o->db.retention);
	o->db.pin_max_size =
		graft_config_size(cfg, "db.tx_log.reader_pins.max_size");
	o->db.old_versions_max_size =
		graft_config_size(cfg, "db.transaction.old_versions.max_size");
	o->db.checkpoint_interval_ms =
		graft_config_duration_ms(cfg, "db.checkpoint.interval.time");
	o->db.checkpoint_interval_tx =
		(uint64_t)graft_config_int(cfg, "db.checkpoint.interval.tx");
	o->db.max_client_tx = (uint32_t)graft_config_int(
		cfg, "db.transaction.concurrent.maximum");
}

/* Shared by the backup unit tests: artifacts as an older graft wrote them. */
#ifndef GRAFT_TESTS_BACKUP_FIXTURE_H
#define GRAFT_TESTS_BACKUP_FIXTURE_H

/* Makes the artifact at path one of before database ids: the flag and the
 * field cleared, both checksums made again. */
void backup_fixture_strip_id(const char *path);

#endif

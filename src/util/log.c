#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

/* Worker threads log too (checkpoint, fsync failures), hence the mutex. */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static bool log_stderr = true;
static enum graft_log_level log_min = GRAFT_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

/* The log says what the server does with the data (database names, query
 * errors, file paths), so it gets the data files' mode, 0640, whatever the
 * umask; a log file that an older build left open to others (or writable
 * by its group) is narrowed to that too, never widened. NULL with errno on
 * failure. */
static FILE *open_log_file(const char *path)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 ||
	    ((st.st_mode & 0137) != 0 && fchmod(fd, st.st_mode & 0640) != 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	f = fdopen(fd, "a");
	if (f == NULL) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

int graft_log_open(const char *path, enum graft_log_level min, bool to_stderr,
		   char *errmsg)
{
	FILE *f = NULL;

	if (path != NULL) {
		f = open_log_file(path);
		if (f == NULL)
			return graft_errf(errmsg, graft_err_from_errno(errno),
					  "cannot open log file %s: %s; check "
					  "server.directories.logs and its permissions",
					  path, strerror(errno));
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_mutex);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	log_min = min;
	log_stderr = to_stderr;
	pthread_mutex_unlock(&log_mutex);
	return GRAFT_OK;
}

void graft_log_close(void)
{
	pthread_mutex_lock(&log_mutex);
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	log_stderr = true;
	pthread_mutex_unlock(&log_mutex);
}

void graft_log_set_stderr(bool on)
{
	pthread_mutex_lock(&log_mutex);
	log_stderr = on;
	pthread_mutex_unlock(&log_mutex);
}

void graft_log(enum graft_log_level level, const char *fmt, ...)
{
	char stamp[64], line[2048];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (level < log_min)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_mutex);
	if (log_file != NULL)
		fprintf(log_file, "%s.%03d+0000 %s %s\n", stamp,
			(int)(tv.tv_usec / 1000), level_names[level], line);
	if (log_stderr)
		fprintf(stderr, "%s.%03d+0000 %s %s\n", stamp,
			(int)(tv.tv_usec / 1000), level_names[level], line);
	pthread_mutex_unlock(&log_mutex);
}

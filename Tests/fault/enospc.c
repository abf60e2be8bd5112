// A fault injector for the write-failure tests, loaded with LD_PRELOAD into the process
// under test: while the file named by KOERS_FAULT_TRIGGER exists, every write to a file
// whose path contains KOERS_FAULT_PATH fails with ENOSPC, as on a full disk. Reads, and
// writes to other files, go through. No mount rights needed.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int full(int fd) {
    const char *trigger = getenv("KOERS_FAULT_TRIGGER"), *match = getenv("KOERS_FAULT_PATH");
    if (!trigger || !match || access(trigger, F_OK) != 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, match) != NULL;
}

#define PASS(name, ret, params, args)                                   \
    ret name params {                                                   \
        static ret (*real) params;                                      \
        if (!real) real = (ret (*) params)dlsym(RTLD_NEXT, #name);      \
        if (full(fd)) { errno = ENOSPC; return -1; }                    \
        return real args;                                               \
    }

PASS(write, ssize_t, (int fd, const void *b, size_t n), (fd, b, n))
PASS(pwrite, ssize_t, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o))
PASS(pwrite64, ssize_t, (int fd, const void *b, size_t n, off64_t o), (fd, b, n, o))
PASS(writev, ssize_t, (int fd, const struct iovec *v, int c), (fd, v, c))
PASS(fallocate, int, (int fd, int mode, off_t o, off_t len), (fd, mode, o, len))
PASS(ftruncate, int, (int fd, off_t len), (fd, len))

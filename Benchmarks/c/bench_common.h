/*
 * What the C baselines of `make bench` share: the test keys, the clock, error exits
 * and the READY line the driver waits for.
 */
#ifndef KOERS_BENCH_COMMON_H
#define KOERS_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zmq.h>

/* Test keys from the libzmq test suite; never used outside benchmarks. */
static const char *server_public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char *server_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
static const char *client_public = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char *client_secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

/* CLOCK_MONOTONIC is one clock for every process on the machine (Linux), so a time
 * taken in one process can be subtracted from one taken in another. */
static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline double now_s(void) { return now_ns() / 1e9; }

static inline void die_zmq(const char *program, const char *what) {
    fprintf(stderr, "%s: %s: %s\n", program, what, zmq_strerror(zmq_errno()));
    exit(1);
}

static inline int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static inline void curve_server(void *s) {
    int one = 1;
    zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, server_secret, 40);
}

static inline void curve_client(void *s) {
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client_public, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client_secret, 40);
}

/* The endpoint a bound socket ended up on (tcp://127.0.0.1:* gets a port). */
static inline void last_endpoint(void *s, char *out, size_t size, const char *program) {
    size_t len = size;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, out, &len) != 0) die_zmq(program, "getsockopt");
}

#endif

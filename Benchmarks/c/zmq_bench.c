/*
 * zmq_bench: the baseline for `make bench`. Plain C on libzmq doing what the Swift
 * benchmarks do, so each Swift figure is printed as a ratio against this one,
 * measured in the same run on the same machine.
 *
 *   zmq_bench pull ENDPOINT COUNT SIZE [curve]   bind PULL, print READY <endpoint>,
 *                                                 receive COUNT, print RESULT <msgs/s>
 *   zmq_bench push ENDPOINT COUNT SIZE [curve]   connect PUSH, send COUNT messages
 *   zmq_bench echo ENDPOINT COUNT SIZE           bind REP, print READY, echo COUNT
 *   zmq_bench ping ENDPOINT COUNT SIZE           connect REQ, COUNT round trips,
 *                                                 print RESULT <p50 ns> <p99 ns>
 *
 * With "curve", both sides use CURVE with fixed test keys (no ZAP handler: this
 * measures the cipher cost only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* Test keys from the libzmq test suite; never used outside benchmarks. */
static const char *server_public = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char *server_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
static const char *client_public = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char *client_secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "zmq_bench: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void ready(void *s) {
    char endpoint[256];
    size_t len = sizeof endpoint;
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) die("getsockopt");
    printf("READY %s\n", endpoint);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: zmq_bench pull|push|echo|ping ENDPOINT COUNT SIZE [curve]\n");
        return 2;
    }
    const char *mode = argv[1], *endpoint = argv[2];
    long count = atol(argv[3]);
    size_t size = (size_t)atol(argv[4]);
    int curve = argc > 5 && strcmp(argv[5], "curve") == 0;
    void *ctx = zmq_ctx_new();
    int hwm = 1000;

    if (strcmp(mode, "pull") == 0) {
        void *s = zmq_socket(ctx, ZMQ_PULL);
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
        if (curve) {
            int one = 1;
            zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, server_secret, 40);
        }
        if (zmq_bind(s, endpoint) != 0) die("bind");
        ready(s);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, s, 0) < 0) die("recv");
        double start = now_s();
        for (long i = 1; i < count; i++) {
            if (zmq_msg_recv(&msg, s, 0) < 0) die("recv");
        }
        double elapsed = now_s() - start;
        zmq_msg_close(&msg);
        printf("RESULT %.0f\n", (count - 1) / elapsed);
        zmq_close(s);
    } else if (strcmp(mode, "push") == 0) {
        void *s = zmq_socket(ctx, ZMQ_PUSH);
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        if (curve) {
            zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 40);
            zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client_public, 40);
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client_secret, 40);
        }
        if (zmq_connect(s, endpoint) != 0) die("connect");
        char *buf = calloc(1, size);
        for (long i = 0; i < count; i++) {
            if (zmq_send(s, buf, size, 0) < 0) die("send");
        }
        free(buf);
        zmq_close(s);
    } else if (strcmp(mode, "echo") == 0) {
        void *s = zmq_socket(ctx, ZMQ_REP);
        if (zmq_bind(s, endpoint) != 0) die("bind");
        ready(s);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        for (long i = 0; i < count; i++) {
            if (zmq_msg_recv(&msg, s, 0) < 0) die("recv");
            if (zmq_msg_send(&msg, s, 0) < 0) die("send");
        }
        zmq_msg_close(&msg);
        zmq_close(s);
    } else if (strcmp(mode, "ping") == 0) {
        void *s = zmq_socket(ctx, ZMQ_REQ);
        if (zmq_connect(s, endpoint) != 0) die("connect");
        char *buf = calloc(1, size);
        long long *samples = malloc(sizeof(long long) * count);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        for (long i = 0; i < count; i++) {
            long long t0 = now_ns();
            if (zmq_send(s, buf, size, 0) < 0) die("send");
            if (zmq_msg_recv(&msg, s, 0) < 0) die("recv");
            samples[i] = now_ns() - t0;
        }
        zmq_msg_close(&msg);
        /* The first tenth warms up connections and caches; it is not counted. */
        long skip = count / 10;
        qsort(samples + skip, count - skip, sizeof(long long), cmp_ll);
        long n = count - skip;
        printf("RESULT %lld %lld\n", samples[skip + n / 2], samples[skip + (long)(n * 0.99)]);
        free(samples);
        free(buf);
        zmq_close(s);
    } else {
        fprintf(stderr, "zmq_bench: unknown mode %s\n", mode);
        return 2;
    }
    zmq_ctx_term(ctx);
    return 0;
}

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
#include <string.h>
#include "bench_common.h"

static void die(const char *what) { die_zmq("zmq_bench", what); }

static void ready(void *s) {
    char endpoint[256];
    last_endpoint(s, endpoint, sizeof endpoint, "zmq_bench");
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
        if (curve) curve_server(s);
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
        if (curve) curve_client(s);
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

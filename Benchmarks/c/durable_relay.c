/*
 * durable_relay: the physical limit of the aggregator's job on this machine, for
 * `make bench`. One hop in, one fdatasync, one hop out, in plain C on libzmq, with
 * Koers' flow (docs/protocol.md §3.1, §4): publishers say HELLO, wait for WELCOME,
 * then keep a window of unacknowledged reports; the relay reads what has arrived (a
 * batch, at most BATCH reports), appends it to its log file, fdatasyncs, and acknowledges
 * each publisher cumulatively (an ACK with settled_through, after the data is
 * durable). With a PUB endpoint it also publishes every record on a CURVE XPUB after
 * the fdatasync and before the ACKs, as the aggregator publishes a batch's transitions.
 *
 *   durable_relay relay INGEST FILE PUBLISHERS TOTAL SIZE BATCH [PUB]
 *       bind a CURVE ROUTER on INGEST (and an XPUB on PUB), print
 *       READY <ingest> [<pub>]; with PUB wait for one subscriber; wait for PUBLISHERS
 *       HELLOs, WELCOME each, then store TOTAL reports of SIZE bytes (envelope and
 *       payload) in the log FILE; print RESULT <batches> <reports>
 *   durable_relay publish INGEST COUNT SIZE WINDOW [RATE OFFSET_US]
 *       a CURVE DEALER: HELLO, WELCOME, then COUNT reports with at most WINDOW
 *       unacknowledged, until every one is acknowledged; print RESULT <start ns>
 *       <end ns> (CLOCK_MONOTONIC, from the first send to the last ACK). With RATE, one
 *       report every 1/RATE s from OFFSET_US past the start, each carrying its send
 *       time in the first 8 bytes of its payload.
 *   durable_relay sub PUB COUNT
 *       a CURVE SUB on `alert.`: receive COUNT records, print RESULT <p50 ns> <p99 ns>
 *       <received> of send → arrival (one clock for every process: CLOCK_MONOTONIC).
 *
 * The log is a file of LOG_BYTES written with zeros and synced before READY, written
 * from its start again when full, as SQLite reuses its write-ahead log after a
 * checkpoint: each fdatasync then flushes the batch's data, not the file's growth, the
 * cheapest durable write this file system offers.
 *
 * What it does not do, which Koers does: decode and validate fields, authorise by a
 * ZAP handler (the cipher is the same: CURVE), keep a database with indexes, compute
 * statuses and alerts. Every report is the same size: the benchmark's own constant.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "bench_common.h"

#define ENVELOPE 24
#define MAX_PUBLISHERS 16
#define LOG_BYTES (32L << 20)
enum { HELLO = 0x01, REPORT = 0x10, ACK = 0x20, WELCOME = 0x22 };

static void die(const char *what) { die_zmq("durable_relay", what); }

static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The 24-byte envelope of docs/protocol.md §2.1. */
static void envelope(unsigned char *e, int type, uint64_t sequence) {
    memset(e, 0, ENVELOPE);
    e[0] = 'K'; e[1] = 'R'; e[2] = 1; e[3] = (unsigned char)type;
    put_u64(e + 8, sequence);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    put_u64(e + 16, (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* [envelope][payload] to a DEALER, or [identity][envelope][payload] from a ROUTER. */
static void send_message(void *s, const void *id, size_t id_len, const unsigned char *env, const void *payload, size_t len) {
    if (id && zmq_send(s, id, id_len, ZMQ_SNDMORE) < 0) die("send identity");
    if (zmq_send(s, env, ENVELOPE, ZMQ_SNDMORE) < 0) die("send envelope");
    if (zmq_send(s, payload, len, 0) < 0) die("send payload");
}

typedef struct {
    unsigned char id[256];
    size_t id_len;
    uint64_t stored, acked;
} publisher;

static publisher publishers[MAX_PUBLISHERS];
static int publisher_count;

static publisher *find(const unsigned char *id, size_t len) {
    for (int i = 0; i < publisher_count; i++)
        if (publishers[i].id_len == len && memcmp(publishers[i].id, id, len) == 0) return &publishers[i];
    return NULL;
}

/* Reads one [identity][envelope][payload] message into id and record (envelope then
 * payload, `size` bytes in all); 0 when nothing is waiting and `flags` is ZMQ_DONTWAIT. */
static int read_message(void *s, int flags, unsigned char *id, size_t *id_len, unsigned char *record, size_t size) {
    int n = zmq_recv(s, id, 255, flags);
    if (n < 0) {
        if (zmq_errno() == EAGAIN) return 0;
        die("recv");
    }
    *id_len = (size_t)n;
    int e = zmq_recv(s, record, ENVELOPE, 0);
    if (e != ENVELOPE) { fprintf(stderr, "durable_relay: envelope of %d bytes\n", e); exit(1); }
    int p = zmq_recv(s, record + ENVELOPE, size - ENVELOPE, 0);
    if (record[3] == REPORT && (size_t)p != size - ENVELOPE) {
        fprintf(stderr, "durable_relay: a report of %d payload bytes, expected %zu\n", p, size - ENVELOPE);
        exit(1);
    }
    return 1;
}

/* Waits for every publisher's HELLO, then WELCOMEs each (settled through 0: the file
 * starts empty), so that they all start together. */
static void greet(void *router, int expected, unsigned char *scratch, size_t size) {
    unsigned char id[256], env[ENVELOPE];
    size_t id_len;
    while (publisher_count < expected) {
        read_message(router, 0, id, &id_len, scratch, size);
        if (scratch[3] != HELLO || find(id, id_len)) continue;
        publisher *p = &publishers[publisher_count++];
        memcpy(p->id, id, id_len);
        p->id_len = id_len;
    }
    unsigned char settled[11] = {14, 8, 0};
    for (int i = 0; i < publisher_count; i++) {
        envelope(env, WELCOME, 0);
        send_message(router, publishers[i].id, publishers[i].id_len, env, settled, sizeof settled);
    }
}

static void write_at(int fd, const unsigned char *buf, size_t len, off_t at) {
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { perror("durable_relay: write"); exit(1); }
        buf += n;
        at += n;
        len -= (size_t)n;
    }
}

/* The log's file, LOG_BYTES of zeros made durable before any report arrives. */
static int open_log(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("durable_relay: open"); exit(1); }
    static unsigned char zeros[1 << 20];
    for (off_t at = 0; at < LOG_BYTES; at += sizeof zeros) write_at(fd, zeros, sizeof zeros, at);
    if (fsync(fd) != 0) { perror("durable_relay: fsync"); exit(1); }
    return fd;
}

/* Where the next batch goes: at the end of the last, or from the start when full. */
static off_t log_end;

/* Reads what has arrived (at least one report, at most `batch`), stores it durably,
 * publishes it when `pub` is set, acknowledges; returns the reports it took. */
static long relay_batch(void *router, void *pub, int fd, unsigned char *buf, publisher **from, long batch, size_t size) {
    unsigned char id[256];
    size_t id_len;
    long n = 0;
    while (n < batch && read_message(router, n == 0 ? 0 : ZMQ_DONTWAIT, id, &id_len, buf + n * size, size)) {
        unsigned char *record = buf + n * size;
        publisher *p = find(id, id_len);
        if (!p || record[3] != REPORT) continue;  /* a repeated HELLO, or a stranger */
        uint64_t sequence = get_u64(record + 8);
        if (sequence != p->stored + 1) {
            fprintf(stderr, "durable_relay: sequence %llu after %llu\n", (unsigned long long)sequence, (unsigned long long)p->stored);
            exit(1);
        }
        p->stored = sequence;
        from[n++] = p;
    }
    if (log_end + (off_t)(n * size) > LOG_BYTES) log_end = 0;
    write_at(fd, buf, n * size, log_end);
    log_end += (off_t)(n * size);
    if (fdatasync(fd) != 0) { perror("durable_relay: fdatasync"); exit(1); }
    for (long i = 0; pub && i < n; i++) {
        char topic[32];
        int len = snprintf(topic, sizeof topic, "alert.%ld", (long)(from[i] - publishers));
        if (zmq_send(pub, topic, (size_t)len, ZMQ_SNDMORE) < 0) die("publish");
        if (zmq_send(pub, buf + i * size, ENVELOPE, ZMQ_SNDMORE) < 0) die("publish");
        if (zmq_send(pub, buf + i * size + ENVELOPE, size - ENVELOPE, 0) < 0) die("publish");
    }
    unsigned char env[ENVELOPE], ack[11] = {14, 8, 0};
    for (int i = 0; i < publisher_count; i++) {
        publisher *p = &publishers[i];
        if (p->stored == p->acked) continue;
        envelope(env, ACK, 0);
        put_u64(ack + 3, p->stored);
        send_message(router, p->id, p->id_len, env, ack, sizeof ack);
        p->acked = p->stored;
    }
    return n;
}

static int relay(char **argv, int argc, void *ctx) {
    const char *ingest = argv[2], *path = argv[3];
    int expected = atoi(argv[4]);
    long total = atol(argv[5]), batch = atol(argv[7]);
    size_t size = (size_t)atol(argv[6]);
    if (expected < 1 || expected > MAX_PUBLISHERS || size < ENVELOPE + 8 || batch < 1 || (off_t)(batch * size) > LOG_BYTES) {
        fprintf(stderr, "durable_relay: bad arguments\n");
        return 2;
    }
    int hwm = 100000, linger = 2000;
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_setsockopt(router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    curve_server(router);
    if (zmq_bind(router, ingest) != 0) die("bind ingest");
    char bound[256], pub_bound[256] = "";
    last_endpoint(router, bound, sizeof bound, "durable_relay");
    void *pub = NULL;
    if (argc > 8) {
        pub = zmq_socket(ctx, ZMQ_XPUB);
        int big = 1000000;
        zmq_setsockopt(pub, ZMQ_SNDHWM, &big, sizeof big);
        zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
        curve_server(pub);
        if (zmq_bind(pub, argv[8]) != 0) die("bind pub");
        last_endpoint(pub, pub_bound, sizeof pub_bound, "durable_relay");
    }
    int fd = open_log(path);
    printf("READY %s%s%s\n", bound, pub ? " " : "", pub_bound);
    fflush(stdout);
    unsigned char *buf = malloc((size_t)batch * size);
    publisher **from = malloc(sizeof(publisher *) * (size_t)batch);
    if (pub) {
        /* An XPUB hears each subscription: publishing starts once the subscriber is in. */
        char subscription[256];
        if (zmq_recv(pub, subscription, sizeof subscription, 0) < 0) die("wait for a subscriber");
    }
    greet(router, expected, buf, size);
    long stored = 0, batches = 0;
    while (stored < total) {
        stored += relay_batch(router, pub, fd, buf, from, batch, size);
        batches++;
    }
    printf("RESULT %ld %ld\n", batches, stored);
    close(fd);
    free(buf);
    free(from);
    if (pub) zmq_close(pub);
    zmq_close(router);
    return 0;
}

/* Reads the ACKs waiting; returns the highest settled_through seen (or `acked`). */
static uint64_t read_acks(void *s, uint64_t acked) {
    unsigned char env[ENVELOPE], payload[64];
    while (zmq_recv(s, env, ENVELOPE, ZMQ_DONTWAIT) == ENVELOPE) {
        int n = zmq_recv(s, payload, sizeof payload, 0);
        if (env[3] == ACK && n >= 11 && payload[0] == 14) {
            uint64_t through = get_u64(payload + 3);
            if (through > acked) acked = through;
        }
    }
    return acked;
}

static int publish(char **argv, int argc, void *ctx) {
    const char *ingest = argv[2];
    uint64_t count = (uint64_t)atoll(argv[3]), window = (uint64_t)atoll(argv[5]);
    size_t size = (size_t)atol(argv[4]);
    double rate = argc > 6 ? atof(argv[6]) : 0;
    long long offset = argc > 7 ? atoll(argv[7]) * 1000 : 0;
    int hwm = 100000, linger = 0, timeout = 30000;
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    curve_client(s);
    if (zmq_connect(s, ingest) != 0) die("connect");
    unsigned char env[ENVELOPE], reply[64];
    envelope(env, HELLO, 0);
    send_message(s, NULL, 0, env, "", 0);
    if (zmq_recv(s, env, ENVELOPE, 0) != ENVELOPE || env[3] != WELCOME) die("wait for WELCOME");
    zmq_recv(s, reply, sizeof reply, 0);
    unsigned char *payload = calloc(1, size - ENVELOPE);
    long long start = now_ns(), interval = rate > 0 ? (long long)(1e9 / rate) : 0;
    uint64_t next = 1, acked = 0;
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    while (acked < count) {
        int blocked = 0;
        while (next <= count && next - acked <= window) {
            if (interval && now_ns() < start + offset + (long long)(next - 1) * interval) break;
            envelope(env, REPORT, next);
            if (interval) put_u64(payload, (uint64_t)now_ns());
            if (zmq_send(s, env, ENVELOPE, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
                if (zmq_errno() != EAGAIN) die("send");
                blocked = 1;
                break;
            }
            if (zmq_send(s, payload, size - ENVELOPE, 0) < 0) die("send");
            next++;
            if (interval) break;
        }
        long wait_ms = 10000;
        if (interval && next <= count) {
            long long due = start + offset + (long long)(next - 1) * interval - now_ns();
            wait_ms = due <= 0 ? 0 : (long)((due + 999999) / 1000000);
        }
        item.events = ZMQ_POLLIN | (blocked ? ZMQ_POLLOUT : 0);
        int ready = zmq_poll(&item, 1, wait_ms);
        if (ready < 0) die("poll");
        if (ready == 0 && wait_ms == 10000) {
            fprintf(stderr, "durable_relay: no ACK for 10 s at %llu of %llu\n", (unsigned long long)acked, (unsigned long long)count);
            return 1;
        }
        acked = read_acks(s, acked);
    }
    printf("RESULT %lld %lld\n", start, now_ns());
    free(payload);
    zmq_close(s);
    return 0;
}

static int subscribe(char **argv, void *ctx) {
    long count = atol(argv[3]);
    int hwm = 1000000, timeout = 30000;
    void *s = zmq_socket(ctx, ZMQ_SUB);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    curve_client(s);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "alert.", 6);
    if (zmq_connect(s, argv[2]) != 0) die("connect");
    long long *samples = malloc(sizeof(long long) * (size_t)(count > 0 ? count : 1));
    long n = 0;
    unsigned char topic[64], env[ENVELOPE], payload[4096];
    while (n < count) {
        if (zmq_recv(s, topic, sizeof topic, 0) < 0) break;  /* 30 s without a record */
        zmq_recv(s, env, ENVELOPE, 0);
        zmq_recv(s, payload, sizeof payload, 0);
        samples[n++] = now_ns() - (long long)get_u64(payload);
    }
    qsort(samples, (size_t)n, sizeof(long long), cmp_ll);
    printf("RESULT %lld %lld %ld\n", n ? samples[n / 2] : 0, n ? samples[(long)(n * 0.99)] : 0, n);
    free(samples);
    zmq_close(s);
    return n == count ? 0 : 1;
}

int main(int argc, char **argv) {
    int ok = argc >= 4 && ((strcmp(argv[1], "relay") == 0 && argc >= 8) || (strcmp(argv[1], "publish") == 0 && argc >= 6)
                           || strcmp(argv[1], "sub") == 0);
    if (!ok) {
        fprintf(stderr, "usage: durable_relay relay INGEST FILE PUBLISHERS TOTAL SIZE BATCH [PUB]\n"
                        "       durable_relay publish INGEST COUNT SIZE WINDOW [RATE OFFSET_US]\n"
                        "       durable_relay sub PUB COUNT\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    int rc = strcmp(argv[1], "relay") == 0 ? relay(argv, argc, ctx)
           : strcmp(argv[1], "publish") == 0 ? publish(argv, argc, ctx)
           : subscribe(argv, ctx);
    zmq_ctx_term(ctx);
    return rc;
}

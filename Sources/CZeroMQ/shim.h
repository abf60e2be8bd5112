#ifndef KOERS_CZEROMQ_SHIM_H
#define KOERS_CZEROMQ_SHIM_H

// libzmq from Debian's libzmq3-dev (4.3.x). Only the stable API is used: Debian
// builds libzmq without its draft API, so ZMQ_ZAP_ENFORCE_DOMAIN and friends do
// not exist at run time and Koers enforces "no ZAP handler, no service" itself.
#include <zmq.h>

// eventfd wakes a socket owner thread out of zmq_poll.
#include <sys/eventfd.h>
#include <unistd.h>

#endif

#ifndef ROLO_CLIBPQ_SHIM_H
#define ROLO_CLIBPQ_SHIM_H

// libpq, PostgreSQL's C client library (Debian's libpq-dev), for the server backend.
#include <libpq-fe.h>

#endif

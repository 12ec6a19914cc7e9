// MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, ...) are C macros that
// Swift cannot import. These inline functions turn them into callable symbols.
#ifndef FLUORO_MPI_SHIM_H
#define FLUORO_MPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm fluoro_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype fluoro_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype fluoro_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype fluoro_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype fluoro_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op fluoro_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op fluoro_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op fluoro_mpi_min(void) { return MPI_MIN; }
static inline void *fluoro_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request fluoro_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *fluoro_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler fluoro_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int fluoro_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int fluoro_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int fluoro_mpi_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
#endif

// Fluoro's one DICOM reader: a plain C interface over GDCM 3 (C++), so Swift sees C only.
//
// fluoro_dicom_read parses one DICOM Part 10 file held in memory, reads the pixel module and the
// text of the attributes the caller asks for (top level, the Shared Functional Groups and every
// item of the Per-frame Functional Groups of an enhanced multi-frame image), and decodes every
// frame, whatever the transfer syntax GDCM supports. Pixels come out in Fluoro's convention: 8-bit
// (BitsAllocated 8) or 16-bit little endian (BitsAllocated 16) stored values shifted so HighBit is
// bit BitsStored-1, masked to BitsStored bits, signed values moved to unsigned (+2^(BitsStored-1)),
// MONOCHROME1 inverted to MONOCHROME2 (2^BitsStored-1-v).
//
// With FLUORO_DICOM_ISOLATE the work runs in a decoding process (a fluoro_dicom_worker): a file
// that makes GDCM (or a codec under it) assert or crash becomes FLUORO_DICOM_CRASHED instead of
// taking the caller down. The process is `fluoro-dicom-decoder` (a lean executable of this
// library, looked for beside the caller's), else the caller's executable itself (posix_spawn of
// /proc/self/exe; a constructor in this library catches either before `main`). It is started
// once and serves one file after another; it is started again after a file kills it. Each file
// is bounded in memory (512 MiB + 256 x its size) and time (10 minutes + 10 s per MB, then
// SIGALRM). Its pixels stay in shared memory the result maps until fluoro_dicom_free.
#ifndef FLUORO_DICOM_H
#define FLUORO_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a read.
typedef enum {
  FLUORO_DICOM_OK = 0,
  /// GDCM could not parse the dataset (truncated or corrupt structure).
  FLUORO_DICOM_UNPARSABLE = 1,
  /// A required attribute is absent; `missing_tag` names it (group << 16 | element).
  FLUORO_DICOM_MISSING_ATTRIBUTE = 2,
  /// The file is a DICOM object without Pixel Data (DICOMDIR, structured report, presentation state...).
  FLUORO_DICOM_NOT_AN_IMAGE = 3,
  /// GDCM has no decoder for the transfer syntax.
  FLUORO_DICOM_UNSUPPORTED_SYNTAX = 4,
  /// Native Pixel Data is shorter than the image needs, or holds whole frames more than NumberOfFrames.
  FLUORO_DICOM_PIXEL_LENGTH = 5,
  /// Encapsulated pixel data cannot be split into NumberOfFrames frames.
  FLUORO_DICOM_FRAME_COUNT = 6,
  /// A codec refused a frame (`frame` names it, -1 when GDCM decodes all frames at once).
  FLUORO_DICOM_DECODE_FAILED = 7,
  /// The isolated child process died (a signal) or could not be started.
  FLUORO_DICOM_CRASHED = 8,
  /// Anything else (out of memory, an exception).
  FLUORO_DICOM_INTERNAL = 9,
} fluoro_dicom_status;

/// Flags of fluoro_dicom_read.
enum {
  /// Decode the pixels (otherwise attributes only).
  FLUORO_DICOM_DECODE = 1,
  /// Decode only when Modality is XA or RF, or absent with an X-ray SOP class.
  FLUORO_DICOM_ONLY_XRAY = 2,
  /// Run in the shared decoding process (see above; fluoro_dicom_worker_shared).
  FLUORO_DICOM_ISOLATE = 4,
};

/// The image pixel module as read (0 when absent), after the decoder's corrections.
typedef struct {
  uint32_t rows, columns, frames, samples_per_pixel;
  uint32_t bits_allocated, bits_stored, high_bit, pixel_representation;
  /// 1 when Pixel Data was decoded into the result.
  int32_t decoded;
  /// 1 when Pixel Data is encapsulated (compressed).
  int32_t encapsulated;
  /// 1 when the file is an X-ray image (Modality XA/RF, or no Modality and an XA/RF SOP class).
  int32_t is_xray;
  /// 1 when 8-bit JPEG frames were decoded by libjpeg-turbo rather than GDCM's own libjpeg.
  int32_t turbo;
} fluoro_dicom_pixel_module;

typedef struct fluoro_dicom fluoro_dicom;

/// Reads `count` bytes of a DICOM Part 10 file. `tags` (group << 16 | element) are the attributes
/// whose text the caller wants (fluoro_dicom_value). Never returns NULL; free with fluoro_dicom_free.
fluoro_dicom *fluoro_dicom_read(const void *bytes, size_t count, const uint32_t *tags, size_t tag_count, int flags);

void fluoro_dicom_free(fluoro_dicom *result);

fluoro_dicom_status fluoro_dicom_status_of(const fluoro_dicom *result);
/// A one-line description of a failure ("" when OK).
const char *fluoro_dicom_error(const fluoro_dicom *result);
/// The frame a decode failure concerns, or -1.
int32_t fluoro_dicom_error_frame(const fluoro_dicom *result);
/// The missing attribute of FLUORO_DICOM_MISSING_ATTRIBUTE (group << 16 | element).
uint32_t fluoro_dicom_missing_tag(const fluoro_dicom *result);
/// Transfer Syntax UID ("" when unknown).
const char *fluoro_dicom_transfer_syntax(const fluoro_dicom *result);
/// Photometric Interpretation, trimmed ("" when absent).
const char *fluoro_dicom_photometric(const fluoro_dicom *result);
fluoro_dicom_pixel_module fluoro_dicom_pixels_info(const fluoro_dicom *result);

/// Text of requested tag `index` (values separated by backslashes, binary VRs as decimal text,
/// trailing spaces and NULs trimmed), or NULL when absent. `frame` -1: the top-level dataset, else
/// the Shared Functional Groups; `frame` >= 0: that frame's Per-frame Functional Groups item only.
const char *fluoro_dicom_value(const fluoro_dicom *result, size_t index, int32_t frame);

/// The decoded pixels (frames x rows x columns x bits_allocated/8 bytes), or NULL.
const void *fluoro_dicom_pixels(const fluoro_dicom *result, size_t *byte_count);

/// A decoding process for isolated reads: started on first use (or by fluoro_dicom_worker_start),
/// restarted when a file kills it, stopped and waited for by fluoro_dicom_worker_free. Reads
/// through one worker run one at a time; use several workers to decode in parallel.
typedef struct fluoro_dicom_worker fluoro_dicom_worker;

/// The process-wide worker behind FLUORO_DICOM_ISOLATE (stopped at exit; do not free it). Its
/// process takes the test crash marker, if any, from the environment (FLUORO_DICOM_CRASH_ON).
fluoro_dicom_worker *fluoro_dicom_worker_shared(void);

/// A worker of one's own. `crash_marker`, for tests: NULL or "" normally; else a file containing
/// these bytes makes the process crash (SIGSEGV), as a codec bug would.
fluoro_dicom_worker *fluoro_dicom_worker_new(const char *crash_marker);

void fluoro_dicom_worker_free(fluoro_dicom_worker *worker);

/// Starts the process now, so its start-up overlaps the caller's work. 0 when it runs.
int fluoro_dicom_worker_start(fluoro_dicom_worker *worker);

/// How many processes the worker has started: 1, plus one per restart.
uint64_t fluoro_dicom_worker_spawns(const fluoro_dicom_worker *worker);

/// The executable of the worker's last process ("" before the first): `fluoro-dicom-decoder`
/// beside the caller's executable, or "/proc/self/exe" (the caller's own) when there is none or it
/// was built from other sources. Valid until the next call on this worker.
const char *fluoro_dicom_worker_executable(fluoro_dicom_worker *worker);

/// fluoro_dicom_read in the worker's process (FLUORO_DICOM_ISOLATE is implied).
fluoro_dicom *fluoro_dicom_worker_read(fluoro_dicom_worker *worker, const void *bytes, size_t count, const uint32_t *tags,
                                       size_t tag_count, int flags);

#ifdef __cplusplus
}
#endif

#endif

// Fluoro's DICOM reader over GDCM 3 (see include/fluoro_dicom.h). GDCM parses every file and
// decodes every transfer syntax; 8-bit JPEG (Baseline, or Extended holding 8-bit samples) is the
// one exception: its frames, split out of GDCM's parsed fragments, are decoded by libjpeg-turbo,
// which is about 2.5x faster than the IJG libjpeg bundled with GDCM on the shared XA runs
// (docs/BENCHMARKS.md "Clinical ingest"). Both use the accurate integer IDCT. Isolated reads run
// the same code in the decoding process (decoder_process.cpp, decoder_client.cpp).
#include "dicom_result.h"

#include <gdcm-3.0/gdcmAttribute.h>
#include <gdcm-3.0/gdcmDataSet.h>
#include <gdcm-3.0/gdcmDict.h>
#include <gdcm-3.0/gdcmDicts.h>
#include <gdcm-3.0/gdcmGlobal.h>
#include <gdcm-3.0/gdcmImageReader.h>
#include <gdcm-3.0/gdcmMediaStorage.h>
#include <gdcm-3.0/gdcmSequenceOfFragments.h>
#include <gdcm-3.0/gdcmSequenceOfItems.h>
#include <gdcm-3.0/gdcmTrace.h>
#include <gdcm-3.0/gdcmTransferSyntax.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <istream>
#include <mutex>
#include <optional>
#include <sstream>
#include <streambuf>
#include <sched.h>
#include <string>
#include <system_error>
#include <thread>
#include <vector>


namespace {

/// A read-only seekable stream buffer over caller memory (GDCM seeks while parsing).
class MemoryBuffer : public std::streambuf {
public:
  MemoryBuffer(const char *bytes, size_t count) {
    char *p = const_cast<char *>(bytes);
    setg(p, p, p + count);
  }

  /// Where a read first asked for more bytes than were left (a truncated file), or -1.
  std::streamoff shortRead = -1;

protected:
  std::streamsize xsgetn(char *s, std::streamsize n) override {
    std::streamsize left = egptr() - gptr();
    // At the very end, GDCM's attempt to read one more tag/VR/length (at most 8 bytes) is normal;
    // a longer value, or any read that gets only part of what it asked for, is not.
    if (n > left && (left > 0 || n > 8) && shortRead < 0) shortRead = gptr() - eback();
    return std::streambuf::xsgetn(s, n);
  }
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
    off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : egptr() - eback();
    return seekpos(pos_type(base + off), which);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    off_type p = off_type(pos);
    if (!(which & std::ios_base::in) || p < 0 || p > egptr() - eback()) return pos_type(off_type(-1));
    setg(eback(), eback() + p, egptr());
    return pos;
  }
};

/// Exposes the two halves of gdcm::ImageReader::Read: parsing, then the image module.
class Reader : public gdcm::ImageReader {
public:
  bool parse() { return gdcm::Reader::Read(); }
  bool readImage(const gdcm::MediaStorage &ms) { return ReadImage(ms); }
};

std::string trimmed(const char *p, size_t n) {
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0')) n--;
  size_t start = 0;
  while (start < n && p[start] == ' ') start++;
  return std::string(p + start, n - start);
}

/// The text of a data element: string VRs as stored (trimmed), binary numbers as decimal text.
std::optional<std::string> textOf(const gdcm::DataElement &de) {
  const gdcm::ByteValue *bv = de.GetByteValue();
  if (!bv) return std::nullopt;
  gdcm::VR vr = de.GetVR();
  if (vr == gdcm::VR::INVALID || vr == gdcm::VR::UN) {
    static const gdcm::Dicts &dicts = gdcm::Global::GetInstance().GetDicts();
    vr = dicts.GetDictEntry(de.GetTag()).GetVR();
  }
  const char *p = bv->GetPointer();
  const size_t n = bv->GetLength();
  auto numbers = [&](size_t size, auto convert) {
    std::string out;
    for (size_t i = 0; i + size <= n; i += size) {
      if (!out.empty()) out += '\\';
      out += convert(p + i);
    }
    return out;
  };
  auto load = [](const char *q, auto zero) { decltype(zero) v; memcpy(&v, q, sizeof v); return v; };
  switch (vr) {
  case gdcm::VR::US: return numbers(2, [&](const char *q) { return std::to_string(load(q, uint16_t())); });
  case gdcm::VR::SS: return numbers(2, [&](const char *q) { return std::to_string(load(q, int16_t())); });
  case gdcm::VR::UL: return numbers(4, [&](const char *q) { return std::to_string(load(q, uint32_t())); });
  case gdcm::VR::SL: return numbers(4, [&](const char *q) { return std::to_string(load(q, int32_t())); });
  case gdcm::VR::FL: return numbers(4, [&](const char *q) { std::ostringstream s; s.precision(9); s << load(q, float()); return s.str(); });
  case gdcm::VR::FD: return numbers(8, [&](const char *q) { std::ostringstream s; s.precision(17); s << load(q, double()); return s.str(); });
  case gdcm::VR::OB: case gdcm::VR::OW: case gdcm::VR::OF: case gdcm::VR::OD: case gdcm::VR::SQ: return std::nullopt;
  default: return trimmed(p, n);
  }
}

/// The items of a sequence element (empty when it is not one).
gdcm::SmartPointer<gdcm::SequenceOfItems> itemsOf(const gdcm::DataSet &ds, const gdcm::Tag &tag) {
  if (!ds.FindDataElement(tag)) return nullptr;
  const gdcm::DataElement &de = ds.GetDataElement(tag);
  if (de.IsEmpty()) return nullptr;
  return de.GetValueAsSQ();
}

/// `tag` in a functional groups item: directly, or inside one of its macro sequences.
std::optional<std::string> findInGroup(const gdcm::DataSet &group, const gdcm::Tag &tag) {
  if (group.FindDataElement(tag)) return textOf(group.GetDataElement(tag));
  for (const gdcm::DataElement &de : group.GetDES()) {
    if (de.IsEmpty() || de.GetByteValue()) continue;  // macros are sequences
    gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
    if (!sq || sq->GetNumberOfItems() == 0) continue;
    const gdcm::DataSet &macro = sq->GetItem(1).GetNestedDataSet();
    if (macro.FindDataElement(tag)) return textOf(macro.GetDataElement(tag));
  }
  return std::nullopt;
}

std::string stringOf(const gdcm::DataSet &ds, const gdcm::Tag &tag) {
  if (!ds.FindDataElement(tag)) return "";
  return textOf(ds.GetDataElement(tag)).value_or("");
}

/// A US attribute of `ds` (any VR encoding; GDCM keeps values in native byte order).
bool usOf(const gdcm::DataSet &ds, const gdcm::Tag &tag, uint32_t &value) {
  if (!ds.FindDataElement(tag)) return false;
  const gdcm::ByteValue *bv = ds.GetDataElement(tag).GetByteValue();
  if (!bv || bv->GetLength() != 2) return false;
  uint16_t v;
  memcpy(&v, bv->GetPointer(), 2);
  value = v;
  return true;
}

/// Maps stored values to Fluoro's convention in place (see the header). Native pixels are shifted
/// and masked (bits above BitsStored may hold overlays); decoded pixels are clamped instead, since
/// a lossy codec may overshoot the stored range by a little and masking would wrap those values.
void normalize(uint8_t *data, size_t count, int bytes, int bitsStored, int highBit, bool isSigned, bool invert, bool decoded) {
  const uint32_t mask = bitsStored >= 32 ? 0xFFFFFFFFu : (1u << bitsStored) - 1;
  const uint32_t sign = isSigned ? 1u << (bitsStored - 1) : 0;
  const uint32_t full = bytes == 1 ? 0xFFu : 0xFFFFu;
  if (decoded) {
    // Unsigned samples that fill their bytes (8-bit JPEG, most often) cannot leave the stored
    // range: nothing to do (this pass cost about a tenth of `pack`'s time on 8-bit runs).
    if (!isSigned && !invert && mask >= full) return;
    // Signed: the low BitsStored bits are two's complement whether or not the codec sign-extended
    // them; flipping the sign bit moves them to unsigned. Unsigned: clamp to the stored range.
    auto map = [&](uint32_t raw) {
      uint32_t u = isSigned ? (raw & mask) ^ sign : (raw > mask ? mask : raw);
      return invert ? mask - u : u;
    };
    if (bytes == 1) {
      for (size_t i = 0; i < count; i++) data[i] = uint8_t(map(data[i]));
    } else {
      uint16_t *d = reinterpret_cast<uint16_t *>(data);
      for (size_t i = 0; i < count; i++) d[i] = uint16_t(map(d[i]));
    }
    return;
  }
  const uint32_t shift = uint32_t(highBit + 1 - bitsStored);
  if (shift == 0 && mask == full && sign == 0 && !invert) return;
  if (bytes == 1) {
    for (size_t i = 0; i < count; i++) {
      uint32_t v = ((uint32_t(data[i]) >> shift) & mask) ^ sign;
      data[i] = uint8_t(invert ? mask - v : v);
    }
  } else {
    uint16_t *d = reinterpret_cast<uint16_t *>(data);
    for (size_t i = 0; i < count; i++) {
      uint32_t v = ((uint32_t(d[i]) >> shift) & mask) ^ sign;
      d[i] = uint16_t(invert ? mask - v : v);
    }
  }
}

/// Start-of-frame marker and sample precision of a JPEG stream, or {0, 0}.
std::pair<int, int> jpegFrameHeader(const uint8_t *p, size_t n) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return {0, 0};
  size_t i = 2;
  while (i + 1 < n) {
    if (p[i] != 0xFF) return {0, 0};
    uint8_t marker = p[i + 1];
    i += 2;
    while (marker == 0xFF && i < n) marker = p[i++];
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
    if (i + 2 > n) return {0, 0};
    size_t length = size_t(p[i]) << 8 | p[i + 1];
    bool isFrame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (isFrame) return i + 2 < n ? std::make_pair(int(marker), int(p[i + 2])) : std::make_pair(0, 0);
    if (marker == 0xDA || length < 2) return {0, 0};
    i += length;
  }
  return {0, 0};
}

struct Fragment {
  const uint8_t *bytes;
  size_t count;
  size_t itemOffset;  // from the first fragment's item tag, as the Basic Offset Table counts
};

/// Groups fragments into frames: by the Basic Offset Table when it has one entry per frame that
/// points at fragments, else one fragment per frame when the counts agree, else all fragments for
/// a single frame, else a new frame at every fragment starting with a JPEG SOI marker (FF D8).
bool splitFrames(const std::vector<Fragment> &fragments, const std::vector<uint32_t> &table, size_t frames,
                 std::vector<std::vector<size_t>> &groups, std::string &why) {
  groups.clear();
  if (table.size() == frames && !table.empty() && table[0] == 0) {
    bool ascending = true;
    for (size_t i = 1; i < table.size(); i++) ascending = ascending && table[i - 1] < table[i];
    if (ascending) {
      groups.assign(frames, {});
      size_t frame = 0;
      std::vector<size_t> starts;
      for (size_t i = 0; i < fragments.size(); i++) {
        while (frame + 1 < frames && fragments[i].itemOffset >= table[frame + 1]) frame++;
        groups[frame].push_back(i);
        starts.push_back(fragments[i].itemOffset);
      }
      bool trusted = true;
      for (uint32_t offset : table) trusted = trusted && std::find(starts.begin(), starts.end(), offset) != starts.end();
      for (auto &g : groups) trusted = trusted && !g.empty();
      if (trusted) return true;
      groups.clear();
    }
  }
  if (fragments.size() == frames) {
    for (size_t i = 0; i < frames; i++) groups.push_back({i});
    return true;
  }
  if (frames == 1 && !fragments.empty()) {
    groups.push_back({});
    for (size_t i = 0; i < fragments.size(); i++) groups[0].push_back(i);
    return true;
  }
  size_t soi = 0;
  for (size_t i = 0; i < fragments.size(); i++) {
    bool starts = fragments[i].count >= 2 && fragments[i].bytes[0] == 0xFF && fragments[i].bytes[1] == 0xD8;
    if (starts || groups.empty()) groups.push_back({i}); else groups.back().push_back(i);
    soi += starts;
  }
  if (groups.size() == frames) return true;
  why = std::to_string(fragments.size()) + " fragments, " + std::to_string(table.size()) +
        " Basic Offset Table entries, " + std::to_string(soi) + " JPEG start-of-image markers";
  return false;
}

/// The first frame that failed in a range of frames, and why.
struct FrameProblem {
  size_t frame = SIZE_MAX;
  std::string problem;
  /// No decompressor could be made (memory): the process's fault, not the frame's.
  bool internal = false;
};

/// Decodes frames [first, last) of `groups` with one libjpeg-turbo handle into `out` (rows x
/// columns bytes per frame); stops at the first frame that fails.
FrameProblem decodeTurboRange(const std::vector<Fragment> &fragments, const std::vector<std::vector<size_t>> &groups,
                              size_t first, size_t last, size_t rows, size_t columns, uint8_t *out) {
  FrameProblem result;
  tjhandle handle = tjInitDecompress();
  if (!handle) { result.frame = first; result.problem = "cannot create a TurboJPEG decompressor"; result.internal = true; return result; }
  auto libraryProblem = [&] {
    return std::string("libjpeg-turbo ") + (tjGetErrorCode(handle) == TJERR_WARNING ? "warning" : "error") + ": " + tjGetErrorStr2(handle);
  };
  std::vector<uint8_t> joined;
  for (size_t t = first; t < last && result.problem.empty(); t++) {
    const uint8_t *jpeg;
    size_t n;
    if (groups[t].size() == 1) {
      jpeg = fragments[groups[t][0]].bytes;
      n = fragments[groups[t][0]].count;
    } else {
      joined.clear();
      for (size_t i : groups[t]) joined.insert(joined.end(), fragments[i].bytes, fragments[i].bytes + fragments[i].count);
      jpeg = joined.data();
      n = joined.size();
    }
    int w = 0, h = 0, sub = 0, space = 0;
    std::string problem;
    if (n == 0) problem = "empty frame";
    else if (tjDecompressHeader3(handle, jpeg, (unsigned long)n, &w, &h, &sub, &space) != 0) problem = libraryProblem();
    else if (size_t(w) != columns || size_t(h) != rows)
      problem = "it is " + std::to_string(w) + "x" + std::to_string(h) + " but Columns x Rows is " + std::to_string(columns) + "x" + std::to_string(rows);
    else if (tjDecompress2(handle, jpeg, (unsigned long)n, out + t * rows * columns, w, w, h, TJPF_GRAY, TJFLAG_ACCURATEDCT) != 0)
      problem = libraryProblem();
    if (!problem.empty()) { result.frame = t; result.problem = problem; }
  }
  tjDestroy(handle);
  return result;
}

/// How many threads decode a file's JPEG frames: one per core this process may run on (at most
/// 8), and at least 4 frames each, so short runs and one-frame files stay on one thread.
size_t jpegDecodeThreads(size_t frames) {
  cpu_set_t cpus;
  size_t cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? size_t(CPU_COUNT(&cpus)) : 1;
  return std::max<size_t>(1, std::min({cores, frames / 4, size_t(8)}));
}

/// Decodes 8-bit JPEG frames with libjpeg-turbo, contiguous ranges of frames on several threads
/// (the frames are independent; the pixels are the same whatever the thread count). Returns false
/// (and fails `r` with the lowest failing frame) on any error or warning: libjpeg's warnings
/// ("Corrupt JPEG data", "Premature end") mean guessed pixels.
bool decodeTurbo(fluoro_dicom &r, const std::vector<Fragment> &fragments, const std::vector<uint32_t> &table,
                 uint8_t *out) {
  const size_t rows = r.module.rows, columns = r.module.columns, frames = r.module.frames;
  std::vector<std::vector<size_t>> groups;
  std::string why;
  if (!splitFrames(fragments, table, frames, groups, why)) {
    r.fail(FLUORO_DICOM_FRAME_COUNT, "NumberOfFrames is " + std::to_string(frames) +
           " but the encapsulated pixel data holds " + std::to_string(groups.size()) + " frames (" + why + ")");
    return false;
  }
  const size_t threads = jpegDecodeThreads(frames);
  std::vector<FrameProblem> problems(threads);
  std::vector<std::thread> helpers;
  auto range = [&](size_t i) {
    problems[i] = decodeTurboRange(fragments, groups, frames * i / threads, frames * (i + 1) / threads, rows, columns, out);
  };
  for (size_t i = 1; i < threads; i++) {
    try {
      helpers.emplace_back(range, i);
    } catch (const std::system_error &) {  // no thread to be had (memory bound): decode it here
      range(i);
    }
  }
  range(0);
  for (auto &helper : helpers) helper.join();
  auto first = std::min_element(problems.begin(), problems.end(),
                                [](const FrameProblem &a, const FrameProblem &b) { return a.frame < b.frame; });
  if (first->frame == SIZE_MAX) return true;
  if (first->internal) r.fail(FLUORO_DICOM_INTERNAL, first->problem);
  else r.fail(FLUORO_DICOM_DECODE_FAILED, first->problem, int32_t(first->frame));
  return false;
}

/// True for the transfer syntaxes GDCM 3.0 decodes: it knows the UID, and it is not video
/// (MPEG-2, H.264, HEVC: 1.2.840.10008.1.2.4.100-108), JPIP (.94, .95) or High-Throughput
/// JPEG 2000 (.201-.204), which it lists or not but cannot decode.
bool decodable(const std::string &uid) {
  if (gdcm::TransferSyntax::GetTSType(uid.c_str()) == gdcm::TransferSyntax::TS_END) return false;
  for (const char *prefix : {"1.2.840.10008.1.2.4.10", "1.2.840.10008.1.2.4.94", "1.2.840.10008.1.2.4.95", "1.2.840.10008.1.2.4.20"})
    if (uid.rfind(prefix, 0) == 0) return false;
  return true;
}

/// The whole read, in this process.
void readInProcess(fluoro_dicom &r, const void *bytes, size_t count, const uint32_t *tags, size_t tagCount, int flags) {
  // Local, not file-scope: the decoding process starts in a constructor (decoder_process.cpp),
  // which may run before this file's static initialisers.
  const gdcm::Tag kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011), kBitsAllocated(0x0028, 0x0100),
      kPixelData(0x7fe0, 0x0010), kModality(0x0008, 0x0060), kSOPClass(0x0008, 0x0016),
      kShared(0x5200, 0x9229), kPerFrame(0x5200, 0x9230), kPhotometric(0x0028, 0x0004);
  fluoro_dicom_detail::silenceGDCM();
  r.top.assign(tagCount, std::nullopt);
  r.perFrame.assign(tagCount, {});
  MemoryBuffer buffer(static_cast<const char *>(bytes), count);
  std::istream stream(&buffer);
  Reader reader;
  reader.SetStream(stream);
  const bool parsed = reader.parse();
  const gdcm::File &file = reader.GetFile();
  {
    const gdcm::DataSet &meta = file.GetHeader();
    const gdcm::Tag kTS(0x0002, 0x0010);
    r.transferSyntax = meta.FindDataElement(kTS) ? textOf(meta.GetDataElement(kTS)).value_or("") : "";
  }
  if (!r.transferSyntax.empty() && !decodable(r.transferSyntax)) {
    r.fail(FLUORO_DICOM_UNSUPPORTED_SYNTAX, "GDCM has no decoder for this transfer syntax");
    return;
  }
  // A read past the end means the file is cut short, except in a deflated dataset, whose
  // inflater reads ahead in blocks.
  if (buffer.shortRead >= 0 && r.transferSyntax != "1.2.840.10008.1.2.1.99") {
    r.fail(FLUORO_DICOM_UNPARSABLE, "the file is truncated: it ends inside a data element (a read at byte " +
           std::to_string(buffer.shortRead) + " of " + std::to_string(count) + " ran past the end)");
    return;
  }
  if (!parsed) {
    r.fail(FLUORO_DICOM_UNPARSABLE, "GDCM cannot parse the dataset (the file is truncated or its structure is corrupt)");
    return;
  }
  const gdcm::DataSet &ds = file.GetDataSet();
  const gdcm::TransferSyntax &ts = file.GetHeader().GetDataSetTransferSyntax();
  r.photometric = stringOf(ds, kPhotometric);

  // Requested attributes: top level, else the shared functional groups; and per frame.
  gdcm::SmartPointer<gdcm::SequenceOfItems> shared = itemsOf(ds, kShared), perFrame = itemsOf(ds, kPerFrame);
  r.top.assign(tagCount, std::nullopt);
  r.perFrame.assign(tagCount, {});
  for (size_t i = 0; i < tagCount; i++) {
    gdcm::Tag tag(uint16_t(tags[i] >> 16), uint16_t(tags[i] & 0xFFFF));
    if (ds.FindDataElement(tag)) r.top[i] = textOf(ds.GetDataElement(tag));
    if (!r.top[i] && shared && shared->GetNumberOfItems() > 0) r.top[i] = findInGroup(shared->GetItem(1).GetNestedDataSet(), tag);
    if (perFrame) {
      size_t n = perFrame->GetNumberOfItems();
      r.perFrame[i].reserve(n);
      for (size_t f = 1; f <= n; f++) r.perFrame[i].push_back(findInGroup(perFrame->GetItem(f).GetNestedDataSet(), tag));
    }
  }

  const std::string modality = stringOf(ds, kModality), sopClass = stringOf(ds, kSOPClass);
  r.module.is_xray = modality == "XA" || modality == "RF" ||
                     (modality.empty() && sopClass.rfind("1.2.840.10008.5.1.4.1.1.12.", 0) == 0);
  // Not X-ray and not wanted: the caller refuses it by its modality, nothing more to read.
  if ((flags & FLUORO_DICOM_ONLY_XRAY) && !r.module.is_xray) return;

  // What an image needs, checked here so the message names the attribute.
  if (!ds.FindDataElement(kPixelData)) {
    gdcm::MediaStorage ms;
    ms.SetFromFile(file);
    std::string kind = ms == gdcm::MediaStorage::MediaStorageDirectoryStorage ? "a DICOMDIR (an index of other files)"
                       : ms != gdcm::MediaStorage::MS_END && !gdcm::MediaStorage::IsImage(ms)
                           ? std::string("a ") + gdcm::MediaStorage::GetMSString(ms) + " object"
                           : std::string();
    if (!kind.empty()) { r.fail(FLUORO_DICOM_NOT_AN_IMAGE, "it is " + kind + ", not an image (no Pixel Data)"); return; }
    r.missingTag = 0x7FE00010;
    r.fail(FLUORO_DICOM_MISSING_ATTRIBUTE, "Pixel Data is missing");
    return;
  }
  for (const gdcm::Tag &tag : {kRows, kColumns, kBitsAllocated}) {
    if (!ds.FindDataElement(tag) || ds.GetDataElement(tag).IsEmpty()) {
      r.missingTag = uint32_t(tag.GetGroup()) << 16 | tag.GetElement();
      r.fail(FLUORO_DICOM_MISSING_ATTRIBUTE, "a required attribute is missing");
      return;
    }
  }
  gdcm::MediaStorage ms;
  ms.SetFromFile(file);
  if (!gdcm::MediaStorage::IsImage(ms)) ms = gdcm::MediaStorage::XRayAngiographicImageStorage;
  reader.GetImage().SetTransferSyntax(ts);  // as gdcm::PixmapReader::Read does before ReadImage
  if (!reader.readImage(ms)) {
    r.fail(FLUORO_DICOM_UNPARSABLE, "GDCM cannot read the image pixel module");
    return;
  }
  const gdcm::Image &image = reader.GetImage();
  auto fillModule = [&] {
    const gdcm::PixelFormat &pf = image.GetPixelFormat();
    // Rows, Columns and NumberOfFrames as the dataset says: GDCM may take them from a JPEG
    // stream instead, and a frame whose size is not the image's must be refused, not packed.
    r.module.columns = image.GetDimension(0);
    r.module.rows = image.GetDimension(1);
    r.module.frames = image.GetNumberOfDimensions() > 2 ? image.GetDimension(2) : 1;
    usOf(ds, kColumns, r.module.columns);
    usOf(ds, kRows, r.module.rows);
    const std::string frames = stringOf(ds, gdcm::Tag(0x0028, 0x0008));
    if (!frames.empty()) {
      char *end = nullptr;
      long long n = strtoll(frames.c_str(), &end, 10);
      r.module.frames = end && *end == '\0' && n >= 0 && n < (1LL << 31) ? uint32_t(n) : 0;
    }
    r.module.samples_per_pixel = pf.GetSamplesPerPixel();
    r.module.bits_allocated = pf.GetBitsAllocated();
    // BitsStored, HighBit and PixelRepresentation as the dataset says (defaults: BitsAllocated,
    // BitsStored - 1, 0): GDCM may widen BitsStored to a codec stream's precision (a 12-bit image
    // in a 16-bit JPEG 2000 stream), but the dataset says which bits hold the image.
    uint32_t stored = r.module.bits_allocated, high = 0, representation = 0;
    usOf(ds, gdcm::Tag(0x0028, 0x0101), stored);
    high = stored > 0 ? stored - 1 : 0;
    usOf(ds, gdcm::Tag(0x0028, 0x0102), high);
    usOf(ds, gdcm::Tag(0x0028, 0x0103), representation);
    r.module.bits_stored = stored;
    r.module.high_bit = high;
    r.module.pixel_representation = representation;
  };
  fillModule();
  const gdcm::DataElement &pixelData = image.GetDataElement();
  const gdcm::SequenceOfFragments *sf = pixelData.GetSequenceOfFragments();
  r.module.encapsulated = sf != nullptr;

  if (!(flags & FLUORO_DICOM_DECODE)) return;
  // Only the layouts Fluoro stores; anything else is described by the caller from the module.
  const bool mono = r.photometric == "MONOCHROME1" || r.photometric == "MONOCHROME2" || r.photometric.empty();
  const auto &m = r.module;
  if (m.samples_per_pixel != 1 || !mono || (m.bits_allocated != 8 && m.bits_allocated != 16) || m.rows == 0 ||
      m.columns == 0 || m.frames == 0 || m.bits_stored < 1 || m.bits_stored > m.bits_allocated ||
      m.high_bit + 1 < m.bits_stored || m.high_bit >= m.bits_allocated)
    return;
  const size_t bytesPerPixel = m.bits_allocated / 8;
  const size_t frameBytes = size_t(m.rows) * m.columns * bytesPerPixel;
  const size_t total = frameBytes * m.frames;
  if (total > (size_t(16) << 30)) {
    r.fail(FLUORO_DICOM_PIXEL_LENGTH, std::to_string(m.frames) + " frames of " + std::to_string(m.rows) + "x" +
           std::to_string(m.columns) + " is too large (over 16 GiB)");
    return;
  }
  const bool invert = r.photometric == "MONOCHROME1";

  if (!sf) {
    const gdcm::ByteValue *bv = pixelData.GetByteValue();
    size_t have = bv ? size_t(bv->GetLength()) : size_t(0);
    if (have < total) {
      r.fail(FLUORO_DICOM_PIXEL_LENGTH, "Pixel Data holds " + std::to_string(have) + " bytes but " + std::to_string(m.frames) +
             " frames of " + std::to_string(m.rows) + "x" + std::to_string(m.columns) + " at " + std::to_string(m.bits_allocated) +
             " bits need " + std::to_string(total));
      return;
    }
    size_t extra = have - total;
    if (extra > 1 && extra >= frameBytes) {
      r.fail(FLUORO_DICOM_PIXEL_LENGTH, "Pixel Data holds " + std::to_string(have / frameBytes) + " frames of " +
             std::to_string(m.rows) + "x" + std::to_string(m.columns) + " but NumberOfFrames says " + std::to_string(m.frames) +
             " (1 when absent); fix NumberOfFrames (0028,0008), e.g. with dcmodify, and pack again");
      return;
    }
  } else if (sf->GetNumberOfFragments() < m.frames) {
    r.fail(FLUORO_DICOM_FRAME_COUNT, "NumberOfFrames is " + std::to_string(m.frames) + " but the encapsulated pixel data holds only " +
           std::to_string(sf->GetNumberOfFragments()) + " fragments");
    return;
  }

  uint8_t *const out = r.allocate(total);
  // 8-bit JPEG: libjpeg-turbo on GDCM's fragments.
  if (sf && (ts == gdcm::TransferSyntax::JPEGBaselineProcess1 || ts == gdcm::TransferSyntax::JPEGExtendedProcess2_4) &&
      m.bits_allocated == 8 && sf->GetNumberOfFragments() > 0) {
    std::vector<Fragment> fragments;
    size_t offset = 0;
    for (size_t i = 0; i < sf->GetNumberOfFragments(); i++) {
      const gdcm::ByteValue *bv = sf->GetFragment(i).GetByteValue();
      size_t n = bv ? size_t(bv->GetLength()) : size_t(0);
      fragments.push_back({bv ? reinterpret_cast<const uint8_t *>(bv->GetPointer()) : nullptr, n, offset});
      offset += 8 + n;
    }
    auto header = jpegFrameHeader(fragments[0].bytes, fragments[0].count);
    if (header.second == 8 && (header.first == 0xC0 || header.first == 0xC1 || header.first == 0xC2)) {
      std::vector<uint32_t> table;
      const gdcm::ByteValue *bot = sf->GetTable().GetByteValue();
      if (bot) {
        for (size_t i = 0; i + 4 <= bot->GetLength(); i += 4) {
          uint32_t v;
          memcpy(&v, bot->GetPointer() + i, 4);
          table.push_back(v);
        }
      }
      r.module.turbo = 1;
      if (!decodeTurbo(r, fragments, table, out)) return;
      normalize(out, total, 1, m.bits_stored, m.high_bit, m.pixel_representation == 1, invert, true);
      r.module.decoded = 1;
      return;
    }
  }
  // Native little-endian pixels: the stored values as they are (GDCM's raw codec would already
  // shift and clear the bits above HighBit, which `normalize` does, and copy once more).
  if (!sf && ts != gdcm::TransferSyntax::ExplicitVRBigEndian) {
    memcpy(out, pixelData.GetByteValue()->GetPointer(), total);
    normalize(out, total / bytesPerPixel, int(bytesPerPixel), m.bits_stored, m.high_bit,
              m.pixel_representation == 1, invert, false);
    r.module.decoded = 1;
    return;
  }
  // Everything else (compressed, and big endian, which GDCM swaps and cleans): GDCM's codecs.
  const unsigned *dims = image.GetDimensions();
  const uint32_t gdcmFrames = image.GetNumberOfDimensions() > 2 ? dims[2] : 1;
  if (dims[0] != m.columns || dims[1] != m.rows || gdcmFrames != m.frames) {
    r.fail(FLUORO_DICOM_DECODE_FAILED, "the compressed image is " + std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" +
           std::to_string(gdcmFrames) + " but Columns x Rows x NumberOfFrames is " + std::to_string(m.columns) + "x" +
           std::to_string(m.rows) + "x" + std::to_string(m.frames));
    return;
  }
  if (image.GetBufferLength() != total) {
    r.fail(FLUORO_DICOM_DECODE_FAILED, "GDCM would decode " + std::to_string(image.GetBufferLength()) + " bytes, not the " +
           std::to_string(total) + " the pixel module implies");
    return;
  }
  if (!image.GetBuffer(reinterpret_cast<char *>(out))) {
    r.fail(FLUORO_DICOM_DECODE_FAILED, std::string("GDCM's ") + gdcm::TransferSyntax::GetTSString(ts) +
           " decoder refused the pixel data (corrupt or truncated frames)");
    return;
  }
  if (image.GetPixelFormat().GetBitsAllocated() != m.bits_allocated) {
    r.fail(FLUORO_DICOM_DECODE_FAILED, "the decoder produced " + std::to_string(image.GetPixelFormat().GetBitsAllocated()) +
           "-bit samples for a " + std::to_string(m.bits_allocated) + "-bit image");
    return;
  }
  normalize(out, total / bytesPerPixel, int(bytesPerPixel), m.bits_stored, m.high_bit,
            m.pixel_representation == 1, invert, true);
  r.module.decoded = 1;
}

}  // namespace

// GDCM loads its data dictionaries (public and private, about 10 ms of CPU) in the static
// initialisers of libgdcmDICT: `++gdcm::GlobalCount == 1` in the first gdcm::Global constructed
// builds gdcm::Global::Internals. So every process linking GDCM would pay that at load time,
// `fluoro` too, which never parses DICOM itself (the decoding process does). The count is a
// global of libgdcmDICT that the library reaches through its GOT, so this definition, in the
// executable, takes its place: starting at 1, the library's own gdcm::Global objects never see 1
// and load nothing, and silenceGDCM loads the dictionaries in the processes that read a file.
// (A GDCM that bound the count inside the library would ignore this definition and load at
// start-up, as before; silenceGDCM then sees the count still at 1 and leaves it alone.)
namespace gdcm {
unsigned int GlobalCount = 1;
}

namespace fluoro_dicom_detail {

const char kDecodeStamp[] = __DATE__ " " __TIME__;

void silenceGDCM() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
    // The library's gdcm::Global objects counted themselves from 1 and skipped the loading:
    // one more, counted from 0, does it (the first one's constructor builds Internals). It is
    // never deleted and the count stays above the objects left, so their destructors at exit
    // never free the dictionaries under a static destructor that may still use them.
    if (gdcm::GlobalCount != 1) {
      const unsigned int live = gdcm::GlobalCount;
      gdcm::GlobalCount = 0;
      new gdcm::Global;
      gdcm::GlobalCount = live + 1;
    }
    (void)gdcm::Global::GetInstance().GetDicts();
  });
}

void readHere(fluoro_dicom &r, const void *bytes, size_t count, const uint32_t *tags, size_t tagCount, int flags) {
  try {
    readInProcess(r, bytes, count, tags, tagCount, flags);
  } catch (const std::bad_alloc &) {
    r.fail(FLUORO_DICOM_INTERNAL, "out of memory while decoding");
  } catch (const std::exception &e) {
    r.fail(FLUORO_DICOM_INTERNAL, std::string("GDCM threw: ") + e.what());
  } catch (...) {
    r.fail(FLUORO_DICOM_INTERNAL, "GDCM threw an unknown exception");
  }
}

}  // namespace fluoro_dicom_detail

extern "C" {

fluoro_dicom *fluoro_dicom_read(const void *bytes, size_t count, const uint32_t *tags, size_t tag_count, int flags) {
  if (flags & FLUORO_DICOM_ISOLATE) return fluoro_dicom_worker_read(fluoro_dicom_worker_shared(), bytes, count, tags, tag_count, flags);
  fluoro_dicom *r = new (std::nothrow) fluoro_dicom;
  if (r) fluoro_dicom_detail::readHere(*r, bytes, count, tags, tag_count, flags);
  return r;
}

void fluoro_dicom_free(fluoro_dicom *result) { delete result; }

fluoro_dicom_status fluoro_dicom_status_of(const fluoro_dicom *r) { return r ? r->status : FLUORO_DICOM_INTERNAL; }
const char *fluoro_dicom_error(const fluoro_dicom *r) { return r ? r->error.c_str() : "out of memory"; }
int32_t fluoro_dicom_error_frame(const fluoro_dicom *r) { return r ? r->errorFrame : -1; }
uint32_t fluoro_dicom_missing_tag(const fluoro_dicom *r) { return r ? r->missingTag : 0; }
const char *fluoro_dicom_transfer_syntax(const fluoro_dicom *r) { return r ? r->transferSyntax.c_str() : ""; }
const char *fluoro_dicom_photometric(const fluoro_dicom *r) { return r ? r->photometric.c_str() : ""; }
fluoro_dicom_pixel_module fluoro_dicom_pixels_info(const fluoro_dicom *r) {
  return r ? r->module : fluoro_dicom_pixel_module{};
}

const char *fluoro_dicom_value(const fluoro_dicom *r, size_t index, int32_t frame) {
  if (!r || index >= r->top.size()) return nullptr;
  if (frame < 0) return r->top[index] ? r->top[index]->c_str() : nullptr;
  const auto &values = r->perFrame[index];
  if (size_t(frame) >= values.size() || !values[size_t(frame)]) return nullptr;
  return values[size_t(frame)]->c_str();
}

const void *fluoro_dicom_pixels(const fluoro_dicom *r, size_t *byte_count) {
  if (!r || !r->module.decoded || r->status != FLUORO_DICOM_OK) { if (byte_count) *byte_count = 0; return nullptr; }
  if (r->mapping) { if (byte_count) *byte_count = r->mappedBytes; return r->mappedPixels; }
  if (byte_count) *byte_count = r->pixels.size();
  return r->pixels.data();
}

}  // extern "C"
// Writes the uncompressed base files of the transfer-syntax fixtures (see make.sh): crops of a real
// run (xa_rca_96f.dcm, MS-PL, see ../dicom/LICENSE-fo-dicom.txt) at 8, 12 and 16 bits stored, a
// MONOCHROME1 variant and an Enhanced XA file with functional groups. Usage: make_bases REAL OUTDIR
#include <gdcm-3.0/gdcmImageReader.h>
#include <gdcm-3.0/gdcmWriter.h>
#include <gdcm-3.0/gdcmAttribute.h>
#include <gdcm-3.0/gdcmSequenceOfItems.h>
#include <gdcm-3.0/gdcmFileMetaInformation.h>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

static const int kSide = 128, kFirst = 40;

static void text(gdcm::DataSet &ds, uint16_t g, uint16_t e, gdcm::VR vr, std::string v) {
  if (v.size() % 2) v += (vr == gdcm::VR::UI ? '\0' : ' ');
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(vr);
  de.SetByteValue(v.data(), (uint32_t)v.size());
  ds.Replace(de);
}
static void us(gdcm::DataSet &ds, uint16_t g, uint16_t e, uint16_t v) {
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(gdcm::VR::US);
  de.SetByteValue((const char *)&v, 2);
  ds.Replace(de);
}
/// A sequence of one item holding `item`.
static void sequence(gdcm::DataSet &ds, uint16_t g, uint16_t e, const std::vector<gdcm::DataSet> &items) {
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
  sq->SetLengthToUndefined();
  for (auto &nested : items) {
    gdcm::Item it;
    it.SetVLToUndefined();
    it.SetNestedDataSet(nested);
    sq->AddItem(it);
  }
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(gdcm::VR::SQ);
  de.SetValue(*sq);
  de.SetVLToUndefined();
  ds.Replace(de);
}

struct Base {
  std::string name;
  int frames, bitsAllocated, bitsStored;
  bool monochrome1, enhanced;
};

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: make_bases REAL.dcm OUTDIR\n"); return 2; }
  gdcm::ImageReader reader;
  reader.SetFileName(argv[1]);
  if (!reader.Read()) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  const gdcm::Image &image = reader.GetImage();
  const int w = image.GetDimension(0), h = image.GetDimension(1);
  std::vector<char> full(image.GetBufferLength());
  image.GetBuffer(full.data());
  const Base bases[] = {
      {"base8", 4, 8, 8, false, false},
      {"base12", 3, 16, 12, false, false},
      {"base16", 2, 16, 16, false, false},
      {"base12_mono1", 2, 16, 12, true, false},
      {"enhanced8", 4, 8, 8, false, true},
  };
  for (const Base &b : bases) {
    // Crop: kSide x kSide around the centre of frames kFirst..., widened to the bit depth with a
    // deterministic low-order texture so every stored bit carries information.
    const int n = kSide * kSide;
    std::vector<char> pixels((size_t)b.frames * n * (b.bitsAllocated / 8));
    for (int t = 0; t < b.frames; t++)
      for (int y = 0; y < kSide; y++)
        for (int x = 0; x < kSide; x++) {
          unsigned v = (unsigned char)full[(size_t)(kFirst + t) * w * h + (size_t)(h / 2 - kSide / 2 + y) * w + (w / 2 - kSide / 2 + x)];
          size_t i = (size_t)t * n + y * kSide + x;
          if (b.bitsAllocated == 8) { pixels[i] = (char)v; continue; }
          unsigned low = (x * 7 + y * 13 + t * 5) & 0xFF;
          unsigned value = b.bitsStored == 12 ? (v << 4 | (low & 15)) : (v << 8 | low);
          uint16_t le = (uint16_t)value;
          memcpy(&pixels[2 * i], &le, 2);
        }
    gdcm::Writer writer;
    gdcm::File &file = writer.GetFile();
    gdcm::DataSet &ds = file.GetDataSet();
    const std::string sopClass = b.enhanced ? "1.2.840.10008.5.1.4.1.1.12.1.1" : "1.2.840.10008.5.1.4.1.1.12.1";
    text(ds, 0x0008, 0x0016, gdcm::VR::UI, sopClass);
    text(ds, 0x0008, 0x0018, gdcm::VR::UI, "1.2.826.0.1.3680043.10.1234." + std::to_string(b.bitsStored) + "." + std::to_string(b.frames) + (b.monochrome1 ? ".1" : ".2") + (b.enhanced ? ".3" : ".4"));
    text(ds, 0x0008, 0x0060, gdcm::VR::CS, "XA");
    text(ds, 0x0010, 0x0010, gdcm::VR::PN, "Fixture^Crop");
    if (b.enhanced) {
      // Enhanced XA: timing and geometry only in functional groups (PS3.3 C.7.6.16, C.8.19.6).
      gdcm::DataSet pixelProperties, geometry, shared;
      text(pixelProperties, 0x0018, 0x1164, gdcm::VR::DS, "0.3\\0.3");
      text(geometry, 0x0018, 0x1110, gdcm::VR::DS, "1200");
      {
        float sourceToIsocenter = 800;  // FL (binary)
        gdcm::DataElement de(gdcm::Tag(0x0018, 0x9402));
        de.SetVR(gdcm::VR::FL);
        de.SetByteValue((const char *)&sourceToIsocenter, 4);
        geometry.Replace(de);
      }
      sequence(shared, 0x0018, 0x9476, {geometry});
      sequence(shared, 0x0028, 0x9443, {pixelProperties});
      std::vector<gdcm::DataSet> perFrame;
      for (int t = 0; t < b.frames; t++) {
        gdcm::DataSet content, group;
        char when[64];
        snprintf(when, sizeof when, "20240101120000.%06d", t * 66700);
        text(content, 0x0018, 0x9151, gdcm::VR::DT, when);
        sequence(group, 0x0020, 0x9111, {content});
        perFrame.push_back(group);
      }
      sequence(ds, 0x5200, 0x9229, {shared});
      sequence(ds, 0x5200, 0x9230, perFrame);
    } else {
      text(ds, 0x0018, 0x1063, gdcm::VR::DS, "33");
      text(ds, 0x0018, 0x1114, gdcm::VR::DS, "1.25");
      text(ds, 0x0018, 0x1164, gdcm::VR::DS, "0.2\\0.2");
    }
    us(ds, 0x0028, 0x0002, 1);
    text(ds, 0x0028, 0x0004, gdcm::VR::CS, b.monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
    text(ds, 0x0028, 0x0008, gdcm::VR::IS, std::to_string(b.frames));
    us(ds, 0x0028, 0x0010, kSide);
    us(ds, 0x0028, 0x0011, kSide);
    us(ds, 0x0028, 0x0100, b.bitsAllocated);
    us(ds, 0x0028, 0x0101, b.bitsStored);
    us(ds, 0x0028, 0x0102, b.bitsStored - 1);
    us(ds, 0x0028, 0x0103, 0);
    gdcm::DataElement pixelData(gdcm::Tag(0x7fe0, 0x0010));
    pixelData.SetVR(b.bitsAllocated == 8 ? gdcm::VR::OB : gdcm::VR::OW);
    pixelData.SetByteValue(pixels.data(), (uint32_t)pixels.size());
    ds.Replace(pixelData);
    gdcm::FileMetaInformation &meta = file.GetHeader();
    meta.SetDataSetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
    text(meta, 0x0002, 0x0002, gdcm::VR::UI, sopClass);
    text(meta, 0x0002, 0x0003, gdcm::VR::UI, std::string(ds.GetDataElement(gdcm::Tag(0x0008, 0x0018)).GetByteValue()->GetPointer(), ds.GetDataElement(gdcm::Tag(0x0008, 0x0018)).GetByteValue()->GetLength()));
    std::string out = std::string(argv[2]) + "/" + b.name + ".dcm";
    writer.SetFileName(out.c_str());
    if (!writer.Write()) { fprintf(stderr, "cannot write %s\n", out.c_str()); return 1; }
  }
  return 0;
}

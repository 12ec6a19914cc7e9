// fluoro-dicom-decoder: the lean decoding process of CFluoroDICOM (see its decoder_process.cpp).
// `fluoro` starts it beside itself, with FLUORO_DICOM_WORKER set; a constructor in CFluoroDICOM
// then serves files before `main` runs. It links only GDCM and libjpeg-turbo, so it starts in
// half the time of `fluoro` itself (which remains the fallback when this binary is missing or
// was built from other sources). Run by hand, it only says what it is.
#include <stdio.h>

int main(void) {
  fprintf(stderr, "fluoro-dicom-decoder: started by fluoro to decode DICOM in a separate process; not for direct use\n");
  return 2;
}

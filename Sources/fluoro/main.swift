import FluoroTensor

// OpenBLAS picks its kernel when it loads; if it fell back to one below this CPU's class,
// re-execute with the right one before doing anything else (see BLASRuntime).
BLASRuntime.ensureProperKernel()
FluoroCommand.main()

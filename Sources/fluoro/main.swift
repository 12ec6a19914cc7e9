import FluoroTensor

// OpenBLAS picks its kernel when it loads; if it fell back to one below this CPU's class,
// re-execute with the right one before doing anything else (see BLASRuntime). Commands that never
// call OpenBLAS (`pack`, `synth`, `inspect`, `verify`) skip it: the re-execution loads fluoro and its libraries a second time,
// about 30 ms of CPU, a fifth of `pack`'s on the two shared runs.
// Their OpenBLAS thread pool, started when the library loaded, is stopped: its threads would spin
// through the whole of a short command (BLASRuntime.stopThreadPool).
if BLASRuntime.needsKernel(arguments: CommandLine.arguments) { BLASRuntime.ensureProperKernel() } else { BLASRuntime.stopThreadPool() }
FluoroCommand.main()

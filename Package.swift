// swift-tools-version:6.0
// Fluoro: self-supervised pretraining (FIMAE-SC) on interventional X-ray video, and HiFT tracking.
import PackageDescription

/// System C libraries, found with pkg-config (Debian packages named in `providers`).
let cLibraries: [Target] = [
    .systemLibrary(name: "COpenMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
    .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // oneDNN 2.6 (no pkg-config file in Debian's package): bf16 matrix products.
    .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "Fluoro",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fluoro", targets: ["fluoro"]),
        .executable(name: "fluoro-dicom-decoder", targets: ["FluoroDICOMDecoder"]),
        .library(name: "FluoroTensor", targets: ["FluoroTensor"]),
        .library(name: "FluoroShards", targets: ["FluoroShards"]),
        .library(name: "FluoroModel", targets: ["FluoroModel"]),
        .library(name: "FluoroTraining", targets: ["FluoroTraining"]),
        .library(name: "FluoroTracking", targets: ["FluoroTracking"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: cLibraries + [
        // Process-level facts: version, CPU features, cores, errors, progress and logging.
        .target(name: "FluoroSupport"),
        // Hand-vectorised C kernels (the direct 3x3 convolution): AVX-512, AVX2 and portable variants
        // in one binary, through per-function target attributes, chosen at run time.
        .target(name: "CFluoroKernels"),
        // Tensors and kernels (OpenBLAS sgemm or oneDNN bf16 products, layers with forward + backward).
        .target(name: "FluoroTensor", dependencies: ["FluoroSupport", "COpenBLAS", "CDNNL", "CFluoroKernels"]),
        // Fluoro's one DICOM reader: GDCM 3 (Debian libgdcm-dev, C++, no pkg-config file) behind a plain C
        // API; 8-bit JPEG frames go to libjpeg-turbo (faster than GDCM's bundled libjpeg). Headers are
        // included as <gdcm-3.0/...>, so no search path is needed.
        .target(name: "CFluoroDICOM", dependencies: ["CTurboJPEG"],
                linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDICT"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmCommon"),
                                 .linkedLibrary("stdc++")]),
        // The lean decoding process `fluoro` starts beside itself (CFluoroDICOM's decoder_process.cpp).
        .executableTarget(name: "FluoroDICOMDecoder", dependencies: ["CFluoroDICOM"]),
        // The LZ4 frame shard format, clinical ingest (DICOM through CFluoroDICOM, NumPy) and the clip loader.
        .target(name: "FluoroShards", dependencies: ["FluoroSupport", "CLZ4", "CFluoroDICOM"]),
        // The synthetic X-ray simulator (METHOD §12).
        .target(name: "FluoroSim", dependencies: ["FluoroSupport", "FluoroShards"]),
        // Weak labels for pretraining (METHOD §9): the Frangi filter and the U-Net labeller (its training too).
        .target(name: "FluoroLabels", dependencies: [
            "FluoroSupport", "FluoroShards", "FluoroTensor", "FluoroTraining", "FluoroDistributed",
        ]),
        // FIMAE-SC: encoder, two decoders and the loss, over a flat parameter arena.
        .target(name: "FluoroModel", dependencies: ["FluoroSupport", "FluoroTensor"]),
        // MPI communicator and gradient reducer; the model never imports this.
        .target(name: "FluoroDistributed", dependencies: ["FluoroSupport", "COpenMPI"]),
        // AdamW, schedules, the training loop, checkpoints and export.
        .target(name: "FluoroTraining", dependencies: [
            "FluoroSupport", "FluoroTensor", "FluoroModel", "FluoroShards", "FluoroSim", "FluoroDistributed", "FluoroPlot",
        ]),
        // PNG images (zlib's deflate) and simple raster drawing and plots: overlays, error CDFs.
        .target(name: "FluoroPlot", dependencies: ["FluoroSupport", "CZlib"]),
        // HiFT (METHOD §10): the tracker model, fine-tuning, online tracking, evaluation (§11) and baselines.
        .target(name: "FluoroTracking", dependencies: [
            "FluoroSupport", "FluoroTensor", "FluoroModel", "FluoroShards", "FluoroSim", "FluoroDistributed",
            "FluoroTraining", "FluoroPlot",
        ]),
        // The `fluoro` command-line tool.
        .executableTarget(name: "fluoro", dependencies: [
            argumentParser, "FluoroSupport", "FluoroTensor", "FluoroShards", "FluoroSim",
            "FluoroModel", "FluoroDistributed", "FluoroTraining", "FluoroLabels", "FluoroPlot", "FluoroTracking",
        ]),
        .testTarget(name: "FluoroTensorTests", dependencies: ["FluoroTensor", "FluoroSupport"]),
        .testTarget(name: "FluoroDistributedTests", dependencies: ["FluoroDistributed"]),
        .testTarget(name: "FluoroShardsTests", dependencies: ["FluoroShards", "CTurboJPEG"], exclude: ["Fixtures"]),
        .testTarget(name: "FluoroSimTests", dependencies: ["FluoroSim", "FluoroShards"]),
        .testTarget(name: "FluoroModelTests", dependencies: ["FluoroModel", "FluoroTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "FluoroLabelsTests", dependencies: ["FluoroLabels", "FluoroSim", "FluoroShards", "FluoroTensor",
                                                             "FluoroTraining", "FluoroDistributed", "FluoroSupport"]),
        .testTarget(name: "FluoroTrainingTests", dependencies: ["FluoroTraining"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluoroPlotTests", dependencies: ["FluoroPlot"]),
        .testTarget(name: "FluoroTrackingTests", dependencies: ["FluoroTracking", "FluoroTensor", "FluoroModel", "FluoroShards", "FluoroSim", "FluoroTraining", "FluoroDistributed"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "FluoroCLITests", dependencies: ["fluoro", "FluoroSupport", "FluoroShards", "FluoroTensor"]),
    ],
    swiftLanguageModes: [.v5]
)

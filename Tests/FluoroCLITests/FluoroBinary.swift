import Foundation

/// Runs the built `fluoro` executable (it sits beside the test bundle in the build folder).
enum FluoroBinary {
    static var url: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("fluoro")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return cwd.appendingPathComponent(".build/debug/fluoro")
    }

    /// This process's environment without MPI launcher variables: an MPI singleton in the test
    /// process (another test initialised MPI) would otherwise leak them into mpirun's children.
    static var cleanEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "PMI_", "OPAL_", "ORTE_"].contains { key.hasPrefix($0) }
        }
    }

    struct Output { var status: Int32; var stdout: String; var stderr: String }

    /// Runs `executable` (default: fluoro) with `arguments`; returns exit status and both streams.
    /// The streams go to temporary files, not pipes: a process that inherits a pipe's write end
    /// (Open MPI's singleton daemon, started by an in-process MPI test) would keep it open and a
    /// pipe read would never see EOF. A child still running after `timeout` seconds is killed
    /// and reported as status -9, so a hang fails the test instead of stalling the suite.
    static func run(_ arguments: [String], executable: String? = nil, environment: [String: String]? = nil,
                    timeout: Double = 300) throws -> Output {
        let process = Process()
        if let executable {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        } else {
            process.executableURL = url
            process.arguments = arguments
        }
        process.environment = environment ?? cleanEnvironment
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fluoro-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return Output(status: timedOut ? -9 : process.terminationStatus,
                      stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                      stderr: timedOut ? "timed out after \(Int(timeout)) s\n" + stderr : stderr)
    }
}

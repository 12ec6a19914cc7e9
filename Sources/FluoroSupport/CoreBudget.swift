import Foundation

/// How many cores this process may use: the CPUs it is allowed to run on, divided among the
/// ranks that `mpirun` (or Slurm) started on the same machine.
public enum CoreBudget {
    /// CPUs in this process's affinity mask (`Cpus_allowed_list`), or the online count.
    public static var allowedCPUs: Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
           let count = countCPUs(list: String(line.dropFirst("Cpus_allowed_list:".count))) {
            return max(1, count)
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Ranks of this job on this machine, from the launcher's environment (1 when not launched).
    public static var ranksOnThisMachine: Int {
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"] {
            if let value = env[key], let n = Int(value), n > 0 { return n }
        }
        return 1
    }

    /// The default thread count for this rank: its share of the allowed CPUs, at least one.
    /// With a process affinity narrower than the machine (mpirun binding), the mask already is
    /// this rank's share.
    public static var defaultThreads: Int {
        let allowed = allowedCPUs
        let online = max(1, ProcessInfo.processInfo.activeProcessorCount)
        if allowed < online { return allowed }
        return max(1, allowed / ranksOnThisMachine)
    }

    /// Counts CPUs in a Linux CPU list such as "0-3,8,10-11".
    public static func countCPUs(list: String) -> Int? {
        var total = 0
        for part in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1: guard bounds[0] != nil else { return nil }; total += 1
            case 2:
                guard let lo = bounds[0], let hi = bounds[1], hi >= lo else { return nil }
                total += hi - lo + 1
            default: return nil
            }
        }
        return total > 0 ? total : nil
    }
}

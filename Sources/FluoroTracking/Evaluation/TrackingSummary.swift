import Foundation

/// Which runs a summary group covers (METHOD §11 splits runs by occlusion).
public enum RunSplit: String, Codable, Sendable, CaseIterable {
    /// Every run.
    case all
    /// Runs with at least one frame flagged occluded.
    case occluded
    /// Runs with no frame flagged occluded.
    case clear
}

/// The statistics of one (landmark kind, initialisation, run split) group of records.
public struct TrackingGroupSummary: Codable, Sendable, Equatable {
    public var kind: LandmarkKind
    public var initialisation: Initialisation
    public var split: RunSplit
    /// Runs and landmark-frames (frame 0 excluded) in the group.
    public var runs: Int
    public var frames: Int
    /// Errors in pixels of the stored frames.
    public var px: ErrorStatistics
    /// Errors in millimetres over the records whose spacing is known (nil when none is).
    public var mm: ErrorStatistics?
    /// Fraction of landmark-frames that failed (`FailureCriterion`), 0...1.
    public var failureRate: Double
    /// How failures were decided: "3 mm", "10 px at 512 px" (spacing unknown), or "mixed".
    public var failureCriterion: String
    /// Landmark-frames the tracker flagged lost.
    public var lostFrames: Int
}

/// METHOD §11's summary of one tracker over a test set: per landmark kind, initialisation and
/// run split (all / with occlusion / without), the px and mm error statistics and the failure rate.
/// Frame 0 (the initialisation) is left out.
public struct TrackingSummary: Codable, Sendable, Equatable {
    /// Non-empty groups, ordered by kind, initialisation, then split (all, occluded, clear).
    public var groups: [TrackingGroupSummary]

    /// Summarises `records` (any mix of runs, kinds and initialisations).
    public init(records: [TrackingRecord]) {
        let occludedRuns = Self.runsWithOcclusion(records)
        let scored = records.filter { $0.frame > 0 }
        var groups: [TrackingGroupSummary] = []
        for kind in LandmarkKind.allCases {
            for initialisation in Initialisation.allCases {
                let base = scored.filter { $0.kind == kind && $0.initialisation == initialisation }
                for split in RunSplit.allCases {
                    let members = base.filter { Self.belongs($0, to: split, occludedRuns: occludedRuns) }
                    if let group = Self.group(members, kind: kind, initialisation: initialisation, split: split) {
                        groups.append(group)
                    }
                }
            }
        }
        self.groups = groups
    }

    /// The group for (kind, initialisation, split), if it has records.
    public func group(_ kind: LandmarkKind, _ initialisation: Initialisation = .manual,
                      _ split: RunSplit = .all) -> TrackingGroupSummary? {
        groups.first { $0.kind == kind && $0.initialisation == initialisation && $0.split == split }
    }

    /// Run ids with any record flagged occluded (frame 0 included: it is part of the run).
    static func runsWithOcclusion(_ records: [TrackingRecord]) -> Set<String> {
        Set(records.filter(\.occluded).map(\.run))
    }

    static func belongs(_ r: TrackingRecord, to split: RunSplit, occludedRuns: Set<String>) -> Bool {
        switch split {
        case .all: return true
        case .occluded: return occludedRuns.contains(r.run)
        case .clear: return !occludedRuns.contains(r.run)
        }
    }

    static func group(_ members: [TrackingRecord], kind: LandmarkKind, initialisation: Initialisation,
                      split: RunSplit) -> TrackingGroupSummary? {
        guard let px = ErrorStatistics(members.map(\.errorPx)) else { return nil }
        let mmValues = members.compactMap(\.errorMm)
        let failures = members.filter(\.failed).count
        let criterion: String
        if mmValues.count == members.count {
            criterion = "\(Int(FailureCriterion.thresholdMm)) mm"
        } else if mmValues.isEmpty {
            criterion = "\(Int(FailureCriterion.thresholdPxAt512)) px at 512 px"
        } else {
            criterion = "mixed"
        }
        return TrackingGroupSummary(
            kind: kind, initialisation: initialisation, split: split,
            runs: Set(members.map(\.run)).count, frames: members.count,
            px: px, mm: ErrorStatistics(mmValues),
            failureRate: Double(failures) / Double(members.count),
            failureCriterion: criterion, lostFrames: members.filter(\.lost).count)
    }
}

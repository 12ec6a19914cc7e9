import Foundation
import FluoroSupport

/// How the loader runs: background workers, prefetch depth, and what to do without vesselness.
public struct LoaderOptions: Sendable, Equatable {
    /// Worker threads that decode, crop and mask; 0 builds each batch on the caller's thread.
    public var workers: Int
    /// Batches built ahead of the consumer (in flight plus ready), at least 1.
    public var prefetchDepth: Int
    /// Throw `missingVesselness` for sequences without the layer (true), or use zero maps (false).
    public var requireVesselness: Bool

    public init(workers: Int = 2, prefetchDepth: Int = 4, requireVesselness: Bool = true) {
        self.workers = workers
        self.prefetchDepth = prefetchDepth
        self.requireVesselness = requireVesselness
    }
}

/// The clip loader the trainer pulls batches from (METHOD §2–§4).
///
/// Rank `rank` of `ranks`, with `batchPerRank` clips per step, takes global samples
/// `cursor.nextSample + rank*b ..< cursor.nextSample + (rank+1)*b` of each step of N*b samples
/// (see `ClipSampler` for what a global sample is). Concatenating the ranks' batches of a step
/// gives, bit for bit, the batch a single rank with batch N*b would get.
///
/// Worker threads claim steps in order and build whole batches; `next()` hands them out strictly
/// in step order, so the batches are identical whatever the worker count. At most
/// `prefetchDepth` batches are built ahead. A worker's error is thrown by the `next()` call that
/// would have returned that batch; the loader then stays failed (every later `next()` throws the
/// same error) and its `cursor` still points at the failed step. `close()` (or releasing the
/// loader) stops and joins the workers; a worker finishes the batch it is building first.
/// Call `next()` from one thread at a time (the training loop).
public final class ClipLoader {
    /// The sample stream: eligible and skipped sequences, epochs and plans.
    public let sampler: ClipSampler
    public let rank: Int
    public let ranks: Int
    public let batchPerRank: Int
    public let options: LoaderOptions
    /// The clip shape and masks.
    public var spec: ClipSpec { sampler.spec }
    /// Samples per step over all ranks, N*b.
    public var globalBatch: Int { ranks * batchPerRank }
    /// Where the next batch `next()` returns starts: store this in a checkpoint.
    public private(set) var cursor: LoaderCursor
    /// Ids of the sequences returned so far whose vesselness was missing (zeros were used).
    public private(set) var sequencesWithoutVesselness: Set<String> = []

    private let pipeline: Pipeline
    private let first: LoaderCursor
    private var delivered = 0
    private var failure: Error?

    /// Opens a loader over `source` at `cursor` (a fresh run: `LoaderCursor(seed: seed)`).
    public init(source: ClipSource, spec: ClipSpec, cursor: LoaderCursor, rank: Int = 0, ranks: Int = 1,
                batchPerRank: Int, options: LoaderOptions = LoaderOptions()) throws {
        guard ranks >= 1, (0..<ranks).contains(rank) else {
            throw ClipLoaderError.invalidConfiguration("rank \(rank) is outside 0..<\(ranks)")
        }
        guard batchPerRank >= 1 else { throw ClipLoaderError.invalidConfiguration("batchPerRank \(batchPerRank) must be at least 1") }
        guard options.workers >= 0, options.prefetchDepth >= 1 else {
            throw ClipLoaderError.invalidConfiguration("workers \(options.workers) must be >= 0 and prefetchDepth \(options.prefetchDepth) >= 1")
        }
        guard cursor.nextSample >= 0 else {
            throw ClipLoaderError.invalidConfiguration("cursor.nextSample \(cursor.nextSample) is negative")
        }
        sampler = try ClipSampler(source: source, spec: spec, seed: cursor.seed)
        self.rank = rank
        self.ranks = ranks
        self.batchPerRank = batchPerRank
        self.options = options
        self.cursor = cursor
        first = cursor
        let firstSample = cursor.nextSample + rank * batchPerRank, stride = ranks * batchPerRank
        let (sampler, b, require) = (sampler, batchPerRank, options.requireVesselness)
        pipeline = Pipeline(depth: options.prefetchDepth) { step in
            let start = firstSample + step * stride
            return try ClipBatch.make(samples: start..<(start + b), sampler: sampler, source: source, requireVesselness: require)
        }
        pipeline.start(workers: options.workers)
    }

    /// Convenience: a loader at the start of the stream for `seed`.
    public convenience init(source: ClipSource, spec: ClipSpec, seed: UInt64, rank: Int = 0, ranks: Int = 1,
                            batchPerRank: Int, options: LoaderOptions = LoaderOptions()) throws {
        try self.init(source: source, spec: spec, cursor: LoaderCursor(seed: seed), rank: rank, ranks: ranks,
                      batchPerRank: batchPerRank, options: options)
    }

    deinit { pipeline.stop() }

    /// Sequences left out because they have fewer than T frames.
    public var skipped: [SkippedSequence] { sampler.skipped }

    /// This rank's next batch; advances `cursor` by one step (N*b samples).
    public func next() throws -> ClipBatch {
        if let failure { throw failure }
        do {
            let batch = try pipeline.take(step: delivered)
            delivered += 1
            cursor = first.advanced(steps: delivered, globalBatch: globalBatch)
            for (plan, missing) in zip(batch.plans, batch.vesselnessMissing) where missing {
                if sequencesWithoutVesselness.insert(plan.sequenceID).inserted {
                    Log.info("sequence \(plan.sequenceID) has no vesselness layer: training on a zero map (requireVesselness is false)")
                }
            }
            return batch
        } catch {
            failure = error
            throw error
        }
    }

    /// Stops the workers and waits for them; later `next()` calls throw `closed`.
    public func close() {
        pipeline.stop()
        if failure == nil { failure = ClipLoaderError.closed }
    }
}

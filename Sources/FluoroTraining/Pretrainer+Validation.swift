import FluoroModel
import FluoroShards
import Foundation

extension Pretrainer {
    /// A validation loss and how long it took.
    struct ValidationResult {
        var losses: FIMAESC.LossTerms
        var seconds: Double
    }

    /// The validation clips of `options.validationShards` for `model` (nil without validation shards).
    func makeValidation(_ settings: TrainingSettings, model: FIMAESC) throws -> ValidationSet? {
        guard let shards = options.validationShards else { return nil }
        let source = try ShardDataset(directory: shards)
        return try ValidationSet(source: source, config: settings.model, parameters: model.parameters, count: settings.validationClips,
                                 rank: rank, ranks: communicator.size, requireVesselness: !options.allowMissingVesselness)
    }

    /// The validation loss after the step being finished, when it is a multiple of
    /// `validationEvery` or the run's last (every rank evaluates its share).
    func validateIfDue(_ s: TrainingSession) throws -> ValidationResult? {
        guard let set = s.validation, let every = s.settings.validationEvery else { return nil }
        let completed = s.step + 1
        guard completed % every == 0 || completed == s.total else { return nil }
        let start = Date()
        let losses = try set.evaluate(communicator: communicator)
        return ValidationResult(losses: losses, seconds: Date().timeIntervalSince(start))
    }
}

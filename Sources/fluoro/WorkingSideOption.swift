import ArgumentParser

/// `--working-side`: the frame side the U-Net labeller works at (see `UNetLabeller`).
struct WorkingSideOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Frame side the U-Net labels at: frames are reduced by round(side / N) (a whole factor), labelled, and the logits brought back to full size. Default: the model's training frame side (256 for docs/models/unet-labeller.safetensors, so 512-px frames are labelled at 256); 0 labels frames as stored.",
        valueName: "N"))
    var workingSide: Int?

    func validate() throws {
        if let workingSide, workingSide < 0 { throw ValidationError("--working-side must be 0 (frames as stored) or a side in pixels, got \(workingSide)") }
    }
}

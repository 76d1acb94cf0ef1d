namespace Crema.Nets;

/// <summary>What <see cref="Net.OptimizeForInference"/> must keep in the net's blobs after Forward.</summary>
public enum InferenceBlobs
{
    /// <summary>
    /// Every blob holds what the unoptimised net computes (up to float rounding): only in-place chains are fused, so
    /// features can be read from any layer. The default.
    /// </summary>
    KeepAll,

    /// <summary>
    /// The net's outputs and every blob a later layer reads hold what the unoptimised net computes; a blob whose only
    /// reader was fused away may be left unwritten. Besides what <see cref="KeepAll"/> fuses, a Convolution whose top
    /// feeds only an Eltwise SUM (two bottoms, unit coefficients: a ResNet residual connection) computes the sum and its
    /// fused ReLU itself, into the sum's top, while its own top is no longer written. For deployment, where only the
    /// outputs are read (Classifier, Detector, `crema time`).
    /// </summary>
    OutputsOnly,
}

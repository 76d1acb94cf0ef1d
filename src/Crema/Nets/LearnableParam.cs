namespace Crema.Nets;

/// <summary>
/// A parameter the solver updates: the owning blob (a parameter shared by name appears once) and its lr_mult / decay_mult,
/// which every layer sharing it must agree on.
/// </summary>
public sealed record LearnableParam(Blob Blob)
{
    public float LrMult { get; internal set; } = 1f;

    public float DecayMult { get; internal set; } = 1f;

    // Whether some layer gave the multiplier explicitly (sharers that give none take the owner's).
    internal bool HasLrMult { get; set; }

    internal bool HasDecayMult { get; set; }
}

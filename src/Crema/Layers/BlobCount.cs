namespace Crema.Layers;

/// <summary>How many bottom or top blobs a layer accepts: [Min, Max], Max = int.MaxValue for "any number".</summary>
public readonly record struct BlobCount(int Min, int Max)
{
    public static BlobCount Any => new(0, int.MaxValue);

    public static BlobCount Exactly(int n) => new(n, n);

    public static BlobCount AtLeast(int n) => new(n, int.MaxValue);

    public static BlobCount Between(int min, int max) => new(min, max);

    public bool Accepts(int n) => n >= Min && n <= Max;

    public override string ToString() =>
        Min == Max ? $"exactly {Min}" : Max == int.MaxValue ? $"at least {Min}" : $"between {Min} and {Max}";
}

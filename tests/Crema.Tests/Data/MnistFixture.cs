namespace Crema.Tests.Data;

/// <summary>Locates the bundled MNIST subset (data/mnist-10k at the repository root).</summary>
internal static class MnistFixture
{
    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "mnist-10k");
                if (System.IO.Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
            throw new InvalidOperationException("data/mnist-10k not found above " + AppContext.BaseDirectory);
        }
    }

    public static string TrainImages => Path.Combine(Directory, "train-images-idx3-ubyte.gz");

    public static string TrainLabels => Path.Combine(Directory, "train-labels-idx1-ubyte.gz");
}

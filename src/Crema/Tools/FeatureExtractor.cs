using Crema.Nets;

namespace Crema.Tools;

/// <summary>One extracted blob: shape (N_total, dims after the batch axis…) and its values in C order.</summary>
public sealed record FeatureSet(string Name, int[] Shape, float[] Data);

/// <summary>Caffe's extract_features as a library: forward the net a number of times and collect named blobs.</summary>
public static class FeatureExtractor
{
    /// <summary>Runs <paramref name="batches"/> forwards and returns each blob's values stacked along the batch axis.</summary>
    public static IReadOnlyList<FeatureSet> Extract(Net net, IReadOnlyList<string> blobNames, int batches)
    {
        ArgumentNullException.ThrowIfNull(blobNames);
        var chunks = blobNames.Select(_ => new List<float[]>()).ToArray();
        int[][] itemShapes = new int[blobNames.Count][];
        int[] totals = new int[blobNames.Count];
        Extract(net, blobNames, batches, (_, blobs) =>
        {
            for (int i = 0; i < blobs.Count; i++)
            {
                chunks[i].Add(blobs[i].Data.ToArray());
                itemShapes[i] = blobs[i].Shape.Skip(1).ToArray();
                totals[i] += blobs[i].NumAxes > 0 ? blobs[i].Shape[0] : 1;
            }
        });
        var result = new FeatureSet[blobNames.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new FeatureSet(blobNames[i], [totals[i], .. itemShapes[i] ?? []], chunks[i].SelectMany(c => c).ToArray());
        }
        return result;
    }

    /// <summary>Runs <paramref name="batches"/> forwards; after each, <paramref name="onBatch"/> gets the batch index and the named blobs (valid until the next forward).</summary>
    public static void Extract(Net net, IReadOnlyList<string> blobNames, int batches, Action<int, IReadOnlyList<Blob>> onBatch)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(onBatch);
        if (batches <= 0)
        {
            throw new CremaException($"num_mini_batches must be positive (got {batches})");
        }
        var blobs = Resolve(net, blobNames);
        int[][]? shapes = null;
        for (int b = 0; b < batches; b++)
        {
            net.Forward();
            if (shapes == null)
            {
                shapes = blobs.Select(x => x.Shape.ToArray()).ToArray();
            }
            else
            {
                for (int i = 0; i < blobs.Length; i++)
                {
                    if (!blobs[i].Shape.SequenceEqual(shapes[i]))
                    {
                        throw new CremaException($"blob '{blobs[i].Name}' changed shape from {string.Join(" ", shapes[i])} to {blobs[i].ShapeString()} at mini-batch {b}");
                    }
                }
            }
            onBatch(b, blobs);
        }
    }

    /// <summary>The named blobs, or an error listing the blobs the net has.</summary>
    public static Blob[] Resolve(Net net, IReadOnlyList<string> blobNames)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(blobNames);
        if (blobNames.Count == 0)
        {
            throw new CremaException("no feature blob names given");
        }
        var result = new Blob[blobNames.Count];
        for (int i = 0; i < result.Length; i++)
        {
            if (!net.HasBlob(blobNames[i]))
            {
                throw new CremaException($"Unknown feature blob name '{blobNames[i]}' in the network {net.Name} (blobs: {string.Join(", ", net.BlobNames.Distinct())})");
            }
            result[i] = net.Blob(blobNames[i]);
        }
        return result;
    }
}

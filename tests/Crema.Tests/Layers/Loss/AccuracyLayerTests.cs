using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

public class AccuracyLayerTests
{
    private static AccuracyLayer Make(AccuracyParameter? p = null) =>
        new(new LayerParameter { Name = "acc", Type = "Accuracy", AccuracyParam = p });

    private static Blob Labels(int classes, params int[] shape)
    {
        var blob = new Blob(shape);
        var random = new Random(1702);
        for (int i = 0; i < blob.Count; i++)
        {
            blob.Data[i] = random.Next(classes);
        }
        return blob;
    }

    // Naive: a hit when fewer than topK classes score strictly higher than the label's class.
    private static (float Accuracy, float[] PerClass) Reference(Blob scores, Blob labels, int axis, int topK, int? ignore)
    {
        int outer = scores.CountRange(0, axis), c = scores.ShapeAt(axis), inner = scores.CountFrom(axis + 1);
        int hits = 0, counted = 0;
        var classHits = new int[c];
        var classCount = new int[c];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int label = (int)labels.Data[o * inner + i];
                if (label == ignore)
                {
                    continue;
                }
                counted++;
                classCount[label]++;
                float truth = scores.Data[(o * c + label) * inner + i];
                int better = Enumerable.Range(0, c).Count(k => scores.Data[(o * c + k) * inner + i] > truth);
                if (better < topK)
                {
                    hits++;
                    classHits[label]++;
                }
            }
        }
        var perClass = Enumerable.Range(0, c).Select(k => classCount[k] == 0 ? 0f : (float)classHits[k] / classCount[k]).ToArray();
        return ((float)hits / counted, perClass);
    }

    [Theory]
    [InlineData(1, null)]
    [InlineData(3, null)]
    [InlineData(1, -1)]
    [InlineData(3, 4)]
    public void Forward_MatchesReference(int topK, int? ignore)
    {
        // Caffe's fixture: 100x10 Gaussian scores, labels uniform in 0..9 (ignored ones set to −1 at 2, 5, 32).
        var scores = TestBlobs.Gaussian(1701, 1f, 100, 10);
        var labels = Labels(10, 100);
        if (ignore == -1)
        {
            labels.Data[2] = labels.Data[5] = labels.Data[32] = -1;
        }
        var p = new AccuracyParameter { TopK = (uint)topK };
        if (ignore is int ig)
        {
            p.IgnoreLabel = ig;
        }
        var acc = new Blob();
        var perClass = new Blob();
        var layer = Make(p);
        layer.SetUp([scores, labels], [acc, perClass]);
        layer.Forward([scores, labels], [acc, perClass]);

        var (expected, expectedPerClass) = Reference(scores, labels, 1, topK, ignore);
        Assert.Equal(1, acc.Num);
        Assert.Equal(1, acc.Count);
        Assert.Equal(new[] { 10 }, perClass.Shape);
        Assert.Equal(expected, acc.Data[0], 1e-4f);
        TestBlobs.AssertClose(expectedPerClass, perClass.Data, 1e-4f);
        Assert.InRange(expected, 0.05f, 0.999f);
    }

    [Fact]
    public void Forward_SpatialAxis_CountsEveryPosition()
    {
        var scores = TestBlobs.Gaussian(1701, 1f, 2, 10, 4, 5);
        var labels = Labels(10, 2, 4, 5);
        var acc = new Blob();
        var layer = Make(new AccuracyParameter { Axis = 1 });
        layer.SetUp([scores, labels], [acc]);
        layer.Forward([scores, labels], [acc]);
        Assert.Equal(Reference(scores, labels, 1, 1, null).Accuracy, acc.Data[0], 1e-5f);
    }

    [Fact]
    public void Forward_HandComputed()
    {
        // Rows: argmax 1 (label 1: hit), argmax 0 (label 2: miss, but 2nd best), tie 2/0 (label 0: hit — nothing strictly larger).
        var scores = TestBlobs.FromValues([3, 3], 0.1f, 0.7f, 0.2f, 0.6f, 0.1f, 0.3f, 0.5f, 0.2f, 0.5f);
        var labels = TestBlobs.FromValues([3], 1, 2, 0);
        var acc = new Blob();
        var layer = Make();
        layer.SetUp([scores, labels], [acc]);
        layer.Forward([scores, labels], [acc]);
        Assert.Equal(2f / 3, acc.Data[0], 1e-6f);
        var top2 = Make(new AccuracyParameter { TopK = 2 });
        top2.SetUp([scores, labels], [acc]);
        top2.Forward([scores, labels], [acc]);
        Assert.Equal(1f, acc.Data[0]);
    }

    [Fact]
    public void Backward_IsRefused()
    {
        var scores = TestBlobs.Gaussian(1701, 1f, 4, 3);
        var labels = Labels(3, 4);
        var acc = new Blob();
        var layer = Make();
        layer.SetUp([scores, labels], [acc]);
        layer.Forward([scores, labels], [acc]);
        var e = Assert.Throws<CremaException>(() => layer.Backward([acc], [true, false], [scores, labels]));
        Assert.Contains("'acc'", e.Message);
    }

    [Fact]
    public void Forward_LabelOutOfRange_NamesLayerAndLabel()
    {
        var scores = TestBlobs.Gaussian(1701, 1f, 4, 3);
        var labels = TestBlobs.FromValues([4], 0, 1, 7, 2);
        var acc = new Blob();
        var layer = Make();
        layer.SetUp([scores, labels], [acc]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([scores, labels], [acc]));
        Assert.Contains("'acc'", e.Message);
        Assert.Contains("label 7", e.Message);
    }

    [Fact]
    public void SetUp_TopKLargerThanClasses_NamesValues()
    {
        var e = Assert.Throws<CremaException>(() => Make(new AccuracyParameter { TopK = 5 }).SetUp([new Blob(4, 3), new Blob(4)], [new Blob()]));
        Assert.Contains("'acc'", e.Message);
        Assert.Contains("top_k 5", e.Message);
    }

    [Fact]
    public void SetUp_LabelCountMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(4, 3), new Blob(5)], [new Blob()]));
        Assert.Contains("'acc'", e.Message);
        Assert.Contains("(5)", e.Message);
    }
}

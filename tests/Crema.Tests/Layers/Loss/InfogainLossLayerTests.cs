using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Google.Protobuf;

namespace Crema.Tests.Layers;

public class InfogainLossLayerTests
{
    private static InfogainLossLayer Make(string? source = null, int axis = 1, LossParameter? loss = null) =>
        new(new LayerParameter
        {
            Name = "infogain",
            Type = "InfogainLoss",
            InfogainLossParam = new InfogainLossParameter { Source = source ?? "", Axis = axis },
            LossParam = loss,
        });

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

    // Naive: −Σ H[label, l]·log softmax(x)_l over counted positions, / count (VALID).
    private static float Reference(Blob x, Blob labels, Blob h, int? ignore)
    {
        int n = x.Shape[0], c = x.Shape[1], inner = x.CountFrom(2);
        double loss = 0;
        int valid = 0;
        for (int o = 0; o < n; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int label = (int)labels.Data[o * inner + i];
                if (label == ignore)
                {
                    continue;
                }
                double z = 0;
                for (int l = 0; l < c; l++)
                {
                    z += Math.Exp(x.Data[(o * c + l) * inner + i]);
                }
                for (int l = 0; l < c; l++)
                {
                    loss -= h.Data[label * c + l] * Math.Log(Math.Exp(x.Data[(o * c + l) * inner + i]) / z);
                }
                valid++;
            }
        }
        return (float)(loss / Math.Max(1, valid));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(2)]
    public void Forward_MatrixFromThirdBottom_MatchesReference(int? ignore)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 4, 5, 2, 3);
        var labels = Labels(5, 4, 1, 2, 3);
        var h = TestBlobs.Uniform(1703, 0f, 1f, 1, 1, 5, 5);
        var loss = new LossParameter();
        if (ignore is int ig)
        {
            loss.IgnoreLabel = ig;
        }
        var top = new Blob();
        var prob = new Blob();
        var layer = Make(loss: loss);
        layer.SetUp([x, labels, h], [top, prob]);
        layer.Forward([x, labels, h], [top, prob]);
        Assert.Equal(Reference(x, labels, h, ignore), top.Data[0], 1e-4f);
        Assert.Equal(x.Shape, prob.Shape);
    }

    [Fact]
    public void Forward_MatrixFromFile_MatchesReference()
    {
        var x = TestBlobs.Gaussian(1701, 1f, 6, 4);
        var labels = Labels(4, 6);
        var h = TestBlobs.Uniform(1703, 0f, 1f, 1, 1, 4, 4);
        string path = Path.Combine(Path.GetTempPath(), $"crema_infogain_{Environment.ProcessId}.binaryproto");
        try
        {
            File.WriteAllBytes(path, h.ToProto().ToByteArray());
            var top = new Blob();
            var layer = Make(source: path);
            layer.SetUp([x, labels], [top]);
            layer.Forward([x, labels], [top]);
            Assert.Equal(Reference(x, labels, h, null), top.Data[0], 1e-4f);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Forward_IdentityMatrix_EqualsSoftmaxWithLoss()
    {
        var x = TestBlobs.Gaussian(1701, 1f, 6, 4);
        var labels = Labels(4, 6);
        var h = new Blob(4, 4);
        for (int i = 0; i < 4; i++)
        {
            h.Data[i * 4 + i] = 1;
        }
        var top = new Blob();
        var layer = Make();
        layer.SetUp([x, labels, h], [top]);
        layer.Forward([x, labels, h], [top]);
        var softmaxLoss = new SoftmaxWithLossLayer(new LayerParameter { Name = "s", Type = "SoftmaxWithLoss" });
        var top2 = new Blob();
        softmaxLoss.SetUp([x, labels], [top2]);
        softmaxLoss.Forward([x, labels], [top2]);
        Assert.Equal(top2.Data[0], top.Data[0], 1e-5f);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public void Backward_MatchesNumericGradient(int? ignore)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 4, 5, 2, 3);
        var labels = Labels(5, 4, 1, 2, 3);
        var h = TestBlobs.Uniform(1703, 0f, 1f, 5, 5);
        var loss = new LossParameter { Normalization = LossParameter.Types.NormalizationMode.Full };
        if (ignore is int ig)
        {
            loss.IgnoreLabel = ig;
        }
        new GradientChecker(1e-2f, 1e-2f).CheckGradient(Make(loss: loss), [x, labels, h], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void SetUp_NoSource_NamesLayer()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(4, 3), new Blob(4)], [new Blob()]));
        Assert.Contains("'infogain'", e.Message);
        Assert.Contains("source", e.Message);
    }

    [Fact]
    public void SetUp_MissingFile_NamesPath()
    {
        var e = Assert.Throws<CremaException>(() => Make(source: "/nonexistent/h.binaryproto").SetUp([new Blob(4, 3), new Blob(4)], [new Blob()]));
        Assert.Contains("'infogain'", e.Message);
        Assert.Contains("/nonexistent/h.binaryproto", e.Message);
    }

    [Fact]
    public void SetUp_MatrixWrongSize_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(4, 3), new Blob(4), new Blob(4, 4)], [new Blob()]));
        Assert.Contains("'infogain'", e.Message);
        Assert.Contains("3x3", e.Message);
    }
}

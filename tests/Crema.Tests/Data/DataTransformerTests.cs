using Crema.Data;
using Crema.Proto;
using Google.Protobuf;

namespace Crema.Tests.Data;

public class DataTransformerTests
{
    // A 2×3×4 uint8 datum with x[c,h,w] = 100c + 10h + w.
    private static Datum MakeDatum()
    {
        var bytes = new byte[24];
        for (int c = 0; c < 2; c++)
        {
            for (int h = 0; h < 3; h++)
            {
                for (int w = 0; w < 4; w++)
                {
                    bytes[(c * 3 + h) * 4 + w] = (byte)(100 * c + 10 * h + w);
                }
            }
        }
        return new Datum { Channels = 2, Height = 3, Width = 4, Data = ByteString.CopyFrom(bytes), Label = 7 };
    }

    private static float X(int c, int h, int w) => 100 * c + 10 * h + w;

    [Fact]
    public void Transform_ScaleAndPerChannelMean_IsMeanSubtractedThenScaled()
    {
        var t = new DataTransformer(new TransformationParameter { Scale = 0.5f, MeanValue = { 1f, 3f } }, Phase.Train);
        var output = new float[24];
        t.Transform(MakeDatum(), output);
        for (int c = 0; c < 2; c++)
        {
            for (int h = 0; h < 3; h++)
            {
                for (int w = 0; w < 4; w++)
                {
                    Assert.Equal((X(c, h, w) - (c == 0 ? 1f : 3f)) * 0.5f, output[(c * 3 + h) * 4 + w]);
                }
            }
        }
    }

    [Fact]
    public void Transform_SingleMeanValue_AppliesToAllChannels()
    {
        var t = new DataTransformer(new TransformationParameter { MeanValue = { 5f } }, Phase.Test);
        var output = new float[24];
        t.Transform(MakeDatum(), output);
        Assert.Equal(X(1, 2, 3) - 5f, output[23]);
        Assert.Equal(X(0, 0, 0) - 5f, output[0]);
    }

    [Fact]
    public void Transform_MeanFile_SubtractsPerPixelMeanAtSourcePosition()
    {
        using var dir = new TempDir();
        string meanPath = dir.Combine("mean.binaryproto");
        var mean = new Blob(1, 2, 3, 4);
        for (int i = 0; i < 24; i++)
        {
            mean.Data[i] = i * 0.25f;
        }
        File.WriteAllBytes(meanPath, mean.ToProto().ToByteArray());
        // Center crop 2 of a 3×4 image in TEST: offsets h₀ = 0, w₀ = 1.
        var t = new DataTransformer(new TransformationParameter { MeanFile = meanPath, CropSize = 2, Scale = 2f }, Phase.Test);
        var output = new float[8];
        t.Transform(MakeDatum(), output);
        for (int c = 0; c < 2; c++)
        {
            for (int h = 0; h < 2; h++)
            {
                for (int w = 0; w < 2; w++)
                {
                    int src = (c * 3 + h) * 4 + w + 1;
                    Assert.Equal((X(c, h, w + 1) - src * 0.25f) * 2f, output[(c * 2 + h) * 2 + w]);
                }
            }
        }
    }

    [Fact]
    public void Transform_TestPhaseCrop_IsCentered()
    {
        var t = new DataTransformer(new TransformationParameter { CropSize = 1 }, Phase.Test);
        Assert.Equal([1, 2, 1, 1], t.InferShape(MakeDatum()));
        var output = new float[2];
        t.Transform(MakeDatum(), output);
        // (3 − 1)/2 = 1, (4 − 1)/2 = 1.
        Assert.Equal([X(0, 1, 1), X(1, 1, 1)], output);
    }

    [Fact]
    public void Transform_TrainPhaseCrop_IsARandomWindowInsideTheImage()
    {
        Rng.Seed(1701);
        var t = new DataTransformer(new TransformationParameter { CropSize = 2 }, Phase.Train);
        var offsets = new HashSet<(int, int)>();
        var output = new float[8];
        for (int draw = 0; draw < 60; draw++)
        {
            t.Transform(MakeDatum(), output);
            int h0 = (int)(output[0] / 10), w0 = (int)(output[0] % 10);
            Assert.InRange(h0, 0, 1);
            Assert.InRange(w0, 0, 2);
            for (int c = 0; c < 2; c++)
            {
                for (int h = 0; h < 2; h++)
                {
                    for (int w = 0; w < 2; w++)
                    {
                        Assert.Equal(X(c, h0 + h, w0 + w), output[(c * 2 + h) * 2 + w]);
                    }
                }
            }
            offsets.Add((h0, w0));
        }
        Assert.Equal(6, offsets.Count);
    }

    [Fact]
    public void Transform_Mirror_FlipsRowsOnAboutHalfTheItems()
    {
        Rng.Seed(1701);
        var t = new DataTransformer(new TransformationParameter { Mirror = true }, Phase.Train);
        var output = new float[24];
        int flipped = 0;
        for (int draw = 0; draw < 100; draw++)
        {
            t.Transform(MakeDatum(), output);
            bool mirrored = output[0] == X(0, 0, 3);
            flipped += mirrored ? 1 : 0;
            for (int c = 0; c < 2; c++)
            {
                for (int h = 0; h < 3; h++)
                {
                    for (int w = 0; w < 4; w++)
                    {
                        Assert.Equal(X(c, h, mirrored ? 3 - w : w), output[(c * 3 + h) * 4 + w]);
                    }
                }
            }
        }
        Assert.InRange(flipped, 25, 75);
    }

    [Fact]
    public void Transform_FloatData_IsUsedWhenNoBytes()
    {
        var datum = new Datum { Channels = 1, Height = 1, Width = 3, FloatData = { 0.5f, -2f, 4f } };
        var t = new DataTransformer(new TransformationParameter { Scale = 2f, MeanValue = { 1f } }, Phase.Test);
        var output = new float[3];
        t.Transform(datum, output);
        Assert.Equal([-1f, -6f, 6f], output);
    }

    [Fact]
    public void Constructor_MeanFileAndMeanValue_Throws()
    {
        var e = Assert.Throws<CremaException>(() =>
            new DataTransformer(new TransformationParameter { MeanFile = "m.binaryproto", MeanValue = { 1f } }, Phase.Train));
        Assert.Contains("mean_file", e.Message, StringComparison.Ordinal);
        Assert.Contains("mean_value", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transform_BadInputs_Throw()
    {
        var crop = new DataTransformer(new TransformationParameter { CropSize = 5 }, Phase.Test);
        Assert.Contains("crop_size 5", Assert.Throws<CremaException>(() => crop.InferShape(MakeDatum())).Message, StringComparison.Ordinal);

        var means = new DataTransformer(new TransformationParameter { MeanValue = { 1f, 2f, 3f } }, Phase.Test);
        Assert.Contains("3 mean_value", Assert.Throws<CremaException>(() => means.Transform(MakeDatum(), new float[24])).Message, StringComparison.Ordinal);

        var encoded = MakeDatum();
        encoded.Encoded = true;
        var plain = new DataTransformer(null, Phase.Test);
        Assert.Contains("Could not decode", Assert.Throws<CremaException>(() => plain.Transform(encoded, new float[24])).Message, StringComparison.Ordinal);

        string missing = Path.Combine(Path.GetTempPath(), "crema-no-mean-" + Guid.NewGuid().ToString("N"));
        Assert.Contains(missing, Assert.Throws<CremaException>(() => new DataTransformer(new TransformationParameter { MeanFile = missing }, Phase.Test)).Message, StringComparison.Ordinal);
    }
}

using Crema.Examples;

namespace Crema.Tests.Examples;

/// <summary>examples/location_specific_filters: the nets build, train and report; location-aware nets beat the plain one.</summary>
public sealed class LocationSpecificFiltersExampleTests
{
    private static readonly string Folder = RepoPaths.Get("examples", "location_specific_filters");

    [Fact]
    public void Run_PrintsTableWithParameterCountsOfEachFirstLayer()
    {
        var output = new StringWriter();
        var results = LocationSpecificFilters.Run(new LocationSpecificFilters.Options(Folder, Iterations: 5, TrainImages: 128, TestImages: 64), output);

        Assert.Equal(["PlainConv", "CoordConv", "LocallyConnected"], results.Select(r => r.Net));
        // conv1: 16 filters of 1×3×3 + 16 biases; CoordConv's see 3 channels (dot, x, y); the locally connected layer has
        // its own filters and biases at each of the 16×16 positions.
        Assert.Equal([160L, 448L, 16L * 9 * 256 + 16 * 256], results.Select(r => r.FirstLayerParams));
        Assert.All(results, r => Assert.True(double.IsFinite(r.MeanErrorPixels), r.Net));
        string text = output.ToString();
        Assert.Contains("| LocallyConnected | 40,960 |", text, StringComparison.Ordinal);
        Assert.Contains("Always guessing the centre is off by", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortTraining_CoordConvAndLocallyConnectedFindTheDot_PlainConvDoesNot()
    {
        var results = LocationSpecificFilters.Run(new LocationSpecificFilters.Options(Folder, Iterations: 300, TrainImages: 1024, TestImages: 256), TextWriter.Null);

        var plain = results[0];
        Assert.True(plain.MeanErrorPixels > 3, $"plain conv error {plain.MeanErrorPixels}");
        Assert.True(results[1].MeanErrorPixels < 1.5, $"CoordConv error {results[1].MeanErrorPixels}");
        Assert.True(results[2].MeanErrorPixels < 2.5, $"LocallyConnected error {results[2].MeanErrorPixels}");
    }

    [Fact]
    public void MakeDots_OnePixelPerImageAtTheTarget()
    {
        var dots = LocationSpecificFilters.MakeDots(10, new Random(3));
        const int s = LocationSpecificFilters.Size;
        for (int i = 0; i < dots.Count; i++)
        {
            var image = dots.Images.AsSpan(i * s * s, s * s);
            Assert.Equal(1f, image.ToArray().Sum());
            int at = image.IndexOf(1f);
            Assert.Equal((2f * (at % s) / (s - 1)) - 1, dots.Targets[2 * i], 5);
            Assert.Equal((2f * (at / s) / (s - 1)) - 1, dots.Targets[(2 * i) + 1], 5);
        }
    }
}

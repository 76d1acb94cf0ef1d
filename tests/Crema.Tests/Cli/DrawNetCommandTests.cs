using System.Xml.Linq;
using Crema.Tests.Data;
using SkiaSharp;

namespace Crema.Tests.Cli;

[Collection(CliCollection.Name)]
public class DrawNetCommandTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static string LeNetTrainTest => Path.Combine(AppContext.BaseDirectory, "TestData", "models", "bvlc_caffe", "examples_mnist", "lenet_train_test.prototxt");

    private static string LeNet => Path.Combine(AppContext.BaseDirectory, "TestData", "models", "bvlc_caffe", "examples_mnist", "lenet.prototxt");

    [Fact]
    public void DrawNet_WritesSvgPngAndDot()
    {
        using var dir = new TempDir();
        foreach (string ext in new[] { "svg", "png", "dot" })
        {
            var r = CliRunner.Run("draw_net", LeNet, dir.Combine("lenet." + ext), "-rankdir", "TB");
            Assert.True(r.ExitCode == 0, r.AllText);
            Assert.Contains(r.Log, l => l.Contains("Drawing net to " + dir.Combine("lenet." + ext), StringComparison.Ordinal));
        }
        var svg = XDocument.Load(dir.Combine("lenet.svg"));
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "out 64×20×24×24");
        using var png = SKBitmap.Decode(dir.Combine("lenet.png"));
        Assert.True(png.Height > png.Width, "TB draws a tall picture");
        Assert.Contains("rankdir=TB;", File.ReadAllText(dir.Combine("lenet.dot")), StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void DrawNet_PhaseSelectsLayers_AndMissingDataOnlyWarns()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("draw_net", LeNetTrainTest, dir.Combine("train.svg"), "-phase", "TRAIN");
        Assert.True(r.ExitCode == 0, r.AllText);
        // The LMDBs are not next to the test's working folder: the drawing comes without shapes, with a warning saying why.
        Assert.Contains(r.Log, l => l.StartsWith('W') && l.Contains("No shapes", StringComparison.Ordinal) && l.Contains("mnist_train_lmdb", StringComparison.Ordinal));
        var names = XDocument.Load(dir.Combine("train.svg")).Descendants(Svg + "g").Select(g => (string?)g.Attribute("data-name")).ToList();
        Assert.Contains("loss", names);
        Assert.DoesNotContain("accuracy", names);
    }

    [Theory]
    [InlineData("out.jpg", "", "unknown format '.jpg'")]
    [InlineData("out.svg", "-rankdir=XY", "unknown -rankdir 'XY'")]
    [InlineData("out.svg", "-phase=VAL", "unknown phase 'VAL'")]
    public void DrawNet_BadArguments_OneLineErrorAndNoFile(string file, string flag, string message)
    {
        using var dir = new TempDir();
        string[] args = flag.Length == 0 ? ["draw_net", LeNet, dir.Combine(file)] : ["draw_net", LeNet, dir.Combine(file), flag];
        var r = CliRunner.Run(args);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, Assert.Single(r.ErrorLines), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}

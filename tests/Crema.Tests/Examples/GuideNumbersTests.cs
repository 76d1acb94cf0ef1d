using System.Text.RegularExpressions;
using Crema.Examples;
using Crema.Examples.FullyConvolutional;
using Crema.Examples.StepVsForward;

namespace Crema.Tests.Examples;

/// <summary>
/// The guides tell the truth: each example runs as its README says (full length, seeded) and the README's output block
/// and the results its prose quotes must be what the run prints. A failure names the guide line that differs.
/// </summary>
public sealed partial class GuideNumbersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-guide-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The last column of the location example's table: training seconds.</summary>
    [GeneratedRegex(@"\| [\d.]+ \|$")]
    private static partial Regex TrainingSecondsCell();

    [Fact]
    public void StepVsForward_GuideShowsWhatTheProgramPrints()
    {
        var text = new StringWriter();
        StepVsForwardExample.Run(new StepVsForwardExample.Options { RepoRoot = RepoPaths.Root, WorkDir = _dir }, text);

        GuideCheck.AssertGuideMatches(RepoPaths.Get("examples", "step_vs_forward", "README.md"),
            text.ToString().Replace(_dir, "examples/step_vs_forward/out", StringComparison.Ordinal), GuideCheck.IterationTiming());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void LocationSpecificFilters_GuideShowsWhatTheProgramPrints()
    {
        var text = new StringWriter();
        LocationSpecificFilters.Run(new LocationSpecificFilters.Options(RepoPaths.Get("examples", "location_specific_filters")), text);

        GuideCheck.AssertGuideMatches(RepoPaths.Get("examples", "location_specific_filters", "README.md"), text.ToString(), TrainingSecondsCell());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void FullyConvolutional_GuideShowsWhatTheProgramPrints()
    {
        var text = new StringWriter();
        FullyConvolutionalExample.Run(new FullyConvolutionalExample.Options { RepoRoot = RepoPaths.Root, WorkDir = _dir }, text);

        GuideCheck.AssertGuideMatches(RepoPaths.Get("examples", "fully_convolutional", "README.md"),
            text.ToString().Replace(_dir, "examples/fully_convolutional/out", StringComparison.Ordinal), GuideCheck.IterationTiming());
    }

    [Fact]
    public void FeatureExtraction_SqueezeNetPartOfTheGuideShowsWhatTheProgramPrints()
    {
        string outDir = Path.Combine(_dir, "out");
        var text = new StringWriter();
        FeatureExtraction.SqueezeNet(new FeatureExtraction.Options(RepoPaths.Root, OutDirectory: outDir, MnistDbDirectory: _dir), text);
        // From the first photo's top-5 on, as the guide shows it.
        string printed = text.ToString();
        printed = printed[printed.IndexOf("cat.jpg: top-5", StringComparison.Ordinal)..]
            .Replace(Path.GetRelativePath(RepoPaths.Root, outDir).Replace('\\', '/'), "examples/feature_extraction/out", StringComparison.Ordinal);

        GuideCheck.AssertGuideMatches(RepoPaths.Get("examples", "feature_extraction", "README.md"), printed);
    }

    [GeneratedRegex(@"\]\(([^)#\s]+)(?:#[^)]*)?\)")]
    private static partial Regex MarkdownLink();

    [Fact]
    public void Guides_LinkOnlyToFilesInTheRepository()
    {
        var guides = new[] { RepoPaths.Get("README.md"), RepoPaths.Get("benchmarks", "RESULTS.md") }
            .Concat(Directory.GetFiles(RepoPaths.Get("docs"), "*.md"))
            .Concat(Directory.GetDirectories(RepoPaths.Get("examples")).Select(d => Path.Combine(d, "README.md")).Where(File.Exists));
        var dead = new List<string>();
        foreach (string guide in guides)
        {
            string text = File.ReadAllText(guide);
            foreach (Match m in MarkdownLink().Matches(text))
            {
                string target = m.Groups[1].Value;
                if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal))
                {
                    continue;
                }
                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(guide)!, target));
                if (!path.StartsWith(RepoPaths.Root, StringComparison.Ordinal) || !(File.Exists(path) || Directory.Exists(path)))
                {
                    dead.Add($"{Path.GetRelativePath(RepoPaths.Root, guide)}: {target}");
                }
            }
            // Files outside the repository are not there for a reader of a clone.
            foreach (string outside in new[] { "shared/models/SOURCES.md", "`PERF.md`", "shared/reference" })
            {
                if (text.Contains(outside, StringComparison.Ordinal))
                {
                    dead.Add($"{Path.GetRelativePath(RepoPaths.Root, guide)}: names {outside}");
                }
            }
        }
        Assert.Empty(dead);
    }

    [Fact]
    public void GuideCheck_FailsWhenTheGuideQuotesADifferentNumber()
    {
        string guide = Path.Combine(_dir, "README.md");
        File.WriteAllText(guide, "Run it:\n\n```\nloss = 2.36742 (0 iter/s, 0.13s/1 iters)\nln 10 = 2.30259\n```\n\nThe loss, 2.36742, is ln 10 plus a bit.\n");
        var timing = GuideCheck.IterationTiming();

        GuideCheck.AssertGuideMatches(guide, "loss = 2.36742 (55 iter/s, 0.5s/1 iters)\nln 10 = 2.30259\n", timing);
        Assert.ThrowsAny<Exception>(() => GuideCheck.AssertGuideMatches(guide, "loss = 2.36416 (0 iter/s, 0.13s/1 iters)\nln 10 = 2.30259\n", timing));
        Assert.ThrowsAny<Exception>(() => GuideCheck.AssertGuideMatches(guide, "loss = 2.36742 (0 iter/s, 0.13s/1 iters)\nln 9 = 2.30259\n", timing));
        Assert.ThrowsAny<Exception>(() => GuideCheck.AssertGuideMatches(guide, "loss = 2.36742 (0 iter/s, 0.13s/1 iters)\n", timing));
        // The prose quotes a number the run did not print.
        File.AppendAllText(guide, "The largest change is 0.000434414.\n");
        Assert.ThrowsAny<Exception>(() => GuideCheck.AssertGuideMatches(guide, "loss = 2.36742 (0 iter/s, 0.13s/1 iters)\nln 10 = 2.30259\n", timing));
    }
}

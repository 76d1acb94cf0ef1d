using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Crema.Tests.Examples;

/// <summary>
/// Holds a guide (an example's README) to what its program prints: the guide's output block must be the run's output
/// line for line (timings masked), and every decimal number with 3 or more decimals in its prose must be one the run
/// printed. Numbers are compared to 1e-4 relative, the float rounding between AVX-512 and AVX2 sums on short runs.
/// </summary>
internal static partial class GuideCheck
{
    private const double RelativeTolerance = 1e-4;

    [GeneratedRegex(@"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])")]
    private static partial Regex Number();

    /// <summary>A number with 3 or more decimals, as a guide's prose quotes a result.</summary>
    [GeneratedRegex(@"(?<![\w.])\d+\.\d{3,}(?:e[-+]?\d+)?")]
    private static partial Regex ResultNumber();

    /// <summary>`(34.1102 iter/s, 5.86336s/200 iters)` on Caffe's iteration log line.</summary>
    [GeneratedRegex(@"\([\d.e+-]+ iter/s, [\d.e+-]+s/\d+ iters\)")]
    public static partial Regex IterationTiming();

    /// <summary>Checks <paramref name="guidePath"/> against <paramref name="runOutput"/>; <paramref name="timings"/> are masked on both sides.</summary>
    public static void AssertGuideMatches(string guidePath, string runOutput, params Regex[] timings)
    {
        string guide = File.ReadAllText(guidePath).ReplaceLineEndings("\n");
        string[] run = Lines(runOutput, timings);
        Assert.NotEmpty(run);

        var (blocks, prose) = Split(guide);
        string[]? block = blocks.Select(b => Lines(b, timings)).FirstOrDefault(b => b.Length > 0 && SameLine(b[0], run[0]));
        Assert.True(block != null, $"{guidePath}: no output block starting like the run's first line \"{run[0]}\"");

        var problems = new StringBuilder();
        for (int i = 0; i < Math.Max(block.Length, run.Length); i++)
        {
            string g = i < block.Length ? block[i] : "(nothing)";
            string r = i < run.Length ? run[i] : "(nothing)";
            if (!SameLine(g, r))
            {
                problems.Append(CultureInfo.InvariantCulture, $"\n  line {i + 1}: guide \"{g}\"\n          run   \"{r}\"");
            }
        }

        double[] printed = run.SelectMany(l => Number().Matches(l).Select(m => Parse(m.Value))).ToArray();
        foreach (Match m in ResultNumber().Matches(prose))
        {
            double v = Parse(m.Value);
            if (!printed.Any(p => Close(p, v)))
            {
                problems.Append(CultureInfo.InvariantCulture, $"\n  prose quotes {m.Value}, which the run did not print (…{Around(prose, m.Index)}…)");
            }
        }

        Assert.True(problems.Length == 0, $"{guidePath} differs from what the example prints:{problems}");
    }

    private static string[] Lines(string text, Regex[] timings) =>
        text.ReplaceLineEndings("\n").Split('\n')
            .Select(l => timings.Aggregate(l.TrimEnd(), (s, t) => t.Replace(s, "<timing>")))
            .Where(l => l.Length > 0)
            .ToArray();

    /// <summary>The fenced blocks, and everything outside them.</summary>
    private static (List<string> Blocks, string Prose) Split(string guide)
    {
        var blocks = new List<string>();
        var prose = new StringBuilder();
        StringBuilder? block = null;
        foreach (string line in guide.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                if (block == null)
                {
                    block = new StringBuilder();
                }
                else
                {
                    blocks.Add(block.ToString());
                    block = null;
                }
                continue;
            }
            (block ?? prose).Append(line).Append('\n');
        }
        return (blocks, prose.ToString());
    }

    private static bool SameLine(string guide, string run)
    {
        if (Number().Replace(guide, "#") != Number().Replace(run, "#"))
        {
            return false;
        }
        var g = Number().Matches(guide);
        var r = Number().Matches(run);
        return g.Count == r.Count && g.Zip(r).All(p => p.First.Value == p.Second.Value || Close(Parse(p.First.Value), Parse(p.Second.Value)));
    }

    private static bool Close(double a, double b) => a == b || Math.Abs(a - b) <= RelativeTolerance * Math.Max(Math.Abs(a), Math.Abs(b));

    private static double Parse(string s) => double.Parse(s.Replace(",", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string Around(string text, int at)
    {
        int start = Math.Max(0, at - 40);
        return text[start..Math.Min(text.Length, at + 30)].ReplaceLineEndings(" ");
    }
}

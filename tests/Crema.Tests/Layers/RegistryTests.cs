using Crema.Scripting;
using System.Reflection;
using System.Text.RegularExpressions;
using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

/// <summary>
/// The layer registry against three references: the layer classes of the Crema assembly, BVLC Caffe's registered type
/// names, and the catalogue in docs/layers.md (so neither the registry nor the catalogue can drift unnoticed).
/// </summary>
public partial class RegistryTests
{
    /// <summary>BVLC Caffe master's registered layer types (REGISTER_LAYER_CLASS / REGISTER_LAYER_CREATOR), all with a CPU path.</summary>
    private static readonly string[] CaffeTypes =
    [
        "AbsVal", "Accuracy", "ArgMax", "BNLL", "BatchNorm", "BatchReindex", "Bias", "Clip", "Concat", "ContrastiveLoss",
        "Convolution", "Crop", "Data", "Deconvolution", "Dropout", "DummyData", "ELU", "Eltwise", "Embed", "EuclideanLoss",
        "Exp", "Filter", "Flatten", "HDF5Data", "HDF5Output", "HingeLoss", "Im2col", "ImageData", "InfogainLoss",
        "InnerProduct", "Input", "LRN", "LSTM", "LSTMUnit", "Log", "MVN", "MemoryData", "MultinomialLogisticLoss", "PReLU",
        "Parameter", "Pooling", "Power", "Python", "RNN", "ReLU", "Reduction", "Reshape", "SPP", "Scale", "Sigmoid",
        "SigmoidCrossEntropyLoss", "Silence", "Slice", "Softmax", "SoftmaxWithLoss", "Split", "Swish", "TanH", "Threshold",
        "Tile", "WindowData",
    ];

    /// <summary>
    /// Caffe types Crema deliberately lacks, with the reason (also in docs/layers.md, "Caffe types Crema does not have").
    /// When one gets implemented, remove it here and from that table.
    /// </summary>
    private static readonly Dictionary<string, string> NotImplemented = new(StringComparer.Ordinal)
    {
    };

    /// <summary>Caffe types served outside the factory table: Python goes to the C# custom layer loader.</summary>
    private static readonly string[] HandledByLoader = ["Python"];

    /// <summary>Crema's own types, not in BVLC Caffe. A new one must be declared here and documented as an extension.</summary>
    private static readonly string[] Extensions = ["AddCoords", "DiceLoss", "Local", "LocallyConnected"];

    private static readonly Assembly CremaAssembly = typeof(Layer).Assembly;

    private static IEnumerable<Type> ConcreteLayerClasses() =>
        CremaAssembly.GetTypes().Where(t => !t.IsAbstract && typeof(Layer).IsAssignableFrom(t));

    /// <summary>The registered types whose class is in the Crema assembly (tests may register their own layers too).</summary>
    private static SortedSet<string> BuiltInTypes() =>
        new(LayerRegistry.KnownTypes.Where(t => LayerRegistry.TypeOf(t)?.Assembly == CremaAssembly), StringComparer.Ordinal);

    public static TheoryData<string> CaffeTypeNames()
    {
        var data = new TheoryData<string>();
        foreach (string type in CaffeTypes)
        {
            data.Add(type);
        }
        return data;
    }

    [Fact]
    public void EveryConcreteLayerClass_CarriesLayerType_AndIsRegisteredUnderIt()
    {
        var classes = ConcreteLayerClasses().ToList();
        Assert.True(classes.Count >= 60, $"found only {classes.Count} layer classes in {CremaAssembly.GetName().Name}");
        var problems = new List<string>();
        foreach (var type in classes)
        {
            var names = type.GetCustomAttributes<LayerTypeAttribute>().Select(a => a.Name).ToList();
            if (names.Count == 0)
            {
                problems.Add($"{type.FullName} has no [LayerType]");
            }
            foreach (string name in names)
            {
                if (LayerRegistry.TypeOf(name) != type)
                {
                    problems.Add($"{type.FullName} [LayerType(\"{name}\")] is registered as {LayerRegistry.TypeOf(name)?.FullName ?? "nothing"}");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void BuiltInTypes_AreExactlyTheLayerTypeAttributes()
    {
        var fromAttributes = new SortedSet<string>(
            ConcreteLayerClasses().SelectMany(t => t.GetCustomAttributes<LayerTypeAttribute>()).Select(a => a.Name), StringComparer.Ordinal);
        Assert.Equal(fromAttributes, BuiltInTypes());
    }

    [Fact]
    public void CaffeTypeList_Has61DistinctNames_AndTheExceptionListsAreCaffeTypes()
    {
        Assert.Equal(61, CaffeTypes.Length);
        Assert.Equal(CaffeTypes.Length, CaffeTypes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(NotImplemented.Keys, t => Assert.Contains(t, CaffeTypes));
        Assert.All(HandledByLoader, t => Assert.Contains(t, CaffeTypes));
        Assert.All(Extensions, t => Assert.DoesNotContain(t, CaffeTypes));
    }

    [Theory]
    [MemberData(nameof(CaffeTypeNames))]
    public void CaffeType_IsRegistered_UnlessListedAsMissing(string type)
    {
        if (NotImplemented.TryGetValue(type, out string? reason))
        {
            Assert.False(LayerRegistry.IsRegistered(type),
                $"'{type}' is registered now: remove it from NotImplemented ({reason}) and from docs/layers.md's table of missing types");
            var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(new LayerParameter { Name = "x", Type = type }));
            Assert.Contains($"unknown layer type '{type}'", e.Message, StringComparison.Ordinal);
        }
        else if (HandledByLoader.Contains(type))
        {
            Assert.False(LayerRegistry.IsRegistered(type), $"'{type}' should reach the custom layer loader, not a registered factory");
        }
        else
        {
            Assert.True(LayerRegistry.IsRegistered(type), $"Caffe type '{type}' is not registered and not listed in NotImplemented");
            Assert.Equal(CremaAssembly, LayerRegistry.TypeOf(type)?.Assembly);
        }
    }

    [Fact]
    public void BuiltInTypesOutsideCaffe_AreExactlyTheDeclaredExtensions()
    {
        var extra = BuiltInTypes().Where(t => !CaffeTypes.Contains(t)).ToArray();
        Assert.Equal(Extensions, extra);
    }

    [Fact]
    public void PythonType_GoesToTheCustomLayerLoader()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(new LayerParameter { Name = "py", Type = "Python" }));
        Assert.DoesNotContain("unknown layer type", e.Message, StringComparison.Ordinal);
        Assert.Contains("python_param", e.Message, StringComparison.Ordinal);
        Assert.Contains("'py'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalogue_DocumentsEveryBuiltInType_AndNothingElse()
    {
        var (documented, missing) = ReadCatalogue();
        var builtIn = BuiltInTypes();
        var undocumented = builtIn.Except(documented).ToList();
        var stale = documented.Except(builtIn).Except(HandledByLoader).ToList();
        Assert.True(undocumented.Count == 0, $"registered but not in docs/layers.md: {string.Join(", ", undocumented)}");
        Assert.True(stale.Count == 0, $"in docs/layers.md but not registered: {string.Join(", ", stale)}");
        Assert.Equal(new SortedSet<string>(NotImplemented.Keys, StringComparer.Ordinal), missing);
    }

    [Fact]
    public void Catalogue_MarksExactlyTheExtensionsAsExtensions()
    {
        string text = File.ReadAllText(RepoPaths.Get("docs", "layers.md"));
        var marked = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in TableRows(text))
        {
            if (row.Cells[^1].Contains("*ext*", StringComparison.Ordinal))
            {
                marked.UnionWith(row.Types);
            }
        }
        Assert.Equal(new SortedSet<string>(Extensions, StringComparer.Ordinal), marked);
    }

    [Fact]
    public void UnknownType_ErrorNamesTheLayer_AndListsEveryKnownType()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(new LayerParameter { Name = "mystery", Type = "Frobnicate" }));
        Assert.Contains("'mystery'", e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown layer type 'Frobnicate'", e.Message, StringComparison.Ordinal);
        var match = KnownList().Match(e.Message);
        Assert.True(match.Success, $"no '(known: …)' list in: {e.Message}");
        var listed = match.Groups[1].Value.Split(", ");
        Assert.Equal(listed.Order(StringComparer.Ordinal), listed);
        var notListed = BuiltInTypes().Except(listed).ToList();
        Assert.True(notListed.Count == 0, $"missing from the error's list: {string.Join(", ", notListed)}");
    }

    /// <summary>
    /// Types named in the first column of docs/layers.md's tables: the catalogue proper, and the table under
    /// "Caffe types Crema does not have".
    /// </summary>
    private static (SortedSet<string> Documented, SortedSet<string> Missing) ReadCatalogue()
    {
        string text = File.ReadAllText(RepoPaths.Get("docs", "layers.md"));
        var documented = new SortedSet<string>(StringComparer.Ordinal);
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in TableRows(text))
        {
            (row.Section.StartsWith("Caffe types Crema does not have", StringComparison.Ordinal) ? missing : documented).UnionWith(row.Types);
        }
        // The Python section has no table; it documents the type by its heading.
        if (text.Contains("\n## Python", StringComparison.Ordinal))
        {
            documented.Add("Python");
        }
        return (documented, missing);
    }

    private sealed record Row(string Section, string[] Cells, string[] Types);

    private static IEnumerable<Row> TableRows(string markdown)
    {
        string section = "";
        foreach (string raw in markdown.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                section = line[3..].Trim();
                continue;
            }
            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }
            var cells = line.Trim('|').Split(" | ");
            var types = Backticked().Matches(cells[0]).Select(m => m.Groups[1].Value).ToArray();
            yield return new Row(section, cells, types);
        }
    }

    [GeneratedRegex("`([A-Za-z0-9]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"\(known: (.*)\)$")]
    private static partial Regex KnownList();
}

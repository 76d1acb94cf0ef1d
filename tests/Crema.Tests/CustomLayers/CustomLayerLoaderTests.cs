using Crema.Scripting;
using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Xunit.Abstractions;

namespace Crema.Tests.CustomLayers;

/// <summary>How python_param resolves to a class, and how failures read.</summary>
public class CustomLayerLoaderTests(ITestOutputHelper output)
{
    [Fact]
    public void LayerRegistry_RoutesPythonTypeToTheLoader()
    {
        var layer = LayerRegistry.Create(CustomLayerFiles.Python("loss", "euclidean_loss.cs", "EuclideanLossLayer"), CustomLayerFiles.ExamplesDir);
        Assert.Equal("EuclideanLossLayer", layer.GetType().Name);
        Assert.Equal("Python", layer.Type);
    }

    [Fact]
    public void SameFile_CompilesOnce()
    {
        var a = CustomLayerLoader.Create(CustomLayerFiles.Python("a", "euclidean_loss.cs", "EuclideanLossLayer"), CustomLayerFiles.ExamplesDir);
        var b = CustomLayerLoader.Create(CustomLayerFiles.Python("b", "euclidean_loss.cs", "EuclideanLossLayer"), CustomLayerFiles.ExamplesDir);
        string absolute = Path.Combine(CustomLayerFiles.ExamplesDir, "euclidean_loss.cs");
        var c = CustomLayerLoader.Create(CustomLayerFiles.Python("c", absolute, "EuclideanLossLayer"), baseDirectory: null);
        Assert.NotSame(a, b);
        Assert.Same(a.GetType(), b.GetType());
        Assert.Same(a.GetType(), c.GetType());
    }

    [Fact]
    public void EditedFile_Recompiles()
    {
        string dir = CustomLayerFiles.NewTempDir();
        string path = Path.Combine(dir, "scaler.cs");
        File.WriteAllText(path, ScalerSource(2f));
        var first = Run(CustomLayerLoader.Create(CustomLayerFiles.Python("s", "scaler.cs", "Scaler"), dir));
        File.WriteAllText(path, ScalerSource(3f));
        var second = Run(CustomLayerLoader.Create(CustomLayerFiles.Python("s", "scaler.cs", "Scaler"), dir));
        Assert.Equal(2f, first);
        Assert.Equal(3f, second);

        static float Run(Layer layer)
        {
            var x = TestBlobs.FromValues([1], 1f);
            var y = new Blob();
            layer.SetUp([x], [y]);
            layer.Forward([x], [y]);
            return y.Data[0];
        }
    }

    [Fact]
    public void WrongSignInBackward_FailsTheGradientCheck()
    {
        // The Euclidean example with the sign of the prediction gradient flipped: forward is unchanged, backward is wrong.
        string source = File.ReadAllText(Path.Combine(CustomLayerFiles.ExamplesDir, "euclidean_loss.cs"));
        string broken = source.Replace("float sign = b == 0 ? 1f : -1f;", "float sign = b == 0 ? -1f : 1f;", StringComparison.Ordinal);
        Assert.NotEqual(source, broken);
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "broken_euclidean.cs"), broken);
        var layer = CustomLayerLoader.Create(CustomLayerFiles.Python("loss", "broken_euclidean.cs", "EuclideanLossLayer"), dir);

        var e = Assert.Throws<GradientCheckException>(() => new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer,
            [TestBlobs.Gaussian(1701, 1f, 10, 5), TestBlobs.Gaussian(1702, 1f, 10, 5)], [new Blob()]));
        output.WriteLine(e.Message);
        Assert.Equal(100, e.Mismatches.Count);
    }

    [Fact]
    public void SyntaxError_ReportsFileLineAndColumn()
    {
        string dir = CustomLayerFiles.NewTempDir();
        // Line 7 lacks its semicolon; Roslyn reports it at the end of that line (column 27).
        File.WriteAllText(Path.Combine(dir, "typo_layer.cs"), """
            using Crema;
            using Crema.Layers;
            using Crema.Proto;

            public sealed class TypoLayer : Layer
            {
                private int _count = 0
                public TypoLayer(LayerParameter param) : base(param) { }
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].ReshapeLike(bottom[0]);
                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => _count++;
            }
            """);
        var e = Assert.Throws<CremaException>(() =>
            LayerRegistry.Create(CustomLayerFiles.Python("typo", "typo_layer.cs", "TypoLayer"), dir));
        output.WriteLine(e.Message);
        Assert.Contains("Layer 'typo' (type Python)", e.Message, StringComparison.Ordinal);
        Assert.Contains("typo_layer.cs(7,27): error CS1002: ; expected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypeError_ListsEachDiagnostic()
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "type_errors.cs"), """
            using Crema;
            using Crema.Layers;
            using Crema.Proto;

            public sealed class Bad : Layer
            {
                public Bad(LayerParameter param) : base(param) { }
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].Reshape(bottom[0].Shap);
                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { int x = "one"; }
            }
            """);
        var e = Assert.Throws<CremaException>(() => CustomLayerLoader.Create(CustomLayerFiles.Python("bad", "type_errors.cs", "Bad"), dir));
        Assert.Contains("(2 error(s))", e.Message, StringComparison.Ordinal);
        Assert.Contains("type_errors.cs(8,", e.Message, StringComparison.Ordinal);
        Assert.Contains("error CS1061", e.Message, StringComparison.Ordinal);
        Assert.Contains("type_errors.cs(9,", e.Message, StringComparison.Ordinal);
        Assert.Contains("error CS0029", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_NamesLayerModuleAndPath()
    {
        string dir = CustomLayerFiles.NewTempDir();
        var e = Assert.Throws<CremaException>(() => CustomLayerLoader.Create(CustomLayerFiles.Python("loss", "nowhere.cs", "X"), dir));
        Assert.Contains("Layer 'loss'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'nowhere.cs' not found", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir, "nowhere.cs"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongClassName_ListsTheLayersTheFileDefines()
    {
        var e = Assert.Throws<CremaException>(() => CustomLayerLoader.Create(
            CustomLayerFiles.Python("loss", "euclidean_loss.cs", "EuclidianLossLayer"), CustomLayerFiles.ExamplesDir));
        Assert.Contains("Layer 'loss'", e.Message, StringComparison.Ordinal);
        Assert.Contains("class 'EuclidianLossLayer' not found in module 'euclidean_loss.cs'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Layer classes there: EuclideanLossLayer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClassNotDerivingFromLayer_Throws()
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "not_a_layer.cs"), "public sealed class Helper { public Helper(Crema.Proto.LayerParameter p) { } }\n");
        var e = Assert.Throws<CremaException>(() => CustomLayerLoader.Create(CustomLayerFiles.Python("h", "not_a_layer.cs", "Helper"), dir));
        Assert.Contains("Layer 'h'", e.Message, StringComparison.Ordinal);
        Assert.Contains("class 'Helper' in module 'not_a_layer.cs' does not derive from Crema.Layers.Layer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClassWithoutLayerParameterConstructor_Throws()
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "no_ctor.cs"), """
            using Crema;
            using Crema.Layers;
            using Crema.Proto;

            public sealed class NoCtor : Layer
            {
                public NoCtor() : base(new LayerParameter()) { }
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }
                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }
            }
            """);
        var e = Assert.Throws<CremaException>(() => CustomLayerLoader.Create(CustomLayerFiles.Python("n", "no_ctor.cs", "NoCtor"), dir));
        Assert.Contains("Layer 'n'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'NoCtor' needs a public constructor taking a LayerParameter", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingPythonParam_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(new LayerParameter { Name = "p", Type = "Python" }));
        Assert.Contains("Layer 'p' (type Python): needs python_param", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParamStr_ReachesPlainAndCustomLayers()
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "echo.cs"), """
            using Crema;
            using Crema.Layers;
            using Crema.Proto;

            namespace Echo;

            // A plain Layer reads python_param.param_str itself.
            public sealed class PlainEcho(LayerParameter param) : Layer(param)
            {
                public string Seen => Param.PythonParam.ParamStr;
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }
                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }
            }

            public sealed class TypedEcho(LayerParameter param) : CustomLayer(param)
            {
                public string Raw => ParamStr;
                public float Rate => GetFloat("rate", -1f);
                public int Size => GetInt("size", -1);
                public string Mode => GetString("mode", "none");
                public bool Flag => GetBool("flag", false);
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }
                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }
            }
            """);
        dynamic plain = CustomLayerLoader.Create(CustomLayerFiles.Python("p", "echo.cs", "PlainEcho", "anything goes"), dir);
        Assert.Equal("anything goes", (string)plain.Seen);
        dynamic typed = CustomLayerLoader.Create(CustomLayerFiles.Python("t", "echo.cs", "Echo.TypedEcho", "rate=0.25, size=3; mode='max' flag=true"), dir);
        Assert.Equal("rate=0.25, size=3; mode='max' flag=true", (string)typed.Raw);
        Assert.Equal(0.25f, (float)typed.Rate);
        Assert.Equal(3, (int)typed.Size);
        Assert.Equal("max", (string)typed.Mode);
        Assert.True((bool)typed.Flag);
    }

    [Fact]
    public void DllModule_LoadsFromPath()
    {
        string dll = typeof(CustomLayerLoaderTests).Assembly.Location;
        var layer = CustomLayerLoader.Create(CustomLayerFiles.Python("loss", dll, nameof(RegisteredEuclideanLoss)), baseDirectory: null);
        Assert.IsType<RegisteredEuclideanLoss>(layer);
    }

    [Fact]
    public void CaffeStyleModuleName_FindsTheCsFileNextToThePrototxt()
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "pyloss.cs"), ScalerSource(5f).Replace("Scaler", "PyLossScaler", StringComparison.Ordinal));
        var layer = LayerRegistry.Create(CustomLayerFiles.Python("s", "pyloss", "PyLossScaler"), dir);
        Assert.Equal("PyLossScaler", layer.GetType().Name);
    }

    [Fact]
    public void ExceptionInCompiledLayer_StackTraceNamesTheSourceLine()
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "throws.cs"), """
            using Crema;
            using Crema.Layers;
            using Crema.Proto;

            public sealed class Throws(LayerParameter param) : Layer(param)
            {
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].ReshapeLike(bottom[0]);
                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
                {
                    throw new InvalidOperationException("boom");
                }
            }
            """);
        var layer = CustomLayerLoader.Create(CustomLayerFiles.Python("t", "throws.cs", "Throws"), dir);
        var x = new Blob(2);
        var y = new Blob();
        layer.SetUp([x], [y]);
        // The fault becomes one line naming the layer, its file and the user's line; the original keeps its trace.
        var e = Assert.Throws<UserLayerException>(() => layer.Forward([x], [y]));
        output.WriteLine(e.ToString());
        Assert.Equal("Layer 't' (throws.cs, type Python): Forward threw InvalidOperationException: boom at throws.cs:10", e.Message);
        var inner = Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains("throws.cs:line 10", inner.StackTrace, StringComparison.Ordinal);
    }

    internal static string ScalerSource(float factor) => $$"""
        using Crema;
        using Crema.Layers;
        using Crema.Proto;

        public sealed class Scaler(LayerParameter param) : Layer(param)
        {
            public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].ReshapeLike(bottom[0]);
            protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].Data[0] = {{factor}}f * bottom[0].Data[0];
        }
        """;
}

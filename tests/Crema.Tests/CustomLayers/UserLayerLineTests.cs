using Crema.Layers;
using Crema.Scripting;
using Crema.Testing;

namespace Crema.Tests.CustomLayers;

/// <summary>
/// A fault in a user's .cs layer is reported at exactly its line (file.cs:LINE), wherever it happens: a throw, an
/// array index, a null dereference inside a helper, a fault in Backward or SetUp. The expected lines are found by
/// their marker comments in the source, not written down.
/// </summary>
public class UserLayerLineTests
{
    private const string Source = """
        using Crema;
        using Crema.Layers;
        using Crema.Proto;

        public sealed class Faulty(LayerParameter param) : Layer(param)
        {
            private string Mode => Param.PythonParam.ParamStr;

            public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
            {
                int width = bottom[0].Count;
                if (Mode == "setup")
                {
                    _ = checked(int.MaxValue + width); // FAULT:setup
                }
            }

            public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].ReshapeLike(bottom[0]);

            protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
            {
                var values = bottom[0].Data;
                float sum = 0;
                for (int i = 0; i < values.Length; i++)
                {
                    sum += values[i];
                }
                if (Mode == "throw")
                {
                    throw new InvalidOperationException("sum is " + sum); // FAULT:throw
                }
                var small = new float[2];
                int at = Mode == "index" ? values.Length : 0;
                float picked = small[at]; // FAULT:index
                top[0].Data[0] = picked + Length(Mode == "null" ? null : "ok");
            }

            private static int Length(string? text)
            {
                int extra = 1;
                extra += 2;
                return text!.Length + extra; // FAULT:null
            }

            protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
            {
                var diff = bottom[0].Diff;
                int last = diff.Length;
                diff[0] = top[0].Diff[0];
                diff[last] = 1; // FAULT:backward
            }
        }
        """;

    private static int LineOf(string marker) =>
        Array.FindIndex(Source.Split('\n'), l => l.Contains("// FAULT:" + marker, StringComparison.Ordinal)) + 1;

    private static string Fault(string mode)
    {
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "faulty.cs"), Source);
        var layer = CustomLayerLoader.Create(CustomLayerFiles.Python("f", "faulty.cs", "Faulty", paramStr: mode), dir);
        var x = TestBlobs.FromValues([3], 1f, 2f, 3f);
        var y = new Blob();
        var e = Assert.Throws<UserLayerException>(() =>
        {
            layer.SetUp([x], [y]);
            layer.Forward([x], [y]);
            layer.Backward([y], [true], [x]);
        });
        return e.Message;
    }

    [Theory]
    [InlineData("setup", "SetUp", "OverflowException")]
    [InlineData("throw", "Forward", "InvalidOperationException")]
    [InlineData("index", "Forward", "IndexOutOfRangeException")]
    [InlineData("null", "Forward", "NullReferenceException")]
    [InlineData("backward", "Backward", "IndexOutOfRangeException")]
    public void Fault_IsReportedAtItsExactLine(string mode, string stage, string exception)
    {
        int line = LineOf(mode);
        Assert.True(line > 0);
        string message = Fault(mode);
        Assert.StartsWith($"Layer 'f' (faulty.cs, type Python): {stage} threw {exception}: ", message, StringComparison.Ordinal);
        Assert.EndsWith($" at faulty.cs:{line}", message, StringComparison.Ordinal);
    }
}

using Crema.Layers;
using static Crema.Tests.Layers.RecurrentReference;

namespace Crema.Tests.Layers;

// Steady-state Forward and Backward allocate nothing (STYLE.md).
public class RecurrentAllocationTests
{
    [Theory]
    [InlineData("LSTM", false, false)]
    [InlineData("LSTM", true, true)]
    [InlineData("RNN", false, false)]
    [InlineData("RNN", true, true)]
    [InlineData("LSTMUnit", false, false)]
    public void ForwardBackward_AllocatesNothing(string type, bool staticInput, bool exposeHidden)
    {
        List<Blob> bottom;
        Layer layer;
        int tops;
        if (type == "LSTMUnit")
        {
            bottom = [TestBlobs.Gaussian(1, 1f, 1, N, D), TestBlobs.Gaussian(2, 1f, 1, N, 4 * D), TestBlobs.FromValues([1, N], 1, 0)];
            layer = new LSTMUnitLayer(new() { Name = "unit", Type = type });
            tops = 2;
        }
        else
        {
            int states = exposeHidden ? (type == "LSTM" ? 2 : 1) : 0;
            bottom = Bottoms(staticInput, states);
            layer = type == "LSTM" ? new LSTMLayer(Param(type, exposeHidden: exposeHidden)) : new RNNLayer(Param(type, exposeHidden: exposeHidden));
            tops = 1 + states;
        }
        var top = Tops(tops);
        var propagate = bottom.Select((_, i) => type == "LSTMUnit" ? i != 2 : i != 1).ToArray();
        layer.SetUp(bottom, top);
        for (int i = 0; i < 3; i++)
        {
            layer.Forward(bottom, top);
            layer.Backward(top, propagate, bottom);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        layer.Forward(bottom, top);
        layer.Backward(top, propagate, bottom);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // NOTE: the current Gemm.Sgemm allocates a little per call (its replacement will not). Until then, allow whole
        // multiples of that per-call amount (at most one per Gemm call these layers make); anything else is ours.
        long perGemm = GemmAllocation();
        if (perGemm == 0)
        {
            Assert.Equal(0, allocated);
        }
        else
        {
            Assert.True(allocated % perGemm == 0 && allocated <= 16 * perGemm, $"allocated {allocated} B; Gemm allocates {perGemm} B per call");
        }
    }

    private static long GemmAllocation()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        for (int i = 0; i < 3; i++)
        {
            Crema.Kernels.Gemm.Sgemm(false, true, 2, 2, 3, 1f, a, b, 0f, c);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        Crema.Kernels.Gemm.Sgemm(false, true, 2, 2, 3, 1f, a, b, 0f, c);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}

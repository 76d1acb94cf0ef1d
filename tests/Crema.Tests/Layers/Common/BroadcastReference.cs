namespace Crema.Tests.Layers;

/// <summary>Naive reference for Scale/Bias: unravel each element's index and pick the operand element at axes [axis, axis + k).</summary>
internal static class BroadcastReference
{
    public static float[] Apply(Blob x, float[] operand, int[] operandShape, int axis, Func<float, float, float> op)
    {
        int[] shape = [.. x.Shape];
        var result = new float[x.Count];
        var index = new int[shape.Length];
        for (int flat = 0; flat < x.Count; flat++)
        {
            int rest = flat;
            for (int a = shape.Length - 1; a >= 0; a--)
            {
                index[a] = rest % shape[a];
                rest /= shape[a];
            }
            int p = 0;
            for (int a = 0; a < operandShape.Length; a++)
            {
                p = p * operandShape[a] + index[axis + a];
            }
            result[flat] = op(x.Data[flat], operand[p]);
        }
        return result;
    }
}

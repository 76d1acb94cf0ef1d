using Crema.Layers;

namespace Crema.Tests.Layers;

public class NeuronRegistrationTests
{
    [Theory]
    [InlineData("ReLU", typeof(ReLULayer))]
    [InlineData("PReLU", typeof(PReLULayer))]
    [InlineData("ELU", typeof(ELULayer))]
    [InlineData("Sigmoid", typeof(SigmoidLayer))]
    [InlineData("TanH", typeof(TanHLayer))]
    [InlineData("AbsVal", typeof(AbsValLayer))]
    [InlineData("Power", typeof(PowerLayer))]
    [InlineData("Exp", typeof(ExpLayer))]
    [InlineData("Log", typeof(LogLayer))]
    [InlineData("BNLL", typeof(BNLLLayer))]
    [InlineData("Threshold", typeof(ThresholdLayer))]
    [InlineData("Clip", typeof(ClipLayer))]
    [InlineData("Swish", typeof(SwishLayer))]
    [InlineData("Dropout", typeof(DropoutLayer))]
    public void NeuronLayer_IsRegistered(string type, Type layerClass)
    {
        Assert.Equal(layerClass, LayerRegistry.TypeOf(type));
        Assert.True(typeof(NeuronLayer).IsAssignableFrom(layerClass));
    }
}

using Crema.Layers;

namespace Crema.Tests.Layers;

public class CommonLayerRegistrationTests
{
    [Theory]
    [InlineData("Softmax", typeof(SoftmaxLayer))]
    [InlineData("SoftmaxWithLoss", typeof(SoftmaxWithLossLayer))]
    [InlineData("Accuracy", typeof(AccuracyLayer))]
    [InlineData("EuclideanLoss", typeof(EuclideanLossLayer))]
    [InlineData("Input", typeof(InputLayer))]
    [InlineData("Split", typeof(SplitLayer))]
    [InlineData("Silence", typeof(SilenceLayer))]
    [InlineData("Flatten", typeof(FlattenLayer))]
    [InlineData("Reshape", typeof(ReshapeLayer))]
    [InlineData("Concat", typeof(ConcatLayer))]
    [InlineData("Slice", typeof(SliceLayer))]
    [InlineData("Eltwise", typeof(EltwiseLayer))]
    [InlineData("Tile", typeof(TileLayer))]
    [InlineData("Reduction", typeof(ReductionLayer))]
    [InlineData("ArgMax", typeof(ArgMaxLayer))]
    [InlineData("BatchReindex", typeof(BatchReindexLayer))]
    [InlineData("Filter", typeof(FilterLayer))]
    [InlineData("Parameter", typeof(ParameterLayer))]
    [InlineData("MultinomialLogisticLoss", typeof(MultinomialLogisticLossLayer))]
    [InlineData("InfogainLoss", typeof(InfogainLossLayer))]
    [InlineData("HingeLoss", typeof(HingeLossLayer))]
    [InlineData("SigmoidCrossEntropyLoss", typeof(SigmoidCrossEntropyLossLayer))]
    [InlineData("ContrastiveLoss", typeof(ContrastiveLossLayer))]
    public void Type_IsRegistered(string type, Type layerClass)
    {
        Assert.Equal(layerClass, LayerRegistry.TypeOf(type));
        var layer = LayerRegistry.Create(new Crema.Proto.LayerParameter { Name = "x", Type = type });
        Assert.IsType(layerClass, layer);
    }
}

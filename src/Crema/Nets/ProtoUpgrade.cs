using Crema.Proto;

namespace Crema.Nets;

/// <summary>Bridge to the net upgrader (V0/V1 layers, input fields). Placeholder until the full upgrader lands.</summary>
internal static class ProtoUpgrade
{
    public static NetParameter UpgradeNet(NetParameter net, string path)
    {
        if (net.Layers.Count > 0)
        {
            throw new CremaException($"{path}: V1 'layers' format needs the upgrader");
        }
        return net;
    }
}

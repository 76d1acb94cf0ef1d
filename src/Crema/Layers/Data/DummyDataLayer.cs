using Crema.Fillers;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Produces tops of the given shapes filled by data_filler (default constant 0): constant fillers fill once at set-up,
/// other fillers refill on every Forward, as Caffe's DummyData does.
/// </summary>
[LayerType("DummyData")]
public sealed class DummyDataLayer : Layer
{
    private FillerParameter[] _fillers = [];
    private bool[] _refill = [];

    public DummyDataLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(0);

    public override BlobCount TopCount => BlobCount.AtLeast(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.DummyDataParam ?? new DummyDataParameter();
        int numTop = top.Count;
        int numFillers = p.DataFiller.Count;
        Check(numFillers is 0 or 1 || numFillers == numTop, $"needs 0, 1 or {numTop} (one per top) data_filler entries, got {numFillers}");

        bool legacy = p.Num.Count > 0 || p.Channels.Count > 0 || p.Height.Count > 0 || p.Width.Count > 0;
        if (legacy)
        {
            Check(p.Shape.Count == 0, "both shape and the legacy num/channels/height/width fields were specified");
            CheckLegacyCount("num", p.Num.Count, numTop);
            CheckLegacyCount("channels", p.Channels.Count, numTop);
            CheckLegacyCount("height", p.Height.Count, numTop);
            CheckLegacyCount("width", p.Width.Count, numTop);
        }
        else
        {
            Check(p.Shape.Count == 1 || p.Shape.Count == numTop, $"needs 'shape' once or once per top ({numTop}), got {p.Shape.Count}");
        }

        _fillers = numFillers switch
        {
            0 => [new FillerParameter { Type = "constant", Value = 0 }],
            1 => [p.DataFiller[0]],
            _ => p.DataFiller.ToArray(),
        };
        foreach (var filler in _fillers)
        {
            Check(Filler.Types.Contains(filler.Type), $"unknown data_filler type '{filler.Type}' (known: {string.Join(", ", Filler.Types)})");
        }
        _refill = _fillers.Select(f => f.Type != "constant").ToArray();

        for (int i = 0; i < numTop; i++)
        {
            if (legacy)
            {
                top[i].Reshape(Pick(p.Num, i), Pick(p.Channels, i), Pick(p.Height, i), Pick(p.Width, i));
            }
            else
            {
                top[i].Reshape(p.Shape[p.Shape.Count == 1 ? 0 : i]);
            }
        }
        // Constant tops are filled here once; the others are (re)filled by every Forward.
        for (int i = 0; i < numTop; i++)
        {
            int f = _fillers.Length > 1 ? i : 0;
            if (!_refill[f])
            {
                Filler.Fill(top[i], _fillers[f]);
            }
        }
    }

    private void CheckLegacyCount(string field, int count, int numTop) =>
        Check(count == 1 || count == numTop, $"legacy field '{field}' must be given once or once per top ({numTop}), got {count}");

    private static int Pick(Google.Protobuf.Collections.RepeatedField<uint> values, int i) => (int)values[values.Count == 1 ? 0 : i];

    /// <summary>Shapes are fixed at set-up.</summary>
    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        for (int i = 0; i < top.Count; i++)
        {
            int f = _fillers.Length > 1 ? i : 0;
            if (_refill[f])
            {
                Filler.Fill(top[i], _fillers[f]);
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Crema.Drawing;
using Crema.Nets;
using Crema.Proto;
using SkiaSharp;

namespace Crema.Tests.Drawing;

/// <summary>draw_net's graph, statistics, layout and its SVG/PNG/DOT writers, checked by parsing what they write.</summary>
public partial class NetDrawingTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static string Model(string folder, string file) =>
        Path.Combine(AppContext.BaseDirectory, "TestData", "models", "bvlc_caffe", folder, file);

    private static NetGraph Graph(string folder, string file, Phase? phase = Phase.Test)
    {
        var param = ProtoFiles.ReadNetText(Model(folder, file));
        var stats = NetStatistics.TryCollect(param, phase ?? Phase.Test, null, out string? error)
            ?? throw new InvalidOperationException(error);
        return NetGraph.Build(param, phase, stats);
    }

    private static NetGraph LeNet() => Graph("examples_mnist", "lenet.prototxt");

    [Fact]
    public void Graph_LeNet_LayersBlobsAndEdgesAsCaffeDrawsThem()
    {
        var graph = LeNet();
        // 9 layers (relu1 in place) and 8 blobs: data conv1 pool1 conv2 pool2 ip1 ip2 prob.
        Assert.Equal(9, graph.Nodes.Count(n => n.Kind != GraphNodeKind.Blob));
        Assert.Equal(["conv1", "conv2", "data", "ip1", "ip2", "pool1", "pool2", "prob"],
            graph.Nodes.Where(n => n.Kind == GraphNodeKind.Blob).Select(n => n.Name).Order(StringComparer.Ordinal));
        var relu = Assert.Single(graph.Nodes, n => n.Kind == GraphNodeKind.InPlaceLayer);
        Assert.Equal("relu1", relu.Name);
        Assert.Equal("#90EE90", relu.Fill);
        Assert.Equal("#FF5050", Node(graph, "conv1", layer: true).Fill);
        Assert.Equal("#FF9900", Node(graph, "pool1", layer: true).Fill);
        Assert.Equal("#CC33FF", Node(graph, "ip1", layer: true).Fill);
        Assert.Equal("#E0E0E0", Node(graph, "ip1", layer: false).Fill);
        // ip1 blob → relu1 → ip2 (no second ip1 octagon), and ip2 reads from relu1.
        Assert.Contains(new GraphEdge(Node(graph, "ip1", false).Id, relu.Id), graph.Edges);
        Assert.Contains(new GraphEdge(relu.Id, Node(graph, "ip2", true).Id), graph.Edges);
        // Every layer: one edge per distinct bottom, one per top that is not in place.
        Assert.Equal(16, graph.Edges.Count);
    }

    [Fact]
    public void Statistics_LeNet_MatchHandComputedShapesParamsAndFlops()
    {
        var graph = LeNet();
        var conv1 = Node(graph, "conv1", layer: true);
        Assert.Contains("kernel 5, stride 1, pad 0", conv1.Lines);
        Assert.Contains("out 64×20×24×24", conv1.Lines);
        // 20 filters of 1×5×5 + 20 biases; 2 FLOPs per multiply-add, 500 weights at 64·24·24 positions.
        Assert.Contains($"params {NetGraph.Si(20 * 25 + 20)}, FLOPs {NetGraph.Si(2.0 * 500 * 64 * 24 * 24)}", conv1.Lines);
        var pool1 = Node(graph, "pool1", layer: true);
        Assert.Contains("(Pooling MAX)", pool1.Lines);
        Assert.Contains("kernel 2, stride 2, pad 0", pool1.Lines);
        Assert.Contains($"FLOPs {NetGraph.Si(4.0 * 64 * 20 * 12 * 12)}", pool1.Lines);
        long expectedParams = 520 + (50 * 20 * 25 + 50) + (500 * 800 + 500) + (10 * 500 + 10);
        Assert.Equal(expectedParams, graph.TotalParams);
        double expectedFlops = 2.0 * 500 * 64 * 576 + 4.0 * 64 * 20 * 144 + 2.0 * 25000 * 64 * 64 + 4.0 * 64 * 50 * 16
            + 2.0 * 400000 * 64 + 2.0 * 5000 * 64;
        Assert.Equal(expectedFlops, graph.TotalFlops);
    }

    [Theory]
    [InlineData(999, "999")]
    [InlineData(1234, "1.23K")]
    [InlineData(431080, "431K")]
    [InlineData(61000000, "61.0M")]
    [InlineData(2.3e9, "2.30G")]
    [InlineData(999999, "1.00M")]
    public void Si_ThreeSignificantDigits(double value, string expected) => Assert.Equal(expected, NetGraph.Si(value));

    [Fact]
    public void Graph_PhaseFiltersLayers_AllKeepsBoth()
    {
        var param = ProtoFiles.ReadNetText(Model("examples_mnist", "lenet_train_test.prototxt"));
        Assert.Contains(NetGraph.Build(param, Phase.Test).Nodes, n => n.Name == "accuracy");
        Assert.DoesNotContain(NetGraph.Build(param, Phase.Train).Nodes, n => n.Name == "accuracy");
        var all = NetGraph.Build(param, null);
        Assert.Equal(2, all.Nodes.Count(n => n.Name == "mnist"));
        Assert.Single(all.Nodes, n => n.Name == "data" && n.Kind == GraphNodeKind.Blob);
    }

    public static TheoryData<string, string, string> Nets() => new()
    {
        { "examples_mnist", "lenet.prototxt", "LR" },
        { "examples_mnist", "lenet.prototxt", "TB" },
        { "models_bvlc_reference_caffenet", "deploy.prototxt", "BT" },
        { "models_bvlc_googlenet", "deploy.prototxt", "LR" },
        { "models_bvlc_googlenet", "deploy.prototxt", "RL" },
    };

    [Theory]
    [MemberData(nameof(Nets))]
    public void Svg_HasEveryNodeAndEdge_BoxesDoNotOverlap_EdgesFlowInRankDirection(string folder, string file, string rankdir)
    {
        var graph = Graph(folder, file);
        var dir = Enum.Parse<RankDir>(rankdir);
        var doc = XDocument.Parse(NetDrawing.ToSvg(graph, dir).ToString());
        var svg = doc.Root!;
        Assert.Equal(Svg + "svg", svg.Name);
        double width = D(svg.Attribute("width")!.Value), height = D(svg.Attribute("height")!.Value);
        var groups = svg.Elements(Svg + "g").Where(g => g.Attribute("class")!.Value.StartsWith("node", StringComparison.Ordinal)).ToList();
        Assert.Equal(graph.Nodes.Count, groups.Count);
        var boxes = new Dictionary<int, (double X0, double Y0, double X1, double Y1)>();
        foreach (var g in groups)
        {
            int id = int.Parse(g.Attribute("id")!.Value["node".Length..], CultureInfo.InvariantCulture);
            var node = graph.Nodes[id];
            Assert.Equal(node.Name, g.Attribute("data-name")!.Value);
            Assert.Equal(node.Lines, g.Elements(Svg + "text").Select(t => t.Value));
            var shape = g.Element(Svg + (node.Kind == GraphNodeKind.Blob ? "polygon" : "rect"))!;
            Assert.Equal(node.Fill, shape.Attribute("fill")!.Value);
            boxes[id] = node.Kind == GraphNodeKind.Blob ? Bounds(Points(shape.Attribute("points")!.Value)) : Rect(shape);
            if (node.Kind == GraphNodeKind.Blob)
            {
                Assert.Equal(8, Points(shape.Attribute("points")!.Value).Count);
            }
            var b = boxes[id];
            Assert.True(b.X0 >= 0 && b.Y0 >= 0 && b.X1 <= width && b.Y1 <= height, $"{node.Name} lies outside the {width}×{height} drawing");
        }
        var all = boxes.Values.ToList();
        for (int i = 0; i < all.Count; i++)
        {
            for (int j = i + 1; j < all.Count; j++)
            {
                bool overlap = all[i].X0 < all[j].X1 && all[j].X0 < all[i].X1 && all[i].Y0 < all[j].Y1 && all[j].Y0 < all[i].Y1;
                Assert.False(overlap, $"nodes {all[i]} and {all[j]} overlap");
            }
        }
        var paths = svg.Elements(Svg + "path").Where(p => p.Attribute("class")?.Value == "edge").ToList();
        Assert.Equal(graph.Edges.Count, paths.Count);
        foreach (var p in paths)
        {
            int from = int.Parse(p.Attribute("data-from")!.Value, CultureInfo.InvariantCulture);
            int to = int.Parse(p.Attribute("data-to")!.Value, CultureInfo.InvariantCulture);
            Assert.Contains(new GraphEdge(from, to), graph.Edges);
            var points = Points(p.Attribute("d")!.Value.Replace("M", "", StringComparison.Ordinal).Replace("L", "", StringComparison.Ordinal));
            // The edge starts on its source's box and ends on its target's box.
            Assert.True(OnBorder(boxes[from], points[0]), $"edge {from}->{to} does not start on its source");
            Assert.True(OnBorder(boxes[to], points[^1]), $"edge {from}->{to} does not end on its target");
            double flow = dir switch
            {
                RankDir.LR => Center(boxes[to]).X - Center(boxes[from]).X,
                RankDir.RL => Center(boxes[from]).X - Center(boxes[to]).X,
                RankDir.TB => Center(boxes[to]).Y - Center(boxes[from]).Y,
                _ => Center(boxes[from]).Y - Center(boxes[to]).Y,
            };
            Assert.True(flow > 0, $"edge {graph.Nodes[from].Name} -> {graph.Nodes[to].Name} goes against {dir}");
        }
        Assert.StartsWith(graph.Name, svg.Elements(Svg + "text").First(t => t.Attribute("class")?.Value == "title").Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Png_DecodesAtTheLayoutSize_WithNodeColoursInsideTheirBoxes()
    {
        var graph = LeNet();
        var layout = NetDrawing.Layout(graph, RankDir.LR);
        using var bitmap = SKBitmap.Decode(NetDrawing.ToPng(graph, RankDir.LR));
        Assert.Equal((int)Math.Ceiling(layout.Width * 1.5), bitmap.Width);
        Assert.Equal((int)Math.Ceiling(layout.Height * 1.5), bitmap.Height);
        foreach (var node in graph.Nodes)
        {
            var box = layout.Nodes[node.Id];
            var expected = SKColor.Parse(node.Fill);
            // Just inside the left edge, halfway down: the fill, away from the centred text.
            var inside = bitmap.GetPixel((int)((box.X + 3) * 1.5 + (node.Kind == GraphNodeKind.Blob ? 9 * 1.5 : 0)), (int)(box.CenterY * 1.5));
            Assert.True(Close(expected, inside), $"{node.Name}: expected {expected} inside its box, got {inside}");
            // Text was drawn: some dark pixels in the box.
            int dark = 0;
            for (int y = (int)(box.Y * 1.5) + 3; y < (int)((box.Y + box.Height) * 1.5) - 3; y++)
            {
                for (int x = (int)(box.X * 1.5) + 3; x < (int)((box.X + box.Width) * 1.5) - 3; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    dark += c.Red + c.Green + c.Blue < 150 ? 1 : 0;
                }
            }
            Assert.True(dark > 20, $"{node.Name}: no label drawn");
        }
        // Outside every node and edge: background.
        Assert.Equal(SKColors.White, bitmap.GetPixel(bitmap.Width - 2, bitmap.Height - 2));
    }

    [GeneratedRegex(@"^\s*n(\d+) \[label=""((?:[^""\\]|\\.)*)"", shape=(record|octagon), fillcolor=""(#[0-9A-F]{6})""\];$")]
    private static partial Regex DotNode();

    [GeneratedRegex(@"^\s*n(\d+) -> n(\d+);$")]
    private static partial Regex DotEdge();

    [Fact]
    public void Dot_DeclaresEveryNodeAndEdge_WithCaffesShapesAndEscapedRecordLabels()
    {
        var graph = Graph("models_bvlc_googlenet", "deploy.prototxt");
        string dot = NetDrawing.ToDot(graph, RankDir.LR);
        var lines = dot.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("digraph \"GoogleNet\" {", lines[0], StringComparison.Ordinal);
        Assert.Equal("}", lines[^1]);
        Assert.Contains("  rankdir=LR;", lines);
        var nodes = lines.Select(l => DotNode().Match(l)).Where(m => m.Success).ToList();
        var edges = lines.Select(l => DotEdge().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(graph.Nodes.Count, nodes.Count);
        Assert.Equal(graph.Edges.Count, edges.Count);
        var declared = nodes.Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToHashSet();
        Assert.All(edges, m => Assert.Contains(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), declared));
        Assert.All(edges, m => Assert.Contains(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), declared));
        foreach (var m in nodes)
        {
            var node = graph.Nodes[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)];
            Assert.Equal(node.Kind == GraphNodeKind.Blob ? "octagon" : "record", m.Groups[3].Value);
            Assert.Equal(node.Fill, m.Groups[4].Value);
            Assert.Equal(node.Lines[0], m.Groups[2].Value.Split("\\n")[0]);
        }
        // A record label with { | } < > would be read as fields: they come out escaped.
        var odd = new NetParameter { Name = "odd" };
        odd.Layer.Add(new LayerParameter { Name = "a{b|c}<d>", Type = "ReLU", Bottom = { "x" }, Top = { "y" } });
        string oddDot = NetDrawing.ToDot(NetGraph.Build(odd, null), RankDir.TB);
        Assert.Contains(@"a\{b\|c\}\<d\>", oddDot, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Dot_IsAcceptedByGraphviz_WhenInstalled()
    {
        string? dotExe = new[] { "/usr/bin/dot", "/usr/local/bin/dot" }.FirstOrDefault(File.Exists);
        if (dotExe == null)
        {
            return; // Graphviz is optional; the structure is checked by the test above.
        }
        foreach (var (folder, file) in new[] { ("examples_mnist", "lenet.prototxt"), ("models_bvlc_googlenet", "deploy.prototxt") })
        {
            var psi = new ProcessStartInfo(dotExe, "-Tsvg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            process.StandardInput.Write(NetDrawing.ToDot(Graph(folder, file), RankDir.LR));
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            string errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, errors);
            Assert.Empty(errors.Trim());
            Assert.Contains("<svg", await output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Layout_BreaksCycles_AndKeepsEveryNodeInItsOwnSpace()
    {
        // 0 → 1 → 2 → 0 (a cycle), 2 → 3, and a lone node 4.
        var sizes = Enumerable.Repeat((40.0, 20.0), 5).ToList();
        var edges = new List<(int, int)> { (0, 1), (1, 2), (2, 0), (2, 3) };
        var back = LayeredLayout.BackEdges(5, edges);
        Assert.Equal([false, false, true, false], back);
        var layout = LayeredLayout.Compute(sizes, edges, RankDir.TB);
        Assert.True(layout.Nodes[1].CenterY > layout.Nodes[0].CenterY && layout.Nodes[2].CenterY > layout.Nodes[1].CenterY);
        Assert.True(layout.Nodes[3].CenterY > layout.Nodes[2].CenterY);
        for (int i = 0; i < 5; i++)
        {
            for (int j = i + 1; j < 5; j++)
            {
                Assert.False(layout.Nodes[i].Overlaps(layout.Nodes[j]));
            }
        }
        // The reversed edge is still drawn from 2 to 0.
        var path = layout.Edges[2];
        Assert.True(path[0].Y > path[^1].Y);
    }

    [Fact]
    public void Place_IsTheLeastSquaresOrderedPlacement()
    {
        // Everyone wants x = 100: they spread evenly around it, gaps exact.
        var placed = LayeredLayout.Place([10, 20, 30], [100, 100, 100], 5);
        Assert.Equal(15 + 5, placed[1] - placed[0], 9);
        Assert.Equal(25 + 5, placed[2] - placed[1], 9);
        Assert.Equal(300, placed.Sum(), 9);
        // Far apart already: nothing moves.
        Assert.Equal([0.0, 100, 300], LayeredLayout.Place([10, 20, 30], [0, 100, 300], 5));
        // Brute force over a grid agrees with pool-adjacent-violators on a small case.
        double[] desired = [50, 10, 70, 60];
        double[] w = [10, 10, 10, 10];
        var best = LayeredLayout.Place(w, desired, 4);
        double Cost(double[] x) => x.Select((v, i) => (v - desired[i]) * (v - desired[i])).Sum();
        var rng = new Random(1701);
        for (int trial = 0; trial < 20000; trial++)
        {
            var x = new double[4];
            x[0] = rng.NextDouble() * 100 - 20;
            for (int i = 1; i < 4; i++)
            {
                x[i] = x[i - 1] + 14 + rng.NextDouble() * 30;
            }
            Assert.True(Cost(x) >= Cost(best) - 1e-9);
        }
    }

    [Fact]
    public void Write_UnknownExtension_FailsWithoutAFile()
    {
        using var dir = new Crema.Tests.Data.TempDir();
        var e = Assert.Throws<CremaException>(() => NetDrawing.Write(LeNet(), dir.Combine("net.jpg"), RankDir.LR));
        Assert.Contains("net.jpg", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    private static GraphNode Node(NetGraph graph, string name, bool layer) =>
        graph.Nodes.Single(n => n.Name == name && (n.Kind == GraphNodeKind.Blob) != layer);

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static List<(double X, double Y)> Points(string text) => text
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split(','))
        .Select(p => (D(p[0]), D(p[1])))
        .ToList();

    private static (double, double, double, double) Bounds(List<(double X, double Y)> points) =>
        (points.Min(p => p.X), points.Min(p => p.Y), points.Max(p => p.X), points.Max(p => p.Y));

    private static (double, double, double, double) Rect(XElement rect)
    {
        double x = D(rect.Attribute("x")!.Value), y = D(rect.Attribute("y")!.Value);
        return (x, y, x + D(rect.Attribute("width")!.Value), y + D(rect.Attribute("height")!.Value));
    }

    private static (double X, double Y) Center((double X0, double Y0, double X1, double Y1) b) => ((b.X0 + b.X1) / 2, (b.Y0 + b.Y1) / 2);

    private static bool OnBorder((double X0, double Y0, double X1, double Y1) b, (double X, double Y) p)
    {
        const double tolerance = 0.02;
        bool inside = p.X >= b.X0 - tolerance && p.X <= b.X1 + tolerance && p.Y >= b.Y0 - tolerance && p.Y <= b.Y1 + tolerance;
        bool onEdge = Math.Abs(p.X - b.X0) < tolerance || Math.Abs(p.X - b.X1) < tolerance
            || Math.Abs(p.Y - b.Y0) < tolerance || Math.Abs(p.Y - b.Y1) < tolerance;
        return inside && onEdge;
    }

    private static bool Close(SKColor a, SKColor b) =>
        Math.Abs(a.Red - b.Red) <= 8 && Math.Abs(a.Green - b.Green) <= 8 && Math.Abs(a.Blue - b.Blue) <= 8;
}

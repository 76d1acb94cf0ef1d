using System.Globalization;
using System.Text;
using System.Xml.Linq;
using SkiaSharp;

namespace Crema.Drawing;

/// <summary>
/// Draws a <see cref="NetGraph"/> as SVG, PNG or Graphviz DOT (draw_net's formats) with <see cref="LayeredLayout"/>;
/// no Graphviz binary needed.
/// </summary>
public static class NetDrawing
{
    public const double FontSize = 12;
    private const double LineHeight = 15;
    private const double PadX = 10;
    private const double PadY = 6;
    private const double OctagonCut = 9;
    private const double TitleHeight = 30;
    private const int MaxPngSide = 16000;
    private const double MaxPngPixels = 60e6;
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>Writes the drawing in the format named by the file extension (.svg, .png, .dot/.gv); temp file, then rename.</summary>
    public static void Write(NetGraph graph, string path, RankDir rankDir)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        byte[] bytes = ext switch
        {
            ".svg" => Encoding.UTF8.GetBytes(ToSvg(graph, rankDir).ToString()),
            ".png" => ToPng(graph, rankDir),
            ".dot" or ".gv" or ".raw" => Encoding.UTF8.GetBytes(ToDot(graph, rankDir)),
            _ => throw new CremaException($"draw_net: cannot write '{path}': unknown format '{ext}' (use .svg, .png or .dot)"),
        };
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>The title line: the net's name and its totals.</summary>
    public static string Title(NetGraph graph)
    {
        string name = string.IsNullOrEmpty(graph.Name) ? "net" : graph.Name;
        return graph.TotalParams > 0 || graph.TotalFlops > 0
            ? $"{name}: params {NetGraph.Si(graph.TotalParams)}, FLOPs {NetGraph.Si(graph.TotalFlops)}"
            : name;
    }

    /// <summary>Node sizes from their measured labels, and the layout (shifted down under the title).</summary>
    public static GraphLayout Layout(NetGraph graph, RankDir rankDir)
    {
        using var fonts = new Fonts();
        var sizes = graph.Nodes.Select(node =>
        {
            double width = node.Lines.Select((line, i) => fonts.Measure(line, bold: i == 0)).DefaultIfEmpty(0).Max() + 2 * PadX;
            if (node.Kind == GraphNodeKind.Blob)
            {
                width += 2 * OctagonCut;
            }
            return (Math.Ceiling(width), node.Lines.Count * LineHeight + 2 * PadY);
        }).ToList();
        var layout = LayeredLayout.Compute(sizes, graph.Edges.Select(e => (e.From, e.To)).ToList(), rankDir);
        double titleWidth = fonts.Measure(Title(graph), bold: true) + 32;
        return new GraphLayout(
            layout.Nodes.Select(b => b with { Y = b.Y + TitleHeight }).ToList(),
            layout.Edges.Select(path => (IReadOnlyList<Point2>)path.Select(p => p with { Y = p.Y + TitleHeight }).ToList()).ToList(),
            Math.Max(layout.Width, titleWidth), layout.Height + TitleHeight);
    }

    /// <summary>The drawing as an SVG document: one &lt;g class="node …"&gt; per node, one &lt;path class="edge"&gt; per edge.</summary>
    public static XDocument ToSvg(NetGraph graph, RankDir rankDir)
    {
        var layout = Layout(graph, rankDir);
        var root = new XElement(Svg + "svg",
            new XAttribute("width", F(layout.Width)), new XAttribute("height", F(layout.Height)),
            new XAttribute("viewBox", $"0 0 {F(layout.Width)} {F(layout.Height)}"),
            new XAttribute("font-family", "DejaVu Sans, Verdana, sans-serif"), new XAttribute("font-size", F(FontSize)),
            new XElement(Svg + "defs",
                new XElement(Svg + "marker", new XAttribute("id", "arrow"), new XAttribute("viewBox", "0 0 10 10"),
                    new XAttribute("refX", "10"), new XAttribute("refY", "5"), new XAttribute("markerWidth", "8"),
                    new XAttribute("markerHeight", "8"), new XAttribute("orient", "auto"),
                    new XElement(Svg + "path", new XAttribute("d", "M0,0 L10,5 L0,10 z"), new XAttribute("fill", "#333333")))),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "white")),
            new XElement(Svg + "text", new XAttribute("class", "title"), new XAttribute("x", "16"), new XAttribute("y", "21"),
                new XAttribute("font-weight", "bold"), new XAttribute("font-size", "14"), Title(graph)));
        for (int e = 0; e < graph.Edges.Count; e++)
        {
            var points = layout.Edges[e];
            root.Add(new XElement(Svg + "path", new XAttribute("class", "edge"),
                new XAttribute("data-from", graph.Edges[e].From), new XAttribute("data-to", graph.Edges[e].To),
                new XAttribute("d", "M" + string.Join(" L", points.Select(p => $"{F(p.X)},{F(p.Y)}"))),
                new XAttribute("fill", "none"), new XAttribute("stroke", "#333333"), new XAttribute("stroke-width", "1.2"),
                new XAttribute("marker-end", "url(#arrow)")));
        }
        foreach (var node in graph.Nodes)
        {
            var box = layout.Nodes[node.Id];
            string kind = node.Kind switch
            {
                GraphNodeKind.Blob => "blob",
                GraphNodeKind.InPlaceLayer => "layer inplace",
                _ => "layer",
            };
            var group = new XElement(Svg + "g", new XAttribute("class", "node " + kind), new XAttribute("id", "node" + node.Id),
                new XAttribute("data-name", node.Name));
            group.Add(new XElement(Svg + "title", node.Name));
            XElement shape = node.Kind == GraphNodeKind.Blob
                ? new XElement(Svg + "polygon", new XAttribute("points", string.Join(" ", Octagon(box).Select(p => $"{F(p.X)},{F(p.Y)}"))))
                : new XElement(Svg + "rect", new XAttribute("x", F(box.X)), new XAttribute("y", F(box.Y)),
                    new XAttribute("width", F(box.Width)), new XAttribute("height", F(box.Height)), new XAttribute("rx", "3"));
            shape.Add(new XAttribute("fill", node.Fill), new XAttribute("stroke", "#333333"));
            group.Add(shape);
            for (int i = 0; i < node.Lines.Count; i++)
            {
                var text = new XElement(Svg + "text", new XAttribute("x", F(box.CenterX)), new XAttribute("y", F(LineBaseline(box, node, i))),
                    new XAttribute("text-anchor", "middle"), node.Lines[i]);
                if (i == 0)
                {
                    text.Add(new XAttribute("font-weight", "bold"));
                }
                group.Add(text);
            }
            root.Add(group);
        }
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>The drawing as PNG bytes (SkiaSharp), at 1.5× the SVG's size when that stays under the size caps.</summary>
    public static byte[] ToPng(NetGraph graph, RankDir rankDir)
    {
        var layout = Layout(graph, rankDir);
        double scale = Math.Min(1.5, Math.Min(MaxPngSide / Math.Max(layout.Width, layout.Height), Math.Sqrt(MaxPngPixels / (layout.Width * layout.Height))));
        int width = Math.Max(1, (int)Math.Ceiling(layout.Width * scale)), height = Math.Max(1, (int)Math.Ceiling(layout.Height * scale));
        using var fonts = new Fonts();
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new CremaException($"draw_net: cannot allocate a {width}×{height} image");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        canvas.Scale((float)scale);
        using var stroke = new SKPaint { Color = new SKColor(0x33, 0x33, 0x33), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1.2f };
        using var arrowFill = new SKPaint { Color = new SKColor(0x33, 0x33, 0x33), IsAntialias = true, Style = SKPaintStyle.Fill };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(Title(graph), 16, 21, SKTextAlign.Left, fonts.Bold14, text);
        foreach (var points in layout.Edges)
        {
            DrawEdge(canvas, points, stroke, arrowFill);
        }
        foreach (var node in graph.Nodes)
        {
            var box = layout.Nodes[node.Id];
            using var fill = new SKPaint { Color = SKColor.Parse(node.Fill), IsAntialias = true, Style = SKPaintStyle.Fill };
            using var shape = new SKPath();
            if (node.Kind == GraphNodeKind.Blob)
            {
                var octagon = Octagon(box);
                shape.AddPoly(octagon.Select(p => new SKPoint((float)p.X, (float)p.Y)).ToArray());
            }
            else
            {
                shape.AddRoundRect(new SKRect((float)box.X, (float)box.Y, (float)(box.X + box.Width), (float)(box.Y + box.Height)), 3, 3);
            }
            canvas.DrawPath(shape, fill);
            canvas.DrawPath(shape, stroke);
            for (int i = 0; i < node.Lines.Count; i++)
            {
                canvas.DrawText(node.Lines[i], (float)box.CenterX, (float)LineBaseline(box, node, i), SKTextAlign.Center,
                    i == 0 ? fonts.Bold : fonts.Regular, text);
            }
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The graph as Graphviz DOT (record boxes and octagons, Caffe's colours), for `dot -Tpng`.</summary>
    public static string ToDot(NetGraph graph, RankDir rankDir)
    {
        var sb = new StringBuilder();
        sb.Append("digraph \"").Append(Quote(string.IsNullOrEmpty(graph.Name) ? "net" : graph.Name)).Append("\" {\n");
        sb.Append("  rankdir=").Append(rankDir).Append(";\n");
        sb.Append("  label=\"").Append(Quote(Title(graph))).Append("\"; labelloc=t;\n");
        sb.Append("  node [fontname=\"DejaVu Sans\", fontsize=10, style=filled];\n");
        foreach (var node in graph.Nodes)
        {
            string shape = node.Kind == GraphNodeKind.Blob ? "octagon" : "record";
            // In a record label {, }, |, < and > are structure: escape them in the text.
            string label = string.Join("\\n", node.Lines.Select(l => node.Kind == GraphNodeKind.Blob ? Quote(l) : RecordEscape(Quote(l))));
            sb.Append(CultureInfo.InvariantCulture, $"  n{node.Id} [label=\"{label}\", shape={shape}, fillcolor=\"{node.Fill}\"];\n");
        }
        foreach (var edge in graph.Edges)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  n{edge.From} -> n{edge.To};\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    private static string Quote(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static string RecordEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is '{' or '}' or '|' or '<' or '>')
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static double LineBaseline(Box box, GraphNode node, int line) =>
        box.CenterY - node.Lines.Count * LineHeight / 2 + line * LineHeight + LineHeight * 0.75;

    internal static Point2[] Octagon(Box b)
    {
        double c = Math.Min(OctagonCut, Math.Min(b.Width, b.Height) / 3);
        return
        [
            new(b.X + c, b.Y), new(b.X + b.Width - c, b.Y), new(b.X + b.Width, b.Y + c), new(b.X + b.Width, b.Y + b.Height - c),
            new(b.X + b.Width - c, b.Y + b.Height), new(b.X + c, b.Y + b.Height), new(b.X, b.Y + b.Height - c), new(b.X, b.Y + c),
        ];
    }

    private static void DrawEdge(SKCanvas canvas, IReadOnlyList<Point2> points, SKPaint stroke, SKPaint arrowFill)
    {
        if (points.Count < 2)
        {
            return;
        }
        using var path = new SKPath();
        path.MoveTo((float)points[0].X, (float)points[0].Y);
        foreach (var p in points.Skip(1))
        {
            path.LineTo((float)p.X, (float)p.Y);
        }
        canvas.DrawPath(path, stroke);
        DrawArrowHead(canvas, points[^2], points[^1], arrowFill);
    }

    private static void DrawArrowHead(SKCanvas canvas, Point2 from, Point2 to, SKPaint paint)
    {
        double dx = to.X - from.X, dy = to.Y - from.Y, length = Math.Sqrt(dx * dx + dy * dy);
        if (length == 0)
        {
            return;
        }
        dx /= length;
        dy /= length;
        const double size = 7, half = 3.5;
        using var head = new SKPath();
        head.MoveTo((float)to.X, (float)to.Y);
        head.LineTo((float)(to.X - dx * size - dy * half), (float)(to.Y - dy * size + dx * half));
        head.LineTo((float)(to.X - dx * size + dy * half), (float)(to.Y - dy * size - dx * half));
        head.Close();
        canvas.DrawPath(head, paint);
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>DejaVu Sans when the system has it (Skia's default face otherwise); measurements fall back to 0.6 em per character.
    /// The faces are not disposed: Skia may hand out its shared default face.</summary>
    private sealed class Fonts : IDisposable
    {
        private readonly SKTypeface _regularFace = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        private readonly SKTypeface _boldFace = SKTypeface.FromFamilyName("DejaVu Sans", SKFontStyle.Bold) ?? SKTypeface.Default;

        public Fonts()
        {
            Regular = new SKFont(_regularFace, (float)FontSize);
            Bold = new SKFont(_boldFace, (float)FontSize);
            Bold14 = new SKFont(_boldFace, 14);
        }

        public SKFont Regular { get; }

        public SKFont Bold { get; }

        public SKFont Bold14 { get; }

        public double Measure(string text, bool bold)
        {
            float width = (bold ? Bold : Regular).MeasureText(text);
            return width > 0 || text.Length == 0 ? width : text.Length * FontSize * 0.6;
        }

        public void Dispose()
        {
            Regular.Dispose();
            Bold.Dispose();
            Bold14.Dispose();
        }
    }
}

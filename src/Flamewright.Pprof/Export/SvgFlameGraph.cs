using System.Globalization;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>Layout settings for <see cref="SvgFlameGraph"/>.</summary>
public sealed record SvgFlameGraphOptions
{
    /// <summary>The image width in pixels, margins included (at least 300).</summary>
    public int Width { get; init; } = 1200;

    /// <summary>The height of one stack level in pixels (8 to 100).</summary>
    public int FrameHeight { get; init; } = 16;

    /// <summary>
    /// Frames narrower than this many pixels at full (unzoomed) width are not drawn, nor are their descendants,
    /// which bounds the file size of huge trees. Zero draws every frame with a positive total.
    /// </summary>
    public double MinWidthPixels { get; init; } = 0.1;

    public static SvgFlameGraphOptions Default { get; } = new();
}

/// <summary>
/// Writes a <see cref="FlameTree"/> as a self-contained, interactive SVG flame graph (hover details, click to
/// zoom, regular-expression search) that opens directly in a browser.
/// </summary>
/// <remarks>
/// The layout is an icicle: the root is the top row and callees grow downwards, so the root, the zoomed
/// frame's ancestors and the controls stay in view while deep stacks scroll. All geometry is computed here;
/// the script only rescales drawn frames on zoom, so it copes with very large graphs. The output is pure
/// ASCII (everything else is a character reference) and byte-for-byte deterministic.
/// </remarks>
public static class SvgFlameGraph
{
    private const double Margin = 10;
    private const double HeaderHeight = 58;
    private const double LabelPadding = 3;
    private const double DetailsFontSize = 12;

    // Monospace glyphs are about 0.6 em wide, which makes the label truncation estimate reliable.
    private const double CharWidthPerEm = 0.6;

    // A pathological multi-megabyte name would otherwise be repeated in every frame that carries it.
    private const int MaxNameLength = 2000;

    private const string RootFill = "#c8c8c8";

    private const string Hint = "Hover over a frame for details; click a frame to zoom, click the root to reset.";

    /// <summary>Writes <paramref name="tree"/> with the default <see cref="SvgFlameGraphOptions"/>.</summary>
    public static void Write(FlameTree tree, TextWriter writer, string title) =>
        Write(tree, writer, title, SvgFlameGraphOptions.Default);

    /// <summary>Writes <paramref name="tree"/> as an SVG document to <paramref name="writer"/>.</summary>
    /// <param name="tree">The flame tree to draw.</param>
    /// <param name="writer">Receives the document; it is not flushed or closed.</param>
    /// <param name="title">The heading; any text, it is escaped.</param>
    /// <param name="options">Layout settings.</param>
    public static void Write(FlameTree tree, TextWriter writer, string title, SvgFlameGraphOptions options)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Width, 300, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Width, 1_000_000, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FrameHeight, 8, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.FrameHeight, 100, nameof(options));
        if (!double.IsFinite(options.MinWidthPixels) || options.MinWidthPixels < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), options.MinWidthPixels, "MinWidthPixels must be a finite, non-negative number.");
        }

        var layout = new Layout(tree, options.Width - (2 * Margin), options.MinWidthPixels);
        new Renderer(tree, new XmlOut(writer), options, layout).Render(title);
    }

    /// <summary>
    /// The label that fits <paramref name="width"/> pixels, cut with ".." (the script's <c>fit</c> does the same
    /// on zoom); empty when fewer than three characters would fit.
    /// </summary>
    internal static string FitLabel(string name, double width, double charWidth)
    {
        double room = Math.Floor((width - (2 * LabelPadding)) / charWidth);
        if (name.Length <= room)
        {
            return name;
        }

        if (room < 3)
        {
            return "";
        }

        int cut = (int)room - 2;
        if (char.IsHighSurrogate(name[cut - 1]))
        {
            cut--; // never split a surrogate pair
        }

        return string.Concat(name.AsSpan(0, cut), "..");
    }

    /// <summary>
    /// Which nodes are drawn and where. Widths are max(total, 0) in sample units; a frame starts where its
    /// previous drawn sibling ends, so x is the sum of the preceding siblings' (non-negative) totals. Only in
    /// diff trees can children outgrow their parent; they are clipped to the parent's extent so frames nest.
    /// </summary>
    private sealed class Layout
    {
        private readonly List<int> _nodes = [];
        private readonly List<long> _offsets = [];
        private readonly List<long> _widths = [];
        private readonly List<int> _parents = [];

        public Layout(FlameTree tree, double drawWidth, double minWidthPixels)
        {
            DrawWidth = drawWidth;
            RootWidth = tree.Count == 0 ? 0 : Math.Max(tree.TotalOf(0), 0);
            if (RootWidth == 0 || drawWidth < minWidthPixels)
            {
                return;
            }

            Scale = drawWidth / RootWidth;
            var drawnIndex = new int[tree.Count]; // only read for drawn nodes: a skipped node's subtree is skipped
            var cursors = new List<long>(); // per drawn frame, where its next child starts
            Add(0, 0, RootWidth, -1);
            cursors.Add(0);
            int node = 1;
            while (node < tree.Count)
            {
                int parent = drawnIndex[tree.ParentOf(node)];
                long start = cursors[parent];
                long room = _offsets[parent] + _widths[parent] - start;
                long width = Math.Min(Math.Max(tree.TotalOf(node), 0), room);
                if (width <= 0 || width * Scale < minWidthPixels)
                {
                    node = tree.SubtreeEnd(node);
                    continue;
                }

                cursors[parent] = start + width;
                drawnIndex[node] = _nodes.Count;
                Add(node, start, width, parent);
                cursors.Add(start);
                MaxDepth = Math.Max(MaxDepth, tree.DepthOf(node));
                node++;
            }
        }

        public double DrawWidth { get; }

        /// <summary>The root's width in sample units, the 100% of the graph; 0 when nothing is drawn.</summary>
        public long RootWidth { get; }

        /// <summary>Pixels per sample unit.</summary>
        public double Scale { get; }

        public int Count => _nodes.Count;

        /// <summary>The deepest drawn frame's depth.</summary>
        public int MaxDepth { get; }

        /// <summary>Drawn frames in pre-order: the tree node of each.</summary>
        public List<int> Nodes => _nodes;

        /// <summary>A drawn frame's start from the root's left edge, in sample units.</summary>
        public List<long> Offsets => _offsets;

        /// <summary>A drawn frame's width in sample units.</summary>
        public List<long> Widths => _widths;

        /// <summary>A drawn frame's parent as a drawn-frame index, -1 for the root.</summary>
        public List<int> Parents => _parents;

        private void Add(int node, long offset, long width, int parent)
        {
            _nodes.Add(node);
            _offsets.Add(offset);
            _widths.Add(width);
            _parents.Add(parent);
        }
    }

    /// <summary>Writes the document, streaming frame by frame.</summary>
    private sealed class Renderer(FlameTree tree, XmlOut output, SvgFlameGraphOptions options, Layout layout)
    {
        private readonly double _fontSize = Math.Round(options.FrameHeight * 0.75, 1);
        private readonly string _unit = tree.SampleType.Unit ?? "";

        private double CharWidth => _fontSize * CharWidthPerEm;

        private double BaselineOffset => Math.Round(((options.FrameHeight - 1) / 2.0) + (_fontSize * 0.35), 2);

        private double FramesBottom => HeaderHeight + ((layout.Count == 0 ? 0 : layout.MaxDepth + 1) * options.FrameHeight);

        public void Render(string title)
        {
            double width = options.Width;
            double height = FramesBottom + 62;
            output.Raw("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"");
            output.Number(width);
            output.Raw("\" height=\"");
            output.Number(height);
            output.Raw("\" viewBox=\"0 0 ");
            output.Number(width);
            output.Raw(" ");
            output.Number(height);
            output.Raw("\">\n");
            output.Raw("<!-- Flamewright flame graph. Icicle layout: the root is the top row, callees below; a frame's "
                + "width is proportional to its total. -->\n");
            WriteStyle();
            output.Raw("<rect width=\"100%\" height=\"100%\" fill=\"#fbfaf7\"/>\n");
            WriteHeader(title);
            WriteFrames();
            WriteFooter();
            WriteScript();
            output.Raw("</svg>\n");
        }

        private void WriteStyle()
        {
            output.Raw("<style><![CDATA[\n");
            output.Raw("text{font-family:Verdana,'DejaVu Sans',sans-serif;fill:#222}\n");
            output.Raw(".fr text,#details{font-family:'DejaVu Sans Mono',Consolas,Menlo,monospace;white-space:pre}\n");
            output.Raw(".fr text{font-size:");
            output.Number(_fontSize);
            output.Raw("px;pointer-events:none}\n");
            output.Raw("#details{font-size:");
            output.Number(DetailsFontSize);
            output.Raw("px}\n");
            output.Raw(".fr g{cursor:pointer}\n.fr g:hover rect{stroke:#333;stroke-width:.6}\n");
            output.Raw(".fr .h{display:none}\n.fr .a rect{fill-opacity:.35}\n.fr .m rect{fill:#e600e6}\n");
            output.Raw(".c{cursor:pointer;fill:#1a55a8;font-size:13px}\n.c:hover{text-decoration:underline}\n");
            output.Raw(".off{display:none}\n");
            output.Raw("]]></style>\n");
        }

        private void WriteHeader(string title)
        {
            double middle = options.Width / 2.0;
            output.Raw("<text x=\"");
            output.Number(middle);
            output.Raw("\" y=\"22\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">");
            output.Text(FrameNameText.Printable(title, MaxNameLength));
            output.Raw("</text>\n<text x=\"");
            output.Number(middle);
            output.Raw("\" y=\"42\" text-anchor=\"middle\" font-size=\"12\">");
            output.Text(FrameNameText.Printable(string.Create(
                CultureInfo.InvariantCulture,
                $"{tree.SampleType.Type} ({_unit}) \u00b7 Total: {ValueFormat.Readable(tree.Count == 0 ? 0 : tree.Total, _unit)}"), MaxNameLength));
            output.Raw("</text>\n<text id=\"reset\" class=\"c off\" x=\"");
            output.Number(Margin);
            output.Raw("\" y=\"42\">Reset zoom</text>\n<text id=\"clear\" class=\"c off\" x=\"");
            output.Number(options.Width - Margin - 60);
            output.Raw("\" y=\"42\" text-anchor=\"end\">Clear</text>\n<text id=\"search\" class=\"c\" x=\"");
            output.Number(options.Width - Margin);
            output.Raw("\" y=\"42\" text-anchor=\"end\">Search</text>\n");
        }

        private void WriteFrames()
        {
            output.Raw("<g id=\"frames\" class=\"fr\">\n");
            for (int frame = 0; frame < layout.Count; frame++)
            {
                int node = layout.Nodes[frame];
                string name = FrameNameText.Printable(tree.NameOf(node), MaxNameLength);
                double x = Margin + (layout.Offsets[frame] * layout.Scale);
                double width = layout.Widths[frame] * layout.Scale;
                double y = HeaderHeight + (tree.DepthOf(node) * options.FrameHeight);

                // The title's first line is exactly the name: the script reads names from there for search.
                output.Raw("<g data-i=\"");
                output.Integer(node);
                output.Raw("\"><title>");
                output.Text(name);
                output.Raw("\nTotal: ");
                output.Text(ValueFormat.Readable(tree.TotalOf(node), _unit));
                output.Raw(", ");
                output.Text(Percent(tree.TotalOf(node)));
                output.Raw(" of root\nSelf: ");
                output.Text(ValueFormat.Readable(tree.SelfOf(node), _unit));
                output.Raw(", ");
                output.Text(Percent(tree.SelfOf(node)));
                output.Raw(" of root</title><rect x=\"");
                output.Number(x);
                output.Raw("\" y=\"");
                output.Number(y);
                output.Raw("\" width=\"");
                output.Number(width);
                output.Raw("\" height=\"");
                output.Number(options.FrameHeight - 1);
                output.Raw("\" fill=\"");
                output.Raw(node == 0 ? RootFill : FrameColours.Of(tree.NameOf(node)));
                output.Raw("\"/>");

                // Frames too narrow for a label get no <text>; the script adds one if a zoom makes room.
                string label = FitLabel(name, width, CharWidth);
                if (label.Length > 0)
                {
                    output.Raw("<text x=\"");
                    output.Number(x + LabelPadding);
                    output.Raw("\" y=\"");
                    output.Number(y + BaselineOffset);
                    output.Raw("\">");
                    output.Text(label);
                    output.Raw("</text>");
                }

                output.Raw("</g>\n");
            }

            output.Raw("</g>\n");
        }

        private string Percent(long value) =>
            layout.RootWidth == 0
                ? "-"
                : (100.0 * value / layout.RootWidth).ToString("0.00", CultureInfo.InvariantCulture) + "%";

        private void WriteFooter()
        {
            double y = FramesBottom + 18;
            output.Raw("<text id=\"details\" x=\"");
            output.Number(Margin);
            output.Raw("\" y=\"");
            output.Number(y);
            output.Raw("\">");
            output.Text(layout.Count == 0 ? "No frame has a positive total: nothing to draw." : Hint);
            output.Raw("</text>\n<text id=\"matched\" x=\"");
            output.Number(options.Width - Margin);
            output.Raw("\" y=\"");
            output.Number(y);
            output.Raw("\" text-anchor=\"end\" font-size=\"12\"></text>\n<text x=\"");
            output.Number(Margin);
            output.Raw("\" y=\"");
            output.Number(y + 20);
            output.Raw("\" font-size=\"11\" fill=\"#666\">");
            output.Text(string.Create(
                CultureInfo.InvariantCulture,
                $"Frames narrower than {options.MinWidthPixels:0.###} px at full width, or without a positive total, are not drawn: {layout.Count:N0} of {tree.Count:N0} nodes drawn."));
            output.Raw("</text>\n<text x=\"");
            output.Number(Margin);
            output.Raw("\" y=\"");
            output.Number(y + 34);
            output.Raw("\" font-size=\"11\" fill=\"#666\">");
            output.Text("Zoom and search see drawn frames only. Matched % is of the root total; a match nested in a match counts once.");
            output.Raw("</text>\n");
        }

        private void WriteScript()
        {
            output.Raw("<script type=\"text/javascript\"><![CDATA[\n");
            output.Raw(Script);
            output.Raw("({width:");
            output.Number(layout.DrawWidth);
            output.Raw(",margin:");
            output.Number(Margin);
            output.Raw(",pad:");
            output.Number(LabelPadding);
            output.Raw(",cw:");
            output.Number(CharWidth);
            output.Raw(",dcw:");
            output.Number(DetailsFontSize * CharWidthPerEm);
            output.Raw(",ty:");
            output.Number(BaselineOffset);
            output.Raw(",hint:\"");
            output.Raw(Hint); // a constant without quotes, backslashes or markup
            output.Raw("\",\nx:[");
            WriteList(layout.Offsets);
            output.Raw("],\nv:[");
            WriteList(layout.Widths);
            output.Raw("],\np:[");
            for (int i = 0; i < layout.Count; i++)
            {
                if (i > 0)
                {
                    output.Raw(",");
                }

                output.Integer(layout.Parents[i]);
            }

            output.Raw("]});\n]]></script>\n");
        }

        private void WriteList(List<long> values)
        {
            for (int i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    output.Raw(",");
                }

                output.Integer(values[i]);
            }
        }
    }

    /// <summary>
    /// Streams markup to the writer. Text is escaped for both element content and attribute values, and every
    /// non-ASCII character is written as a character reference, so the bytes are right whatever the writer's
    /// encoding.
    /// </summary>
    private sealed class XmlOut(TextWriter writer)
    {
        public void Raw(string markup) => writer.Write(markup);

        public void Integer(long value)
        {
            Span<char> buffer = stackalloc char[24];
            value.TryFormat(buffer, out int written, default, CultureInfo.InvariantCulture);
            writer.Write(buffer[..written]);
        }

        /// <summary>Coordinates with at most two decimals: enough for sub-pixel accuracy, and short.</summary>
        public void Number(double value)
        {
            Span<char> buffer = stackalloc char[32];
            if (!Math.Round(value, 2).TryFormat(buffer, out int written, "0.##", CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("A coordinate does not fit its buffer.");
            }

            writer.Write(buffer[..written]);
        }

        public void Text(string text)
        {
            ReadOnlySpan<char> span = text;
            Span<char> reference = stackalloc char[12];
            int runStart = 0;
            for (int i = 0; i < span.Length; i++)
            {
                char c = span[i];
                if (c >= ' ' && c <= '~' && c is not ('<' or '>' or '&' or '"' or '\''))
                {
                    continue;
                }

                writer.Write(span[runStart..i]);
                runStart = i + 1;
                switch (c)
                {
                    case '<':
                        writer.Write("&lt;");
                        break;
                    case '>':
                        writer.Write("&gt;");
                        break;
                    case '&':
                        writer.Write("&amp;");
                        break;
                    case '"':
                        writer.Write("&quot;");
                        break;
                    case '\'':
                        writer.Write("&#39;");
                        break;
                    case '\n':
                        writer.Write('\n'); // only our own tooltip line breaks; names were sanitized
                        break;
                    default:
                        int codePoint = c;
                        if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
                        {
                            codePoint = char.ConvertToUtf32(c, span[i + 1]);
                            i++;
                            runStart = i + 1;
                        }
                        else if (FrameNameText.NeedsReplacement(c))
                        {
                            codePoint = 0xFFFD; // unreachable for sanitized text; XML must stay well-formed regardless
                        }

                        reference[0] = '&';
                        reference[1] = '#';
                        reference[2] = 'x';
                        codePoint.TryFormat(reference[3..], out int digits, "X", CultureInfo.InvariantCulture);
                        reference[3 + digits] = ';';
                        writer.Write(reference[..(4 + digits)]);
                        break;
                }
            }

            writer.Write(span[runStart..]);
        }
    }

    /// <summary>
    /// The viewer (SvgFlameGraph.js, embedded in this assembly). It is called with the geometry in sample units: x
    /// (offset from the root's left edge), v (width) and p (parent), one entry per drawn frame in document order.
    /// Names come from each frame's tooltip, so no profile text is ever embedded in script.
    /// </summary>
    internal static string Script { get; } = ReadScript();

    private static string ReadScript()
    {
        using Stream stream = typeof(SvgFlameGraph).Assembly.GetManifestResourceStream("Flamewright.Pprof.SvgFlameGraph.js")
            ?? throw new InvalidOperationException("SvgFlameGraph.js is not embedded in the engine's assembly");
        using var reader = new StreamReader(stream);
        string script = reader.ReadToEnd();
        // The comment lines that head the file are for its readers, not for every SVG.
        return script[script.IndexOf("(function", StringComparison.Ordinal)..].TrimEnd('\n');
    }
}

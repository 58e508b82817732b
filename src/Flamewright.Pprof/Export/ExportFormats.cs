using System.Text;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Export;

/// <summary>What an export is written from: the merged profile itself, its top table, or its flame tree.</summary>
public enum ExportSource
{
    /// <summary>The merged profile, whole (every sample type): filters do not apply.</summary>
    Profile,

    /// <summary>The top table of the selection.</summary>
    Top,

    /// <summary>The flame tree of the selection.</summary>
    Tree,
}

/// <summary>
/// One output format: its name as users spell it (<c>--format</c>, <c>?format=</c>), the media type and file
/// extension of what it writes, and what it is written from. Every writer of the engine is reached through this one
/// table, by the REST downloads and by <c>flamewright analyze</c> alike: a format is added here, once.
/// </summary>
public sealed class ExportFormat
{
    private readonly Action<Profile, Stream>? _profile;
    private readonly Action<TopTable, TextWriter, int>? _top;
    private readonly Action<FlameTree, Stream, string>? _tree;

    private ExportFormat(string name, string contentType, string extension, ExportSource source,
        Action<Profile, Stream>? profile = null, Action<TopTable, TextWriter, int>? top = null, Action<FlameTree, Stream, string>? tree = null)
    {
        Name = name;
        ContentType = contentType;
        Extension = extension;
        Source = source;
        _profile = profile;
        _top = top;
        _tree = tree;
    }

    public string Name { get; }

    public string ContentType { get; }

    /// <summary>The file name's ending, without the dot (<c>pb.gz</c>, <c>folded.txt</c>).</summary>
    public string Extension { get; }

    public ExportSource Source { get; }

    /// <summary>Every format, in the order help texts list them.</summary>
    public static IReadOnlyList<ExportFormat> All { get; } =
    [
        new("top", "text/plain; charset=utf-8", "txt", ExportSource.Top, top: TopText.Write),
        new("folded", "text/plain; charset=utf-8", "folded.txt", ExportSource.Tree, tree: (t, o, _) => AsText(o, w => FoldedStacks.Write(t, w))),
        new("json", "application/json", "json", ExportSource.Tree, tree: (t, o, _) => JsonTree.Write(t, o)),
        new("skywalking", "application/json", "skywalking.json", ExportSource.Tree, tree: (t, o, _) => SkyWalkingTree.Write(t, o)),
        new("speedscope", "application/json", "speedscope.json", ExportSource.Tree, tree: Speedscope.Write),
        new("svg", "image/svg+xml", "svg", ExportSource.Tree, tree: (t, o, title) => AsText(o, w => SvgFlameGraph.Write(t, w, title))),
        new("pprof", "application/octet-stream", "pb.gz", ExportSource.Profile, profile: (p, o) => ProfileWriter.Write(p, o)),
    ];

    /// <summary>Every format's name, in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(f => f.Name)];

    /// <summary>The format named <paramref name="name"/> (any case), or <c>null</c>.</summary>
    public static ExportFormat? Find(string name) => All.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Writes the merged profile (a <see cref="ExportSource.Profile"/> format).</summary>
    public void Write(Profile merged, Stream output) => (_profile ?? throw WrongSource(ExportSource.Profile))(merged, output);

    /// <summary>Writes the top table, its first <paramref name="rows"/> rows (0: all) (a <see cref="ExportSource.Top"/> format).</summary>
    public void Write(TopTable top, Stream output, int rows = 0) =>
        AsText(output, writer => (_top ?? throw WrongSource(ExportSource.Top))(top, writer, rows));

    /// <summary>Writes the flame tree, under <paramref name="title"/> where the format shows one (a <see cref="ExportSource.Tree"/> format).</summary>
    public void Write(FlameTree tree, Stream output, string title) => (_tree ?? throw WrongSource(ExportSource.Tree))(tree, output, title);

    public override string ToString() => Name;

    private InvalidOperationException WrongSource(ExportSource asked) =>
        new($"format {Name} is written from the {Source.ToString().ToLowerInvariant()}, not from the {asked.ToString().ToLowerInvariant()}");

    /// <summary>UTF-8 text without a byte-order mark, buffered, onto <paramref name="output"/> (left open).</summary>
    private static void AsText(Stream output, Action<TextWriter> write)
    {
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        write(writer);
    }
}

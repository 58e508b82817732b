using System.Globalization;
using System.Text.RegularExpressions;

namespace Flamewright.Cli.Tests.Support;

/// <summary>The repository's testdata: real Go profiles and what <c>go tool pprof -top</c> printed for them.</summary>
internal static partial class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Profile(string name) => Path.Combine(Root, "testdata", "profiles", name + ".pb.gz");

    /// <summary>The total and the function names, in order, of <c>&lt;name&gt;.&lt;index&gt;.top.txt</c>.</summary>
    public static (long Total, string[] Names) OracleTop(string name, int sampleIndex) => OracleTopFile($"{name}.{sampleIndex}.top.txt");

    /// <summary>A <c>-top</c> oracle by its path under testdata/profiles (<c>filtered/cpu.1.tagfocus-key-and-value.top.txt</c>).</summary>
    public static (long Total, string[] Names) OracleTopFile(string path)
    {
        string[] lines = File.ReadAllLines(Path.Combine(Root, "testdata", "profiles", path));
        long total = lines.Select(l => ShowingLine().Match(l)).Where(m => m.Success)
            .Select(m => long.Parse(m.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))
            .Single();
        string[] names = lines
            .SkipWhile(l => !l.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
            .Skip(1)
            .Select(l => TopRowName(l).Replace(" (partial-inline)", "", StringComparison.Ordinal).Replace(" (inline)", "", StringComparison.Ordinal))
            .ToArray();
        return (total, names);
    }

    /// <summary>The name column of a <c>-top</c> row: everything after the five value columns.</summary>
    public static string TopRowName(string row)
    {
        Match match = TopRow().Match(row);
        Assert.True(match.Success, "not a top row: " + row);
        return match.Groups[1].Value;
    }

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Flamewright.slnx")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("Flamewright.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^Showing nodes accounting for \S+, \S+ of (-?\d+)(?:ns|B)? total$")]
    private static partial Regex ShowingLine();

    [GeneratedRegex(@"^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+  (.+)$")]
    private static partial Regex TopRow();
}

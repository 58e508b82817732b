using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Flamewright.Testing;

/// <summary>
/// The repository's <c>testdata/</c>: the real Go profiles checked in under <c>testdata/profiles</c>, and what
/// <c>go tool pprof</c> printed for them (the oracles the engine is held to).
/// </summary>
public static partial class TestData
{
    /// <summary>The folder holding <c>Flamewright.slnx</c>, found above the running test's binaries.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Profiles => Path.Combine(RepositoryRoot, "testdata", "profiles");

    public static string Profile(string name) => Path.Combine(Profiles, name + ".pb.gz");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Profile(name));

    /// <summary>The plain protobuf bytes of a committed profile.</summary>
    public static byte[] Plain(string name) => Wire.Gunzip(Bytes(name));

    /// <summary>
    /// A profile grown past <paramref name="atLeast"/> gzip bytes by an unknown field of random bytes: the same
    /// samples, but an upload of several 1 MiB chunks.
    /// </summary>
    public static byte[] Padded(string name, int atLeast)
    {
        byte[] padded = ProfilePadding.Pad(Plain(name), atLeast);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(padded);
        }

        return compressed.ToArray();
    }

    /// <summary>Every committed profile with the number of sample types it has (from its oracle files).</summary>
    public static IEnumerable<(string Name, int SampleTypes)> AllProfiles() =>
        Directory.GetFiles(Profiles, "*.pb.gz")
            .Select(path => Path.GetFileName(path)[..^".pb.gz".Length])
            .Order(StringComparer.Ordinal)
            .Select(name => (name, Directory.GetFiles(Profiles, name + ".*.top.txt").Length));

    /// <summary><c>go tool pprof -top</c> with <c>-focus</c>/<c>-ignore</c>: <c>&lt;profile&gt;.&lt;sample index&gt;.&lt;case&gt;.top.txt</c>.</summary>
    public static string FilteredOracles => Path.Combine(Profiles, "filtered");

    /// <summary>The file name of every oracle in <see cref="FilteredOracles"/>.</summary>
    public static IEnumerable<string> AllFilteredOracles() =>
        Directory.GetFiles(FilteredOracles, "*.top.txt").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>The total and the function names, in order, of <c>&lt;name&gt;.&lt;index&gt;.top.txt</c>.</summary>
    public static (long Total, string[] Names) OracleTop(string name, int sampleIndex) => OracleTopFile($"{name}.{sampleIndex}.top.txt");

    /// <summary>A <c>-top</c> oracle by its path under testdata/profiles (<c>filtered/cpu.1.tagfocus-key-and-value.top.txt</c>).</summary>
    public static (long Total, string[] Names) OracleTopFile(string path)
    {
        string[] lines = File.ReadAllLines(Path.Combine(Profiles, path));
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
        return match.Success ? match.Groups[1].Value : throw new FormatException("not a top row: " + row);
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

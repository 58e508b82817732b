namespace Flamewright.Pprof.Tests.Support;

/// <summary>Finds the repository's <c>testdata/</c>: real Go profiles and <c>go tool pprof</c>'s output for them.</summary>
internal static class TestData
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Profiles => Path.Combine(RepositoryRoot, "testdata", "profiles");

    public static string Profile(string name) => Path.Combine(Profiles, name + ".pb.gz");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Profile(name));

    /// <summary>The plain protobuf bytes of a committed profile.</summary>
    public static byte[] Plain(string name) => Decoding.Wire.Gunzip(Bytes(name));

    /// <summary>Every committed profile with the number of sample types it has (from its oracle files).</summary>
    public static IEnumerable<(string Name, int SampleTypes)> AllProfiles() =>
        Directory.GetFiles(Profiles, "*.pb.gz")
            .Select(path => Path.GetFileName(path)[..^".pb.gz".Length])
            .Order(StringComparer.Ordinal)
            .Select(name => (name, Directory.GetFiles(Profiles, name + ".*.top.txt").Length));

    public static TheoryData<string, int> EverySampleTypeOfEveryProfile()
    {
        var data = new TheoryData<string, int>();
        foreach ((string name, int count) in AllProfiles())
        {
            for (int i = 0; i < count; i++)
            {
                data.Add(name, i);
            }
        }

        return data;
    }

    /// <summary><c>go tool pprof -top</c> with <c>-focus</c>/<c>-ignore</c>: <c>&lt;profile&gt;.&lt;sample index&gt;.&lt;case&gt;.top.txt</c>.</summary>
    public static string FilteredOracles => Path.Combine(Profiles, "filtered");

    /// <summary>The file name of every oracle in <see cref="FilteredOracles"/>.</summary>
    public static IEnumerable<string> AllFilteredOracles() =>
        Directory.GetFiles(FilteredOracles, "*.top.txt").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>The oracles of <see cref="FilteredOracles"/> whose case filters by label (<c>-tagfocus</c>, <c>-tagroot</c>…) or, with <paramref name="byLabel"/> false, by frame only.</summary>
    public static TheoryData<string> EveryFilteredOracle(bool byLabel = false)
    {
        var data = new TheoryData<string>();
        foreach (string name in AllFilteredOracles().Where(n => n.Split('.')[2].StartsWith("tag", StringComparison.Ordinal) == byLabel))
        {
            data.Add(name);
        }

        return data;
    }

    public static TheoryData<string> EveryProfile()
    {
        var data = new TheoryData<string>();
        foreach ((string name, _) in AllProfiles())
        {
            data.Add(name);
        }

        return data;
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
}

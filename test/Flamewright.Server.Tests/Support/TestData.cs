namespace Flamewright.Server.Tests.Support;

/// <summary>The real Go profiles checked in under <c>testdata/profiles</c>.</summary>
internal static class TestData
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Profile(string name) => Path.Combine(RepositoryRoot, "testdata", "profiles", name + ".pb.gz");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Profile(name));

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Flamewright.slnx")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}

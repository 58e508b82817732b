using System.IO.Compression;

namespace Flamewright.Server.Tests.Support;

/// <summary>The real Go profiles checked in under <c>testdata/profiles</c>.</summary>
internal static class TestData
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Profile(string name) => Path.Combine(RepositoryRoot, "testdata", "profiles", name + ".pb.gz");

    public static byte[] Bytes(string name) => File.ReadAllBytes(Profile(name));

    /// <summary>
    /// A profile grown past <paramref name="atLeast"/> gzip bytes by an unknown field of random bytes: the same
    /// samples, but an upload of several 1 MiB chunks.
    /// </summary>
    public static byte[] Padded(string name, int atLeast)
    {
        using var plain = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(Bytes(name)), CompressionMode.Decompress))
        {
            gzip.CopyTo(plain);
        }

        byte[] padded = ProfilePadding.Pad(plain.GetBuffer().AsSpan(0, (int)plain.Length), atLeast);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(padded);
        }

        return compressed.ToArray();
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

        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}

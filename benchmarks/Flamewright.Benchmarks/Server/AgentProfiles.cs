using System.IO.Compression;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

namespace Flamewright.Benchmarks.Server;

/// <summary>Generated profiles in the shape a Go agent uploads them.</summary>
internal static class AgentProfiles
{
    /// <summary>
    /// The bytes runtime/pprof would write for <paramref name="profile"/>: only the functions and locations its
    /// samples use (the generator declares the whole program's), gzipped at runtime/pprof's level (BestSpeed).
    /// </summary>
    public static (byte[] Gzip, long RawBytes, Profile Written) AsUploaded(Profile profile)
    {
        // Merging one profile keeps exactly what its samples reference.
        Profile written = ProfileMerger.Merge([profile]);
        byte[] raw = ProfileWriter.Encode(written);
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return (output.ToArray(), raw.Length, written);
    }
}

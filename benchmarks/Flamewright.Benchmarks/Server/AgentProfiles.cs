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
        return (Gzip(raw), raw.Length, written);
    }

    /// <summary>
    /// <see cref="AsUploaded(Profile)"/> grown to about <paramref name="gzipBytes"/> by a field profile.proto does not
    /// use, holding random bytes: the same samples in a bigger upload, which the server inflates in full and whose
    /// padding its decoder skips, as protobuf requires. Unchanged when it is that big already.
    /// </summary>
    public static byte[] Padded(Profile profile, int gzipBytes)
    {
        byte[] raw = ProfileWriter.Encode(ProfileMerger.Merge([profile]));
        byte[] plain = Gzip(raw);
        if (plain.Length >= gzipBytes)
        {
            return plain;
        }

        // Random bytes do not compress, and BestSpeed even grows them a little: aim, measure, and aim again.
        int paddingBytes = gzipBytes - plain.Length;
        byte[] gzip = plain;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            gzip = Gzip(ProfilePadding.Pad(raw, paddingBytes));
            double growth = (gzip.Length - plain.Length) / (double)paddingBytes;
            paddingBytes = (int)((gzipBytes - plain.Length) / growth) - 4096;
        }

        return gzip;
    }

    /// <summary>Gzipped at runtime/pprof's level (BestSpeed).</summary>
    private static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }
}

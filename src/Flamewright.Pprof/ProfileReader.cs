using Flamewright.Pprof.Decoding;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof;

/// <summary>Reads <c>profile.proto</c> profiles, gzip-compressed or plain (the gzip magic decides).</summary>
public static class ProfileReader
{
    /// <summary>Decodes and validates a profile held in memory.</summary>
    /// <exception cref="PprofFormatException">The bytes are not a valid profile, or exceed a limit.</exception>
    public static Profile Read(ReadOnlyMemory<byte> bytes, PprofLimits? limits = null) =>
        ProfileDecoder.Decode(bytes, limits ?? PprofLimits.Default);

    /// <summary>Reads a stream to its end (never more than the decompressed-size limit) and decodes it.</summary>
    /// <remarks>A seekable gzip stream, such as a file, is inflated as it is read: its compressed bytes are never held.</remarks>
    public static Profile Read(Stream stream, PprofLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= PprofLimits.Default;
        limits.Validate();
        if (stream.CanSeek)
        {
            long start = stream.Position;
            Span<byte> magic = stackalloc byte[2];
            int read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            stream.Position = start;
            if (Gunzip.IsGzip(magic[..read]))
            {
                return ProfileDecoder.DecodeInflated(Gunzip.Inflate(stream, limits.MaxDecompressedBytes), limits);
            }
        }

        int initial = stream.CanSeek ? (int)Math.Min(stream.Length - stream.Position, limits.MaxDecompressedBytes) : 1 << 16;
        ArraySegment<byte> bytes = Gunzip.ReadCapped(stream, limits.MaxDecompressedBytes, initial + 1);
        return ProfileDecoder.Decode(bytes, limits);
    }

    /// <summary>Reads and decodes a profile file.</summary>
    public static Profile ReadFile(string path, PprofLimits? limits = null)
    {
        // A large buffer: the decompressor asks for a few KiB at a time, and each read is a system call.
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
        return Read(file, limits);
    }

    /// <summary>True when the bytes start with the gzip magic number.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> bytes) => Gunzip.IsGzip(bytes);
}

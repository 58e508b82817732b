using System.Buffers.Binary;
using System.IO.Compression;

namespace Flamewright.Pprof.Decoding;

/// <summary>Decompression with a hard cap: a gzip bomb is refused after inflating at most the cap.</summary>
internal static class Gunzip
{
    /// <summary>The largest expansion deflate can achieve (about 1032:1); no honest gzip inflates more.</summary>
    private const int MaxDeflateRatio = 1032;

    /// <summary>CRC-32 (the gzip polynomial, reflected) of every byte value.</summary>
    private static readonly uint[] CrcTable = CreateCrcTable();

    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    /// <summary>Inflates <paramref name="compressed"/> into one buffer of at most <paramref name="maxBytes"/>.</summary>
    public static ArraySegment<byte> Inflate(ReadOnlyMemory<byte> compressed, long maxBytes)
    {
        using Stream input = AsStream(compressed);
        return Inflate(input, maxBytes);
    }

    /// <summary>
    /// Inflates a seekable stream from its position to its end, without holding the compressed bytes: the
    /// trailer is read first (it sizes the buffer and proves the data complete), then the stream is inflated.
    /// </summary>
    public static ArraySegment<byte> Inflate(Stream compressed, long maxBytes)
    {
        long start = compressed.Position;
        long length = compressed.Length - start;
        Span<byte> trailer = stackalloc byte[8];
        bool hasTrailer = length >= 18; // a 10-byte header, the smallest deflate block, the 8-byte trailer
        if (hasTrailer)
        {
            compressed.Seek(-8, SeekOrigin.End);
            compressed.ReadExactly(trailer);
            compressed.Position = start;
        }

        int hint = SizeHint(hasTrailer ? BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]) : 0, length, maxBytes);
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        ArraySegment<byte> inflated = ReadCapped(gzip, maxBytes, hint);
        EnsureComplete(hasTrailer, trailer, inflated);
        return inflated;
    }

    /// <summary>
    /// GZipStream ends quietly when its input stops early, so a truncated file would read as complete (zlib
    /// checks a trailer only when it reaches one). The input's last 8 bytes must be the trailer of the last
    /// member, whose bytes end the output: its size (mod 2^32) must match and, with several members, its CRC-32.
    /// </summary>
    private static void EnsureComplete(bool hasTrailer, ReadOnlySpan<byte> trailer, ReadOnlySpan<byte> inflated)
    {
        bool complete = false;
        if (hasTrailer)
        {
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
            // Not size 0 after data: 8 zero bytes (CRC 0, size 0) would pass, e.g. stored data cut after zeros.
            complete = size == (uint)inflated.Length
                || (size != 0 && size < (uint)inflated.Length && Crc32(inflated[^(int)size..]) == crc);
        }

        if (!complete)
        {
            PprofFormatException.Throw("truncated gzip data (or bytes after it): the input does not end with the gzip trailer");
        }
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = CrcTable[(byte)(crc ^ b)] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] CreateCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    /// <summary>Reads a stream to its end into one buffer, failing once more than <paramref name="maxBytes"/> arrive.</summary>
    public static ArraySegment<byte> ReadCapped(Stream stream, long maxBytes, int initialCapacity)
    {
        // Uninitialized: every byte read is written by the stream first, and zeroing hundreds of MiB is not free.
        byte[] buffer = GC.AllocateUninitializedArray<byte>(Math.Max(initialCapacity, 4096));
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > maxBytes)
                {
                    break;
                }

                long grown = Math.Min(Math.Max((long)buffer.Length * 2, 4096), Math.Min(maxBytes + 1, Array.MaxLength));
                Array.Resize(ref buffer, (int)grown);
            }

            int read;
            try
            {
                read = stream.Read(buffer, length, buffer.Length - length);
            }
            catch (InvalidDataException)
            {
                // .NET's own message names a cause ("unsupported compression method") even for a bad checksum,
                // and GZipStream reads ahead, so no exact offset is known: say what is certain.
                return PprofFormatException.Throw<ArraySegment<byte>>(
                    $"corrupt gzip data after {length} decompressed bytes: invalid deflate data or checksum");
            }

            if (read == 0)
            {
                break;
            }

            length += read;
            if (length > maxBytes)
            {
                break;
            }
        }

        if (length > maxBytes)
        {
            PprofFormatException.Throw(
                $"decompressed profile exceeds the limit of {maxBytes} bytes (MaxDecompressedBytes); refusing to inflate further");
        }

        return new ArraySegment<byte>(buffer, 0, length);
    }

    /// <summary>
    /// The gzip trailer's ISIZE (uncompressed size mod 2^32) as a first buffer size, trusted only as far as
    /// deflate's maximum ratio and the cap allow, so a lying trailer costs at most one bounded allocation.
    /// </summary>
    private static int SizeHint(long isize, long compressedLength, long maxBytes)
    {
        long fallback = Math.Min(compressedLength * 4, maxBytes);
        long bound = Math.Min(compressedLength * MaxDeflateRatio, maxBytes);
        // +1 so that a stream of exactly ISIZE bytes is read to its end without growing the buffer.
        return (int)Math.Min(isize > 0 && isize <= bound ? isize + 1 : Math.Max(fallback, 0), Array.MaxLength);
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
}

namespace Flamewright.Testing;

/// <summary>
/// Grows a profile without changing what it says: a field profile.proto does not use, holding random bytes, which
/// decoders skip as protobuf requires. Uploads of several 1 MiB chunks, up to the 30 MiB limit, from a small real
/// profile. BCL only: the benchmarks link this file too.
/// </summary>
internal static class ProfilePadding
{
    /// <summary>A field number profile.proto does not use.</summary>
    public const int UnknownField = 1000;

    /// <summary><paramref name="raw"/> (profile.proto bytes, not gzipped) followed by <paramref name="paddingBytes"/> random bytes in <see cref="UnknownField"/>.</summary>
    public static byte[] Pad(ReadOnlySpan<byte> raw, int paddingBytes)
    {
        byte[] padding = new byte[paddingBytes];
        new Random(7).NextBytes(padding);
        using var padded = new MemoryStream(raw.Length + padding.Length + 16);
        padded.Write(raw);
        WriteVarint(padded, (UnknownField << 3) | 2);
        WriteVarint(padded, padding.Length);
        padded.Write(padding);
        return padded.ToArray();
    }

    private static void WriteVarint(Stream stream, int value)
    {
        uint v = (uint)value;
        while (v >= 0x80)
        {
            stream.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }

        stream.WriteByte((byte)v);
    }
}

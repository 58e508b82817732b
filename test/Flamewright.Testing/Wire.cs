using System.IO.Compression;
using System.Text;

namespace Flamewright.Testing;

/// <summary>
/// Hand assembly of protobuf bytes, for inputs no well-behaved encoder would write, and gzip helpers. Depends on
/// nothing of this project: the server and CLI tests compile it too, for <see cref="HostileProfiles"/>.
/// </summary>
internal static class Wire
{
    public const int VarintType = 0;
    public const int Fixed64Type = 1;
    public const int LenType = 2;
    public const int Fixed32Type = 5;

    public static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>(10);
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    public static byte[] Tag(int field, int wireType) => Varint(((ulong)field << 3) | (uint)wireType);

    public static byte[] VarintField(int field, long value) => [.. Tag(field, VarintType), .. Varint((ulong)value)];

    public static byte[] LenField(int field, params byte[][] payload)
    {
        byte[] body = Concat(payload);
        return [.. Tag(field, LenType), .. Varint((ulong)body.Length), .. body];
    }

    /// <summary>A packed repeated varint field.</summary>
    public static byte[] Packed(int field, params long[] values) =>
        LenField(field, values.Select(v => Varint((ulong)v)).ToArray());

    /// <summary>One string_table entry (profile field 6).</summary>
    public static byte[] String(string value) => LenField(6, Encoding.UTF8.GetBytes(value));

    public static byte[] Strings(params string[] values) => Concat(values.Select(String).ToArray());

    public static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        int at = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(result, at);
            at += part.Length;
        }

        return result;
    }

    public static byte[] Gzip(ReadOnlySpan<byte> data, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static byte[] Gunzip(byte[] data)
    {
        using var input = new MemoryStream(data);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }
}

using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Flamewright.Pprof.Digest;

/// <summary>
/// The header every digest starts with (docs/digest.md): a magic number naming the kind, the format version, the
/// body's length and its CRC-32C. A body is only read once all four check out.
/// </summary>
internal static class DigestFrame
{
    /// <summary>Magic (4), version (2), reserved (2), body length (8), CRC-32C of the body (4).</summary>
    public const int HeaderBytes = 20;

    public static byte[] Wrap(uint magic, ushort version, ReadOnlySpan<byte> body) => Wrap(magic, version, body, default);

    /// <summary>A digest whose body is <paramref name="head"/> followed by <paramref name="tail"/>, joined only in the digest itself.</summary>
    public static byte[] Wrap(uint magic, ushort version, ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        long length = (long)head.Length + tail.Length;
        var digest = new byte[checked(HeaderBytes + (int)length)];
        BinaryPrimitives.WriteUInt32LittleEndian(digest, magic);
        BinaryPrimitives.WriteUInt16LittleEndian(digest.AsSpan(4), version);
        BinaryPrimitives.WriteInt64LittleEndian(digest.AsSpan(8), length);
        head.CopyTo(digest.AsSpan(HeaderBytes));
        tail.CopyTo(digest.AsSpan(HeaderBytes + head.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(16), Checksum(digest.AsSpan(HeaderBytes)));
        return digest;
    }

    /// <summary>The body of a <paramref name="kind"/> written by <see cref="Wrap(uint, ushort, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> with this magic and version.</summary>
    /// <exception cref="DigestException">Another kind, another version, a wrong length or checksum.</exception>
    public static ReadOnlySpan<byte> Unwrap(ReadOnlySpan<byte> digest, uint magic, ushort version, string kind)
    {
        if (digest.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(digest) != magic)
        {
            throw new DigestException($"not a {kind}");
        }

        ushort written = BinaryPrimitives.ReadUInt16LittleEndian(digest[4..]);
        if (written != version)
        {
            throw new DigestException($"digest format version {written}, this build reads {version}") { IsOtherVersion = true };
        }

        long length = BinaryPrimitives.ReadInt64LittleEndian(digest[8..]);
        if (length != digest.Length - HeaderBytes)
        {
            throw new DigestException($"digest body of {digest.Length - HeaderBytes} bytes, its header says {length}");
        }

        ReadOnlySpan<byte> body = digest[HeaderBytes..];
        if (Checksum(body) != BinaryPrimitives.ReadUInt32LittleEndian(digest[16..]))
        {
            throw new DigestException("digest checksum does not match its bytes");
        }

        return body;
    }

    /// <summary>CRC-32C (the processor's instruction where it has one), over 8 bytes at a time.</summary>
    private static uint Checksum(ReadOnlySpan<byte> bytes)
    {
        uint crc = ~0u;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong word in words)
        {
            crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        }

        foreach (byte b in bytes[(words.Length * 8)..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}

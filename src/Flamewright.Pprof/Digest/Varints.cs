using System.Text;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Digest;

/// <summary>Varints as protobuf writes them (signed ones zigzag-encoded) into a growing buffer.</summary>
internal sealed class VarintWriter(int capacity)
{
    private GrowableArray<byte> _bytes = new(Math.Max(capacity, 256));

    public int Capacity => _bytes.Items.Length;

    public ReadOnlySpan<byte> Written => _bytes.AsSpan();

    public void Unsigned(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _bytes.Add((byte)value);
    }

    public void Signed(long value) => Unsigned((ulong)((value << 1) ^ (value >> 63)));

    public void Count(int value) => Unsigned((ulong)value);

    /// <summary>A string as its UTF-8 byte length and bytes.</summary>
    public void Text(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        Count(utf8.Length);
        _bytes.AddRange(utf8);
    }

    public void Raw(ReadOnlySpan<byte> bytes) => _bytes.AddRange(bytes);
}

/// <summary>
/// Reads what <see cref="VarintWriter"/> wrote, checking as it goes: a varint runs past 10 bytes, a count past the
/// bytes left, an index past its limit, and each is a <see cref="DigestException"/>.
/// </summary>
internal ref struct VarintReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _position;

    public readonly int Remaining => _bytes.Length - _position;

    /// <summary>How many bytes were read.</summary>
    public readonly int Position => _position;

    public ulong Unsigned()
    {
        ulong value = 0;
        int shift = 0;
        byte b;
        do
        {
            if (shift > 63)
            {
                throw new DigestException("digest varint longer than 10 bytes");
            }

            if (_position >= _bytes.Length)
            {
                throw new DigestException("digest ends in the middle of a value");
            }

            b = _bytes[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        }
        while (b >= 0x80);
        return value;
    }

    public long Signed()
    {
        ulong zigzag = Unsigned();
        return (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
    }

    /// <summary>A count of things that follow: each takes a byte at least, so none exceeds what is left.</summary>
    public int Count()
    {
        ulong value = Unsigned();
        return value > (ulong)(Remaining + 1)
            ? throw new DigestException($"digest count {value} exceeds its remaining {Remaining} bytes")
            : (int)value;
    }

    /// <summary>A number below <paramref name="limit"/>.</summary>
    public int Index(int limit)
    {
        ulong value = Unsigned();
        return value >= (ulong)limit ? throw new DigestException($"digest index {value} is not below {limit}") : (int)value;
    }

    /// <summary>A string written by <see cref="VarintWriter.Text"/>.</summary>
    public string Utf8()
    {
        int length = Count();
        if (length > Remaining)
        {
            throw new DigestException($"digest string of {length} bytes exceeds its remaining {Remaining} bytes");
        }

        string text = Encoding.UTF8.GetString(_bytes.Slice(_position, length));
        _position += length;
        return text;
    }

    /// <summary>Checks that nothing follows the last part, <paramref name="last"/>.</summary>
    public readonly void End(string last)
    {
        if (Remaining != 0)
        {
            throw new DigestException($"digest has {Remaining} bytes after {last}");
        }
    }
}

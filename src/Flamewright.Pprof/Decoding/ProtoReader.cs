using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

using Flamewright.Pprof.Primitives;

namespace Flamewright.Pprof.Decoding;

/// <summary>
/// A forward-only protobuf reader over one message. Every length is checked against what remains before it is
/// used, and every failure reports the absolute byte offset in the decompressed profile.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data, int baseOffset)
    {
        _data = data;
        _baseOffset = baseOffset;
        _position = 0;
    }

    public readonly bool End => _position >= _data.Length;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _data[_position..];

    /// <summary>Absolute offset of the next byte to read.</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Reads a field key; returns the field number and sets <paramref name="wireType"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadTag(out WireType wireType)
    {
        int start = _position;
        ulong key = ReadVarint();
        int field = (int)(key >> 3);
        wireType = (WireType)(key & 7);
        if (field <= 0 || key >> 3 > 0x1FFF_FFFF)
        {
            ThrowAt(start, $"invalid field number {key >> 3}");
        }

        return field;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint()
    {
        ReadOnlySpan<byte> data = _data;
        int pos = _position;
        if ((uint)pos < (uint)data.Length)
        {
            uint b = data[pos];
            if (b < 0x80)
            {
                _position = pos + 1;
                return b;
            }

            // Ids and line numbers of real profiles take two or three bytes: decode those without a loop.
            if ((uint)(pos + 2) < (uint)data.Length)
            {
                uint b1 = data[pos + 1];
                if (b1 < 0x80)
                {
                    _position = pos + 2;
                    return (b & 0x7F) | (b1 << 7);
                }

                uint b2 = data[pos + 2];
                if (b2 < 0x80)
                {
                    _position = pos + 3;
                    return (b & 0x7F) | ((b1 & 0x7F) << 7) | (b2 << 14);
                }
            }
        }

        return ReadVarintSlow();
    }

    private ulong ReadVarintSlow()
    {
        ulong result = 0;
        int shift = 0;
        int start = _position;
        while (true)
        {
            if (_position >= _data.Length)
            {
                ThrowAt(start, "truncated varint");
            }

            byte b = _data[_position++];
            if (shift == 63 && b > 1)
            {
                ThrowAt(start, "varint longer than 64 bits");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }

            shift += 7;
        }
    }

    /// <summary>Reads a length-delimited field's payload and returns a reader positioned on it.</summary>
    public ProtoReader ReadMessage()
    {
        ReadOnlySpan<byte> payload = ReadBytes(out int offset);
        return new ProtoReader(payload, offset);
    }

    /// <summary>Reads a length-delimited payload; <paramref name="absoluteOffset"/> is where it starts.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int absoluteOffset)
    {
        int start = _position;
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            ThrowAt(start, $"length {length} runs past the end of the enclosing message ({_data.Length - _position} bytes left)");
        }

        absoluteOffset = _baseOffset + _position;
        ReadOnlySpan<byte> payload = _data.Slice(_position, (int)length);
        _position += (int)length;
        return payload;
    }

    /// <summary>Skips a field of an unknown number, as protobuf readers must.</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                ReadVarint();
                break;
            case WireType.Fixed64:
                Advance(8);
                break;
            case WireType.Fixed32:
                Advance(4);
                break;
            case WireType.Len:
                ReadBytes(out _);
                break;
            default:
                ThrowAt(_position, $"unsupported wire type {(int)wireType}");
                break;
        }
    }

    private void Advance(int count)
    {
        if (_data.Length - _position < count)
        {
            ThrowAt(_position, "truncated fixed-width field");
        }

        _position += count;
    }

    /// <summary>Throws unless the field arrived with <paramref name="expected"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Expect(WireType actual, WireType expected, string field)
    {
        if (actual != expected)
        {
            ThrowWireType(actual, expected, field);
        }
    }

    [DoesNotReturn]
    private readonly void ThrowWireType(WireType actual, WireType expected, string field) =>
        ThrowAt(_position, $"{field} has wire type {(int)actual}, expected {(int)expected}");

    [DoesNotReturn]
    public readonly void ThrowAt(int relativePosition, string what) =>
        PprofFormatException.Throw($"{what} at byte offset {_baseOffset + relativePosition}");
}

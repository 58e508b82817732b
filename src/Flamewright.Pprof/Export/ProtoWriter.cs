using System.Runtime.CompilerServices;
using Flamewright.Pprof.Primitives;

namespace Flamewright.Pprof.Export;

/// <summary>A minimal protobuf writer into a growable buffer.</summary>
internal sealed class ProtoWriter
{
    private byte[] _buffer;
    private int _length;

    public ProtoWriter(int capacity = 256) => _buffer = new byte[Math.Max(capacity, 16)];

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void Tag(int field, WireType wire) => Varint(((ulong)field << 3) | (uint)wire);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Varint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    /// <summary>An int64/uint64 field, omitted when zero as proto3 does.</summary>
    public void VarintField(int field, long value)
    {
        if (value != 0)
        {
            Tag(field, WireType.Varint);
            Varint((ulong)value);
        }
    }

    public void BytesField(int field, ReadOnlySpan<byte> bytes)
    {
        Tag(field, WireType.Len);
        Varint((ulong)bytes.Length);
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>A packed repeated varint field, omitted when empty.</summary>
    public void PackedField(int field, ReadOnlySpan<long> values, ProtoWriter scratch)
    {
        if (values.IsEmpty)
        {
            return;
        }

        scratch.Clear();
        foreach (long value in values)
        {
            scratch.Varint((ulong)value);
        }

        BytesField(field, scratch.Written);
    }

    private void Ensure(int more)
    {
        if (_buffer.Length - _length < more)
        {
            long size = Math.Max((long)_buffer.Length * 2, (long)_length + more);
            Array.Resize(ref _buffer, (int)Math.Min(size, Array.MaxLength));
        }
    }
}

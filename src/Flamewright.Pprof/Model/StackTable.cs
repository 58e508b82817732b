using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flamewright.Pprof.Primitives;

namespace Flamewright.Pprof.Model;

/// <summary>
/// The distinct location sequences of a profile. Real profiles repeat stacks (a 2.4 M-record CPU profile has
/// under a million distinct ones), so samples point at a stack and analysis walks each distinct stack once.
/// </summary>
/// <remarks>
/// A stack is kept as the varint-encoded location ids it arrived as: for a decoded profile that is a slice of
/// the decompressed bytes themselves (the packed <c>location_id</c> field), so the table costs a few bytes per
/// distinct stack instead of a 4-byte copy of every location id, which for large profiles is more than the
/// profile itself. Stacks that are not one packed run (unpacked ids, built profiles) are encoded into a buffer
/// of the table's own. Ids are mapped to location indexes when a stack is read.
/// </remarks>
internal sealed class StackTable
{
    private readonly byte[] _source;
    private GrowableArray<byte> _own = new(0);
    // Per stack, one word: byte length << 32 | offset << 1 | 1 when the bytes are in _own (else in _source).
    private GrowableArray<long> _spans;
    // Open addressing, linear probing. A slot holds (hash << 32) | (stack index + 1), 0 when empty: the hash in
    // the slot saves a second cache miss per lookup, which is what interning millions of stacks is bound by.
    private long[] _buckets;
    private IdIndex? _ids;
    private bool _keyed;

    /// <param name="source">The bytes that packed id runs are slices of (the decompressed profile), if any.</param>
    /// <param name="expectedStacks">
    /// How many stacks to make room for up front (the number of sample records present), so that the table is not
    /// rehashed while it fills: each rehash touches every slot at random.
    /// </param>
    public StackTable(byte[]? source = null, int expectedStacks = 0)
    {
        _source = source ?? [];
        int presize = PresizeFor(expectedStacks);
        _spans = new GrowableArray<long>(presize);
        // Load stays at most 1/2: room for 3/2 of the expected stacks, rounded up to a power of two, is enough
        // for real profiles, where records repeat stacks.
        _buckets = new long[BitOperations.RoundUpToPowerOf2((uint)(presize + presize / 2))];
    }

    /// <summary>
    /// The longest probe sequence the fast hash may cause before the table switches to <see cref="KeyedHash"/>. With
    /// linear probing at a load of at most 1/2 and a hash that spreads its keys, the chance that an insert probes
    /// more than k slots falls like e^(-0.19 k): about 10^-21 for 256, so no real profile gets there, while a flood
    /// gets there after 256 colliding stacks, having cost some 30 000 probes.
    /// </summary>
    private const int MaxProbes = 256;

    /// <summary>Pre-sizing stops here (a 64 MiB table); a profile with more distinct stacks grows the table.</summary>
    private const int MaxPresizedStacks = 1 << 22;

    public int Count => _spans.Count;

    /// <summary>The bytes the table's own arrays hold (not the source it slices).</summary>
    public long HeldBytes => _own.Items.Length + _spans.Items.Length * 8L + _buckets.Length * 8L;

    /// <summary>
    /// A table of stacks known to be distinct already (read from a digest), appended with <see cref="AppendDistinct"/>
    /// and never looked up: it has no hash slots, so <see cref="InternSlice"/> and <see cref="InternIds"/> refuse.
    /// </summary>
    public static StackTable ForDistinct(int stacks, int bytes) =>
        new(null, 0) { _own = new GrowableArray<byte>(bytes), _spans = new GrowableArray<long>(stacks), _buckets = [] };

    /// <summary>Adds a stack without looking for an equal one: only for tables made by <see cref="ForDistinct"/>.</summary>
    public void AppendDistinct(ReadOnlySpan<byte> encoded)
    {
        _spans.Add(((long)encoded.Length << 32) | ((long)_own.Count << 1) | 1);
        _own.AddRange(encoded);
    }

    /// <summary>How many stacks a table made for <paramref name="expectedStacks"/> has room for before it grows.</summary>
    public static int PresizeFor(int expectedStacks) => Math.Clamp(expectedStacks, 512, MaxPresizedStacks);

    /// <summary>True once a flood of colliding stacks made the table switch to <see cref="KeyedHash"/>.</summary>
    internal bool UsesKeyedHash => _keyed;

    /// <summary>The location id → index map; set once every location is known.</summary>
    public IdIndex Ids
    {
        set => _ids = value;
    }

    /// <summary>Interns a stack that is the packed run <c>source[offset..offset+length]</c>.</summary>
    public int InternSlice(int offset, int length) => Intern(_source.AsSpan(offset, length), (long)offset << 1);

    /// <summary>Interns a stack given as location ids (encoded into the table's own buffer when new).</summary>
    public int InternIds(ReadOnlySpan<ulong> ids)
    {
        Span<byte> encoded = ids.Length <= 64 ? stackalloc byte[ids.Length * 10] : new byte[ids.Length * 10];
        int length = 0;
        foreach (ulong id in ids)
        {
            ulong value = id;
            while (value >= 0x80)
            {
                encoded[length++] = (byte)(value | 0x80);
                value >>= 7;
            }

            encoded[length++] = (byte)value;
        }

        return Intern(encoded[..length], -1);
    }

    /// <summary>Appends the location indexes of <paramref name="stack"/>, leaf first.</summary>
    public void Read(int stack, ref GrowableArray<int> into)
    {
        IdIndex ids = _ids!;
        ReadOnlySpan<byte> bytes = Bytes(stack);
        int position = 0;
        while (position < bytes.Length)
        {
            into.Add(ids.Find(NextId(bytes, ref position)));
        }
    }

    /// <summary>How many locations <paramref name="stack"/> has (each id's varint ends in one byte below 0x80).</summary>
    public int Depth(int stack)
    {
        int depth = 0;
        foreach (byte b in Bytes(stack))
        {
            depth += (b >> 7) ^ 1;
        }

        return depth;
    }

    /// <summary>Writes the location indexes of <paramref name="stack"/> root first into <paramref name="into"/>, which is <see cref="Depth"/> long.</summary>
    public void ReadRootFirst(int stack, Span<int> into)
    {
        IdIndex ids = _ids!;
        ReadOnlySpan<byte> bytes = Bytes(stack);
        int position = 0;
        int at = into.Length;
        while (position < bytes.Length)
        {
            into[--at] = ids.Find(NextId(bytes, ref position));
        }
    }

    /// <summary>The location id whose varint starts at <paramref name="position"/>, which moves past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NextId(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong id = 0;
        int shift = 0;
        byte b;
        do
        {
            b = bytes[position++];
            id |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        }
        while (b >= 0x80);

        return id;
    }

    public int[] Read(int stack)
    {
        var into = new GrowableArray<int>(Bytes(stack).Length); // at least one byte per id
        Read(stack, ref into);
        return into.ToArray();
    }

    private ReadOnlySpan<byte> Bytes(int stack)
    {
        long span = _spans.Items[stack];
        int length = (int)(span >>> 32);
        int offset = (int)((uint)span >> 1);
        return (span & 1) == 0 ? _source.AsSpan(offset, length) : _own.Items.AsSpan(offset, length);
    }

    private int Intern(ReadOnlySpan<byte> encoded, long sourceSpan)
    {
        if (_buckets.Length == 0)
        {
            throw new InvalidOperationException("a table of distinct stacks is not interned into");
        }

        uint hash = _keyed ? KeyedHash(encoded) : Hash(encoded);
        int mask = _buckets.Length - 1;
        int slot = (int)hash & mask;
        int probes = 0;
        while (true)
        {
            long entry = _buckets[slot];
            if (entry == 0)
            {
                break;
            }

            int stack = (int)entry - 1;
            if ((uint)(entry >>> 32) == hash && Bytes(stack).SequenceEqual(encoded))
            {
                return stack;
            }

            if (++probes > MaxProbes && !_keyed)
            {
                UseKeyedHash();
                return Intern(encoded, sourceSpan);
            }

            slot = (slot + 1) & mask;
        }

        int added = Count;
        if (sourceSpan < 0)
        {
            sourceSpan = ((long)_own.Count << 1) | 1;
            _own.AddRange(encoded);
        }

        _spans.Add(((long)encoded.Length << 32) | sourceSpan);
        _buckets[slot] = ((long)hash << 32) | (uint)(added + 1);
        if ((long)Count * 2 > _buckets.Length)
        {
            Rehash();
        }

        return added;
    }

    private void Rehash()
    {
        var buckets = new long[_buckets.Length * 2];
        int mask = buckets.Length - 1;
        foreach (long entry in _buckets)
        {
            if (entry == 0)
            {
                continue;
            }

            int slot = (int)(uint)(entry >>> 32) & mask;
            while (buckets[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            buckets[slot] = entry;
        }

        _buckets = buckets;
    }

    /// <summary>
    /// Re-indexes every stack by <see cref="KeyedHash"/>, for good: the fast hash is being flooded (or, once in a
    /// very long while, unlucky), and a hash the profile cannot predict puts an end to it.
    /// </summary>
    private void UseKeyedHash()
    {
        _keyed = true;
        Array.Clear(_buckets);
        int mask = _buckets.Length - 1;
        for (int stack = 0; stack < Count; stack++)
        {
            uint hash = KeyedHash(Bytes(stack));
            int slot = (int)hash & mask;
            while (_buckets[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            _buckets[slot] = ((long)hash << 32) | (uint)(stack + 1);
        }
    }

    /// <summary>
    /// Marvin, the hash .NET gives strings against hash flooding, seeded at random per process: a profile's author
    /// cannot make stacks collide under it. It costs twice the fast hash, so it is only the fallback.
    /// </summary>
    private static uint KeyedHash(ReadOnlySpan<byte> bytes)
    {
        int hash = string.GetHashCode(MemoryMarshal.Cast<byte, char>(bytes));
        return (bytes.Length & 1) == 0 ? (uint)hash : (uint)HashCode.Combine(hash, bytes[^1]);
    }

    /// <summary>
    /// A multiply-rotate hash over 8-byte words: cheap, and spreads the small ids of real profiles well. It is
    /// not keyed, and a crafted profile can make any number of stacks collide under it (HostileProfiles builds 65 536
    /// such stacks, which took this table nearly three minutes to intern): <see cref="MaxProbes"/> catches that.
    /// </summary>
    private static uint Hash(ReadOnlySpan<byte> bytes)
    {
        ulong h = (ulong)bytes.Length * 0x9E3779B97F4A7C15UL;
        while (bytes.Length >= 8)
        {
            h = BitOperations.RotateLeft(h ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes), 29) * 0xBF58476D1CE4E5B9UL;
            bytes = bytes[8..];
        }

        ulong tail = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            tail |= (ulong)bytes[i] << (8 * i);
        }

        h = (h ^ tail) * 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return (uint)(h ^ (h >> 32));
    }
}

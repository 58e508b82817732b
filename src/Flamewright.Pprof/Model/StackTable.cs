using System.Numerics;

namespace Flamewright.Pprof.Model;

/// <summary>
/// The distinct location sequences of a profile. Real profiles repeat the same stack many times (a 2.4 M-record
/// CPU profile has under a million distinct stacks), so samples point at a stack instead of carrying their own
/// copy, and analysis walks each distinct stack once.
/// </summary>
internal sealed class StackTable
{
    private GrowableArray<int> _locations = new(1024);
    private GrowableArray<int> _starts = new(256);
    private int[] _buckets = new int[1024]; // stack index + 1, 0 = empty; open addressing, linear probing
    private GrowableArray<uint> _hashes = new(256);

    public StackTable() => _starts.Add(0);

    public int Count => _starts.Count - 1;

    public ReadOnlySpan<int> this[int stack]
    {
        get
        {
            int[] starts = _starts.Items;
            return _locations.Items.AsSpan(starts[stack], starts[stack + 1] - starts[stack]);
        }
    }

    /// <summary>Returns the index of the stack with these locations, adding it when it is new.</summary>
    public int Intern(ReadOnlySpan<int> locations)
    {
        uint hash = Hash(locations);
        int mask = _buckets.Length - 1;
        int slot = (int)hash & mask;
        while (true)
        {
            int entry = _buckets[slot];
            if (entry == 0)
            {
                break;
            }

            int stack = entry - 1;
            if (_hashes.Items[stack] == hash && this[stack].SequenceEqual(locations))
            {
                return stack;
            }

            slot = (slot + 1) & mask;
        }

        int added = Count;
        _locations.AddRange(locations);
        _starts.Add(_locations.Count);
        _hashes.Add(hash);
        _buckets[slot] = added + 1;
        if ((long)Count * 2 > _buckets.Length)
        {
            Rehash();
        }

        return added;
    }

    private void Rehash()
    {
        var buckets = new int[_buckets.Length * 2];
        int mask = buckets.Length - 1;
        ReadOnlySpan<uint> hashes = _hashes.AsSpan();
        for (int stack = 0; stack < hashes.Length; stack++)
        {
            int slot = (int)hashes[stack] & mask;
            while (buckets[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            buckets[slot] = stack + 1;
        }

        _buckets = buckets;
    }

    private static uint Hash(ReadOnlySpan<int> locations)
    {
        // A multiply-rotate hash over 32-bit words: cheap, and good enough for ids that are small integers.
        uint h = (uint)locations.Length * 0x9E3779B1u;
        foreach (int location in locations)
        {
            h = BitOperations.RotateLeft(h ^ (uint)location, 13) * 0x85EBCA6Bu;
        }

        h ^= h >> 16;
        h *= 0xC2B2AE35u;
        return h ^ (h >> 13);
    }

    internal ReadOnlySpan<int> AllLocations => _locations.AsSpan();

    internal ReadOnlySpan<int> Starts => _starts.AsSpan();
}

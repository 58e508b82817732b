namespace Flamewright.Pprof.Primitives;

/// <summary>
/// Maps the ids of locations, functions or mappings to their array index. Go numbers them 1..N, so a dense
/// array is the common case; other producers use arbitrary ids, which fall back to a dictionary.
/// </summary>
internal sealed class IdIndex
{
    private readonly int[]? _dense;
    private readonly Dictionary<ulong, int>? _sparse;

    public IdIndex(ReadOnlySpan<ulong> ids, string what, ReadOnlySpan<int> offsets)
    {
        ulong max = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            // 0 means "none" where an id is referred to (a location's mapping, a line's function): an entry with it
            // could never be referred to. go tool pprof refuses it too ("found location with reserved id=0").
            if (ids[i] == 0)
            {
                PprofFormatException.Throw($"{what} with the reserved id 0 at byte offset {offsets[i]}");
            }

            max = Math.Max(max, ids[i]);
        }

        if (IsDense(max, ids.Length))
        {
            _dense = new int[(int)max + 1];
            Array.Fill(_dense, -1);
            for (int i = 0; i < ids.Length; i++)
            {
                ref int slot = ref _dense[(int)ids[i]];
                if (slot >= 0)
                {
                    Duplicate(what, ids[i], offsets[i]);
                }

                slot = i;
            }
        }
        else
        {
            _sparse = new Dictionary<ulong, int>(ids.Length, UnpredictableHash.Instance);
            for (int i = 0; i < ids.Length; i++)
            {
                if (!_sparse.TryAdd(ids[i], i))
                {
                    Duplicate(what, ids[i], offsets[i]);
                }
            }
        }
    }

    /// <summary>Dense only while the array stays within a small multiple of the entries actually present.</summary>
    private static bool IsDense(ulong max, int count) => max < ((ulong)count * 4) + 1024;

    /// <summary>
    /// What an index of <paramref name="ids"/> allocates: the dense array (4 bytes per id up to the largest), or a
    /// dictionary of about 28 bytes an entry.
    /// </summary>
    public static long BytesFor(ReadOnlySpan<ulong> ids)
    {
        ulong max = 0;
        foreach (ulong id in ids)
        {
            max = Math.Max(max, id);
        }

        return IsDense(max, ids.Length) ? 4L * ((long)max + 1) : (28L * ids.Length) + 4096;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong id) =>
        _dense is { } dense ? id < (ulong)dense.Length && dense[(int)id] >= 0 : _sparse!.ContainsKey(id);

    /// <summary>The index of <paramref name="id"/>, or -1 when no entry has it.</summary>
    public int Find(ulong id)
    {
        if (_dense is not null)
        {
            return id < (ulong)_dense.Length ? _dense[(int)id] : -1;
        }

        return _sparse!.TryGetValue(id, out int index) ? index : -1;
    }

    private static void Duplicate(string what, ulong id, int offset) =>
        PprofFormatException.Throw($"duplicate {what} id {id} at byte offset {offset}");
}

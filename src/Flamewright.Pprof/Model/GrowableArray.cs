using System.Runtime.CompilerServices;

namespace Flamewright.Pprof.Model;

/// <summary>
/// An append-only array that doubles as it grows. Its size always follows what was actually appended,
/// never a count read from input, so hostile input cannot make it allocate ahead of the bytes it sent.
/// </summary>
internal struct GrowableArray<T>
{
    private T[] _items;
    private int _count;

    public GrowableArray(int initialCapacity)
    {
        _items = initialCapacity == 0 ? [] : new T[initialCapacity];
        _count = 0;
    }

    public readonly int Count => _count;

    public readonly T[] Items => _items ?? [];

    public readonly Span<T> AsSpan() => (_items ?? []).AsSpan(0, _count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T item)
    {
        T[] items = _items;
        int count = _count;
        if (items is not null && (uint)count < (uint)items.Length)
        {
            items[count] = item;
            _count = count + 1;
            return;
        }

        AddSlow(item);
    }

    public void AddRange(ReadOnlySpan<T> items)
    {
        EnsureCapacity(_count + items.Length);
        items.CopyTo(_items.AsSpan(_count));
        _count += items.Length;
    }

    public void Clear() => _count = 0;

    /// <summary>Drops the items from <paramref name="count"/> on.</summary>
    public void SetCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _count);
        _count = count;
    }

    /// <summary>Returns the items in an array of exactly the right length.</summary>
    public readonly T[] ToArray() => AsSpan().ToArray();

    /// <summary>
    /// The items as an array of exactly their number, for the array's last use: its own array when it is full (as one
    /// sized beforehand for its items is), a copy otherwise. Nothing may be added afterwards.
    /// </summary>
    public readonly T[] Take() => _items is not null && _count == _items.Length ? _items : ToArray();

    /// <summary>The bytes <see cref="Take"/> allocates: none when the array is full.</summary>
    public readonly long TakeBytes => _items is not null && _count == _items.Length ? 0 : CopyBytes;

    private void AddSlow(T item)
    {
        EnsureCapacity(_count + 1);
        _items[_count++] = item;
    }

    /// <summary>The bytes the next <see cref="Add"/> allocates: 0 unless the array is full and must grow.</summary>
    public readonly long GrowthBytes =>
        _items is not null && _count < _items.Length ? 0 : (long)GrownSize(_items?.Length ?? 0, _count + 1) * Unsafe.SizeOf<T>();

    /// <summary>The bytes <see cref="ToArray"/> allocates.</summary>
    public readonly long CopyBytes => (long)_count * Unsafe.SizeOf<T>();

    private static int GrownSize(int length, int needed) =>
        (int)Math.Min(Math.Max((long)length * 2, Math.Max(needed, 16)), Array.MaxLength);

    private void EnsureCapacity(int needed)
    {
        _items ??= [];
        if (needed <= _items.Length)
        {
            return;
        }

        int size = GrownSize(_items.Length, needed);
        if (size < needed)
        {
            PprofFormatException.Throw("profile has more entries than one array can hold");
        }

        Array.Resize(ref _items, size);
    }
}

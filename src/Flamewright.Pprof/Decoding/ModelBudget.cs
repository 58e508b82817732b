using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Flamewright.Pprof.Decoding;

/// <summary>
/// What decoding has allocated for the model so far, against <see cref="PprofLimits.EffectiveMaxModelBytes"/>: every
/// array before it is allocated or grown (<see cref="Model.GrowableArray{T}.GrowthBytes"/>), every string object,
/// the id indexes and the final copies, so that a profile of tiny elements is refused before decoding has allocated
/// more than the limit, arrays it outgrew included.
/// </summary>
internal sealed class ModelBudget(long limit)
{
    /// <summary>
    /// What a distinct stack adds to the stack table beyond its pre-sized room: its span (8) and, as the table
    /// doubles to keep its load under 1/2, two to four slots (8 each) allocated, then outgrown, on average.
    /// </summary>
    public const int Stack = 48;

    /// <summary>What the stack table allocates up front per stack it makes room for: its span (8), and 1.5 to 3 slots (8 each).</summary>
    public const int PresizedStack = 32;

    /// <summary>What an id in an unpacked location_id list costs: its slot in the id list and up to 10 bytes in the stack table, twice as both grow.</summary>
    public const int UnpackedId = 40;

    private long _used;

    /// <summary>What was charged so far.</summary>
    public long Used => _used;

    /// <summary>A string object: header, length and terminator (24 bytes with padding) and two bytes a character at most.</summary>
    public static long String(int utf8Bytes) => utf8Bytes == 0 ? 0 : 24 + (2L * utf8Bytes);

    /// <param name="bytes">What is about to be allocated.</param>
    /// <param name="what">The field (<c>sample.label</c>), or with a negative <paramref name="offset"/> what the tables are for.</param>
    /// <param name="offset">Where the element that needs it starts in the decompressed profile.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Charge(long bytes, string what, int offset)
    {
        _used += bytes;
        if (_used > limit)
        {
            Exceeded(what, offset);
        }
    }

    [DoesNotReturn]
    private void Exceeded(string what, int offset) =>
        PprofFormatException.Throw(offset < 0
            ? $"decoded profile exceeds the limit of {limit} bytes of memory (MaxModelBytes) with its {what}; refusing to decode further"
            : $"decoded profile exceeds the limit of {limit} bytes of memory (MaxModelBytes) at a {what} at byte offset {offset}; refusing to decode further");
}

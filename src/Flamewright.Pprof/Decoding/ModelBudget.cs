using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Decoding;

/// <summary>
/// The memory the decoded model takes so far, estimated from the size of each element it stores, against
/// <see cref="PprofLimits.EffectiveMaxModelBytes"/>. Elements are charged before they are stored, and pre-sized tables
/// before they are allocated, so that a profile of tiny elements is refused before it costs more than the limit
/// (transiently about twice that, as arrays grow by doubling).
/// </summary>
internal sealed class ModelBudget(long limit)
{
    /// <summary>A string: its slot in the table, the object's header, length and terminator, two bytes a character.</summary>
    public static long String(int utf8Bytes) => 8 + 24 + (2L * utf8Bytes);

    /// <summary>A mapping, function or location also costs its id (8), its byte offset (4) and its id index entry (up to 24).</summary>
    public const int PerIdentified = 36;

    public static readonly int Mapping = Unsafe.SizeOf<Mapping>() + PerIdentified;

    public static readonly int Function = Unsafe.SizeOf<Function>() + PerIdentified;

    public static readonly int Location = Unsafe.SizeOf<Location>() + PerIdentified;

    public static readonly int Line = Unsafe.SizeOf<Line>();

    public static readonly int SampleType = Unsafe.SizeOf<Model.ValueType>();

    /// <summary>A label, and its sample's start in the label table.</summary>
    public static readonly int Label = Unsafe.SizeOf<Label>() + 4;

    /// <summary>A distinct stack in the stack table: its span (8) and, at a load of 1/2 or more, two to four slots (8 each).</summary>
    public const int Stack = 40;

    private long _used;

    /// <param name="bytes">What the element or table takes.</param>
    /// <param name="what">The field (<c>sample.label</c>), or with a negative <paramref name="offset"/> what the tables are for.</param>
    /// <param name="offset">Where the element starts in the decompressed profile.</param>
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
            ? $"decoded profile exceeds the limit of {limit} bytes of memory (MaxModelBytes) with the tables for {what}; refusing to decode further"
            : $"decoded profile exceeds the limit of {limit} bytes of memory (MaxModelBytes) at a {what} at byte offset {offset}; refusing to decode further");
}

namespace Flamewright.Pprof.Model;

/// <summary>
/// A program counter (profile.proto <c>Location</c>). Its lines are the frames at that address, the innermost
/// inlined callee first and the real function last; they live in <see cref="Profile.Lines"/> from
/// <see cref="FirstLine"/> for <see cref="LineCount"/> entries.
/// </summary>
public readonly record struct Location(
    ulong Id, int MappingIndex, ulong Address, bool IsFolded, int FirstLine, int LineCount)
{
    /// <summary>True when the location has no mapping.</summary>
    public bool HasMapping => MappingIndex >= 0;
}

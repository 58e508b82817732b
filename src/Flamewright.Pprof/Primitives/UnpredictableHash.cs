namespace Flamewright.Pprof.Primitives;

/// <summary>
/// A hash for 64-bit keys that a profile's author cannot aim at. <see cref="ulong.GetHashCode"/> folds a key's
/// halves with XOR, so a profile can choose keys that all hash alike (k &lt;&lt; 32 | k hashes to 0 for every k) and
/// turn a dictionary into a list: 50 000 such location ids took 24 s to index, a million would take hours.
/// <see cref="HashCode"/> mixes both halves with a seed chosen at random per process. Used by the id index and by
/// the flame tree's index of wide nodes' children (keyed by parent node and frame, both shaped by the profile).
/// </summary>
internal sealed class UnpredictableHash : IEqualityComparer<ulong>
{
    public static readonly UnpredictableHash Instance = new();

    public bool Equals(ulong x, ulong y) => x == y;

    public int GetHashCode(ulong key) => HashCode.Combine((uint)key, (uint)(key >> 32));
}

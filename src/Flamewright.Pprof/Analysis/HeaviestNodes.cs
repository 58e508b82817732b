namespace Flamewright.Pprof.Analysis;

/// <summary>
/// Chooses what of a large tree to show: at most a given number of nodes, the heaviest, always with their
/// parents, so the nodes kept form one tree from the root and keep their exact values. A flame graph of millions
/// of nodes cannot be drawn or read anyway; what is left out is what would be narrower than a pixel.
/// </summary>
public static class HeaviestNodes
{
    /// <summary>
    /// The nodes to keep, in pre-order: the root, then each node whose weight is among the <paramref name="limit"/>
    /// largest and whose parent is kept. Ties at the cut are kept in pre-order while room remains. A heavy node under
    /// a lighter parent (only where values are negative, as in a diff) is left out with its parent.
    /// </summary>
    /// <param name="count">Nodes of the tree, numbered in pre-order (a parent before its children; the root is 0).</param>
    /// <param name="parentOf">A node's parent (the root's is ignored).</param>
    /// <param name="weight">How much a node weighs; its magnitude counts, so negative values of a diff weigh too.</param>
    /// <param name="limit">Most nodes to keep, at least 1.</param>
    public static int[] Select(int count, Func<int, int> parentOf, Func<int, long> weight, int limit)
    {
        ArgumentNullException.ThrowIfNull(parentOf);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (count <= limit)
        {
            return [.. Enumerable.Range(0, count)];
        }

        var magnitudes = new ulong[count];
        for (int node = 0; node < count; node++)
        {
            magnitudes[node] = Magnitude(weight(node));
        }

        // The weight of the limit-th heaviest node: heavier ones are kept, equal ones while room remains.
        var sorted = (ulong[])magnitudes.Clone();
        Array.Sort(sorted);
        ulong cut = sorted[count - limit];

        // First the nodes heavier than the cut, then those equal to it while room remains; both in pre-order, so a
        // parent is decided before its children.
        var kept = new bool[count];
        kept[0] = true;
        int taken = 1;
        for (int node = 1; node < count && taken < limit; node++)
        {
            if (magnitudes[node] > cut && kept[parentOf(node)])
            {
                kept[node] = true;
                taken++;
            }
        }

        for (int node = 1; node < count && taken < limit; node++)
        {
            if (magnitudes[node] == cut && kept[parentOf(node)])
            {
                kept[node] = true;
                taken++;
            }
        }

        var result = new int[taken];
        for (int node = 0, i = 0; i < taken; node++)
        {
            if (kept[node])
            {
                result[i++] = node;
            }
        }

        return result;
    }

    /// <summary>
    /// For each node of <paramref name="kept"/> (a result of <see cref="Select"/>), its parent's position in
    /// <paramref name="kept"/>, -1 for the root: the kept nodes renumbered as a tree of their own.
    /// </summary>
    public static int[] RenumberedParents(int[] kept, Func<int, int> parentOf)
    {
        ArgumentNullException.ThrowIfNull(kept);
        ArgumentNullException.ThrowIfNull(parentOf);
        var position = new Dictionary<int, int>(kept.Length);
        var parents = new int[kept.Length];
        for (int i = 0; i < kept.Length; i++)
        {
            position[kept[i]] = i;
            parents[i] = i == 0 ? -1 : position[parentOf(kept[i])];
        }

        return parents;
    }

    /// <summary>|<paramref name="value"/>|, also for <see cref="long.MinValue"/>.</summary>
    public static ulong Magnitude(long value) => value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value;

    /// <summary>Of two values, the one of larger magnitude: a diff node weighs what its heavier side weighs.</summary>
    public static long Heavier(long a, long b) => Magnitude(a) >= Magnitude(b) ? a : b;
}

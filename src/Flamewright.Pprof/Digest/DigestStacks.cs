using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Digest;

/// <summary>
/// A profile digest read for a first look (<see cref="StackView"/>): the profile's names (sample types, functions,
/// locations) without its stacks and samples, each distinct stack's summed value per sample type, and the digest's
/// stacks, which are streamed root first as they are stored: each as the part it does not share with the one before,
/// so that no stack is expanded into memory (docs/digest.md). Only analyses without focus, ignore or label filters read
/// one: those need the samples.
/// </summary>
public sealed class DigestStacks
{
    private readonly byte[] _digest;
    private readonly int _stacksAt;
    private readonly long[] _sums; // per stack, per sample type
    private readonly bool[] _used; // per stack, per sample type: a sample of it is worth something

    internal DigestStacks(Profile names, byte[] digest, int stacksAt, int stackCount, long[] sums, bool[] used, long[] absoluteTotals)
    {
        Names = names;
        _digest = digest;
        _stacksAt = stacksAt;
        StackCount = stackCount;
        _sums = sums;
        _used = used;
        AbsoluteTotals = absoluteTotals;
    }

    /// <summary>The profile without stacks or samples: what names frames and sample types.</summary>
    public Profile Names { get; }

    public int StackCount { get; }

    /// <summary>Per sample type, the sum of the samples' absolute values.</summary>
    internal long[] AbsoluteTotals { get; }

    /// <summary>The sum of the samples' values of <paramref name="typeIndex"/>.</summary>
    internal long Total(int typeIndex)
    {
        long total = 0;
        int types = Names.SampleTypes.Length;
        for (int s = 0; s < StackCount; s++)
        {
            total += _sums[(s * types) + typeIndex];
        }

        return total;
    }

    /// <summary>How many stacks have a sample worth something of <paramref name="typeIndex"/>.</summary>
    internal int UsedCount(int typeIndex)
    {
        int count = 0;
        int types = Names.SampleTypes.Length;
        for (int s = 0; s < StackCount; s++)
        {
            count += _used[(s * types) + typeIndex] ? 1 : 0;
        }

        return count;
    }

    /// <summary>
    /// Visits, in stored order, every stack with a sample worth something of <paramref name="typeIndex"/>: its number
    /// among those (from <paramref name="firstId"/> on), its frames root first and its value. With <paramref name="only"/>,
    /// only the stacks it marks (indexed by number less <paramref name="firstId"/>) are visited.
    /// </summary>
    internal void ForEach(int typeIndex, LocationFrames locationFrames, FlameOptions limits, int firstId, bool[]? only, StackVisitor visit)
    {
        var input = new VarintReader(_digest.AsSpan(_stacksAt));
        int count = input.Count();
        int types = Names.SampleTypes.Length;
        int locationCount = Names.Locations.Length;
        var frames = new GrowableArray<int>(128);
        var locationStarts = new GrowableArray<int>(64); // per location of the path, where its frames start
        int id = firstId;
        long framesSoFar = 0;
        for (int s = 0; s < count; s++)
        {
            if ((s & 4095) == 0)
            {
                limits.Cancellation.ThrowIfCancellationRequested();
            }

            int shared = input.Index(locationStarts.Count + 1);

            frames.SetCount(shared == locationStarts.Count ? frames.Count : locationStarts.AsSpan()[shared]);
            locationStarts.SetCount(shared);
            int added = input.Count();
            for (int i = 0; i < added; i++)
            {
                // Checked when the digest was read (ProfileDigest.ReadStacks): 1 or more.
                int location = input.Index(locationCount + 1) - 1;
                locationStarts.Add(frames.Count);
                WeightedStacks.AddRootFirst(ref frames, locationFrames.Of(location), s, limits.MaxStackFrames);
            }

            if (!_used[(s * types) + typeIndex])
            {
                continue;
            }

            int number = id++;
            if (only is not null && !only[number - firstId])
            {
                continue;
            }

            WeightedStacks.CountFrames(ref framesSoFar, frames.Count, limits.MaxFrames);

            visit(number, frames.AsSpan(), _sums[(s * types) + typeIndex]);
        }
    }
}

/// <summary>Visits one stack of a first look: its number, its frames root first and its value.</summary>
internal delegate void StackVisitor(int id, ReadOnlySpan<int> frames, long value);

namespace Flamewright.Pprof.Model;

/// <summary>
/// One sample record of a profile, as views into the profile's arrays. <see cref="LocationIndexes"/> index
/// <see cref="Profile.Locations"/>, leaf first; <see cref="Values"/> has one value per sample type.
/// </summary>
public readonly ref struct Sample
{
    internal Sample(int stackIndex, ReadOnlySpan<int> locationIndexes, ReadOnlySpan<long> values, ReadOnlySpan<Label> labels)
    {
        StackIndex = stackIndex;
        LocationIndexes = locationIndexes;
        Values = values;
        Labels = labels;
    }

    /// <summary>The distinct stack this sample shares with every sample of the same locations.</summary>
    public int StackIndex { get; }

    public ReadOnlySpan<int> LocationIndexes { get; }

    public ReadOnlySpan<long> Values { get; }

    public ReadOnlySpan<Label> Labels { get; }
}

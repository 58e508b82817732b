using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>One value of a label key and the summed value of the samples that carry it.</summary>
public sealed record LabelValueTotal(string Value, long Total);

/// <summary>
/// A label key: the summed value of the samples that carry it, and its values, heaviest first; <paramref name="Numeric"/>
/// when a sample gives it a number (a heap profile's <c>bytes</c>), whose values are then numbers as pprof prints them.
/// </summary>
public sealed record LabelKeyTotal(string Key, long Total, IReadOnlyList<LabelValueTotal> Values, bool Numeric = false);

/// <summary>
/// The labels the samples carry (<c>pprof.Do</c>'s, a heap profile's <c>bytes</c>) with the value behind each: what
/// <c>go tool pprof -tags</c> prints. A sample counts once for every value it carries; a key's total is the sum over
/// the samples that carry it, so shares of a key are of that total. Focus and ignore apply as to a flame graph, and
/// samples worth nothing in the sample type are left out as there (pprof lists their values with a total of 0).
/// </summary>
public sealed class LabelTable
{
    private LabelTable(ValueType sampleType, long total, IReadOnlyList<LabelKeyTotal> keys)
    {
        SampleType = sampleType;
        Total = total;
        Keys = keys;
    }

    public ValueType SampleType { get; }

    /// <summary>The sum of every sample's value, labelled or not: what a share of the whole profile is of.</summary>
    public long Total { get; }

    /// <summary>The keys in ordinal order, each with its values, heaviest first (by absolute value, then by name).</summary>
    public IReadOnlyList<LabelKeyTotal> Keys { get; }

    public static LabelTable Build(IReadOnlyList<Profile> profiles, FlameOptions? options = null)
    {
        options ??= new FlameOptions();
        var sums = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var numeric = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        WeightedStacks stacks = WeightedStacks.ForEachKeptSample(profiles, options, (part, _, sample, value) =>
        {
            total += value;
            foreach (Label label in part.Profile.LabelsOf(sample))
            {
                if (!label.IsString)
                {
                    numeric.Add(label.Key);
                }
            }

            foreach (KeyValuePair<string, string> label in SampleLabels.Text(part.Profile.LabelsOf(sample)))
            {
                if (!sums.TryGetValue(label.Key, out Dictionary<string, long>? values))
                {
                    sums[label.Key] = values = new Dictionary<string, long>(StringComparer.Ordinal);
                }

                values[label.Value] = values.GetValueOrDefault(label.Value) + value;
            }
        });

        var keys = new List<LabelKeyTotal>(sums.Count);
        foreach ((string key, Dictionary<string, long> values) in sums.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            keys.Add(new LabelKeyTotal(key, values.Values.Sum(), [.. values
                .OrderByDescending(v => Magnitude.Abs(v.Value)).ThenBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => new LabelValueTotal(v.Key, v.Value))], numeric.Contains(key)));
        }

        return new LabelTable(stacks.SampleType, total, keys);
    }
}

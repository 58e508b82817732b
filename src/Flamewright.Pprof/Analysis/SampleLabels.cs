using System.Globalization;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>Sample labels as people read them, the one form <see cref="StackGroups"/> and <see cref="LabelTable"/> share.</summary>
internal static class SampleLabels
{
    /// <summary>A sample's labels as text, sorted by key then value: numbers as <c>go tool pprof</c> prints them.</summary>
    public static List<KeyValuePair<string, string>> Text(ReadOnlySpan<Label> labels)
    {
        var list = new List<KeyValuePair<string, string>>(labels.Length);
        foreach (Label label in labels)
        {
            list.Add(new(label.Key, label.IsString ? label.Str! : NumberOf(label)));
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key) is int byKey and not 0 ? byKey : string.CompareOrdinal(a.Value, b.Value));
        return list;
    }

    /// <summary>
    /// A number label as <c>go tool pprof</c> prints it: a label without a unit takes its key as unit (a heap profile's
    /// <c>bytes</c>), times and sizes are scaled (<c>64kB</c>), other numbers carry their unit.
    /// </summary>
    public static string NumberOf(Label label)
    {
        string unit = label.NumUnit is { Length: > 0 } given ? given : label.Key;
        string scaled = Export.ValueFormat.Human(label.Num, unit);
        return scaled == label.Num.ToString(CultureInfo.InvariantCulture) && label.NumUnit is { Length: > 0 } ? scaled + unit : scaled;
    }
}

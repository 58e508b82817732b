using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// The units of numeric labels, and numbers moved from one unit to another, as <c>go tool pprof</c> reads them for
/// <c>-tagfocus</c> and <c>-tagignore</c> ranges (docs/analyze.md, "Label filters"): sizes in bytes (B, kB … PB, by
/// powers of 1,024), times (ns … hours) and Google compute units; other units compare only with themselves.
/// </summary>
internal static class LabelUnits
{
    /// <summary>A unit: the name pprof prints, the spellings it reads, and its size in the family's smallest unit.</summary>
    private sealed record Unit(string Name, string[] Aliases, double Factor);

    /// <summary>A family of units, and the unit a value takes when asked for a unit the family lacks.</summary>
    private sealed record Family(Unit[] Units, Unit Default);

    private static readonly Family[] s_families =
    [
        new Family(
        [
            new("B", ["b", "byte"], 1),
            new("kB", ["kb", "kbyte", "kilobyte"], 1L << 10),
            new("MB", ["mb", "mbyte", "megabyte"], 1L << 20),
            new("GB", ["gb", "gbyte", "gigabyte"], 1L << 30),
            new("TB", ["tb", "tbyte", "terabyte"], 1L << 40),
            new("PB", ["pb", "pbyte", "petabyte"], 1L << 50),
        ], new("B", ["b", "byte"], 1)),
        new Family(
        [
            new("ns", ["ns", "nanosecond"], 1),
            new("us", ["\u03bcs", "us", "microsecond"], 1e3),
            new("ms", ["ms", "millisecond"], 1e6),
            new("s", ["s", "sec", "second"], 1e9),
            new("hrs", ["hour", "hr"], 3600e9),
        ], new("s", [], 1e9)),
        new Family(
        [
            new("n*GCU", ["nanogcu"], 1e-9),
            new("u*GCU", ["microgcu"], 1e-6),
            new("m*GCU", ["milligcu"], 1e-3),
            new("GCU", ["gcu"], 1),
            new("k*GCU", ["kilogcu"], 1e3),
            new("M*GCU", ["megagcu"], 1e6),
            new("G*GCU", ["gigagcu"], 1e9),
            new("T*GCU", ["teragcu"], 1e12),
            new("P*GCU", ["petagcu"], 1e15),
        ], new("GCU", [], 1)),
    ];

    /// <summary>
    /// <paramref name="value"/> in <paramref name="from"/> expressed in <paramref name="to"/>, and the unit it ended in:
    /// pprof's <c>measurement.Scale</c>. A unit of no family leaves the number as it is, in <paramref name="to"/> (or in
    /// no unit, for the names pprof gives counts).
    /// </summary>
    public static (double Value, string Unit) Scale(long value, string from, string to)
    {
        if (value < 0 && value != long.MinValue)
        {
            (double negated, string unit) = Scale(-value, from, to);
            return (-negated, unit);
        }

        foreach (Family family in s_families)
        {
            if (Sniff(family, from) is { } fromUnit)
            {
                double scaled = value * fromUnit.Factor;
                return Sniff(family, to) is { } toUnit
                    ? (scaled / toUnit.Factor, toUnit.Name)
                    : (scaled / family.Default.Factor, family.Default.Name);
            }
        }

        return to is "count" or "sample" or "unit" or "minimum" or "auto" ? (value, "") : (value, to);
    }

    /// <summary>The unit a spelling names in a family: case ignored, and a plural 's' dropped from names longer than two letters.</summary>
    private static Unit? Sniff(Family family, string spelling)
    {
        string name = spelling.ToLowerInvariant();
        if (name.Length > 2 && name.EndsWith('s'))
        {
            name = name[..^1];
        }

        foreach (Unit unit in family.Units)
        {
            if (Array.IndexOf(unit.Aliases, name) >= 0)
            {
                return unit;
            }
        }

        return null;
    }

    /// <summary>
    /// The unit of each numeric label key, as pprof decides it over all the samples: the first unit a sample gives the
    /// key; for a key no sample gives a unit, <c>bytes</c> for <c>alignment</c> and <c>request</c>, else the key itself.
    /// </summary>
    public static Dictionary<string, string> Of(IReadOnlyList<Profile> profiles)
    {
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Profile profile in profiles)
        {
            foreach (Label label in profile.AllLabels)
            {
                if (label.IsString)
                {
                    continue;
                }

                if (label.NumUnit is { Length: > 0 } unit)
                {
                    if (!units.TryGetValue(label.Key, out string? known) || known.Length == 0)
                    {
                        units[label.Key] = unit;
                    }
                }
                else
                {
                    units.TryAdd(label.Key, "");
                }
            }
        }

        foreach (string key in units.Keys.ToArray())
        {
            if (units[key].Length == 0)
            {
                units[key] = key is "alignment" or "request" ? "bytes" : key;
            }
        }

        return units;
    }
}

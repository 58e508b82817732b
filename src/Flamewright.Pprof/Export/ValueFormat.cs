using System.Globalization;

namespace Flamewright.Pprof.Export;

/// <summary>
/// Sample values for people, in one place: <see cref="Human"/> as <c>go tool pprof</c> prints them (the top table's
/// text), <see cref="Readable"/> for the SVG and the web UI.
/// </summary>
public static class ValueFormat
{
    private static readonly (double Factor, string Suffix)[] Times =
    [
        (1e9, "s"), (1e6, "ms"), (1e3, "us"), (1, "ns"), // pprof prints long times in seconds too
    ];

    private static readonly (double Factor, string Suffix)[] Sizes =
    [
        (1L << 50, "PB"), (1L << 40, "TB"), (1L << 30, "GB"), (1L << 20, "MB"), (1L << 10, "kB"), (1, "B"),
    ];

    /// <summary>Bytes and their binary multiples, as <see cref="Readable"/> writes them.</summary>
    private static readonly string[] BinarySizes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>e.g. <c>1.10s</c>, <c>512kB</c>, <c>1234</c>; units other than time and bytes print as plain integers.</summary>
    public static string Human(long value, string unit)
    {
        (double Factor, string Suffix)[]? scale = unit switch
        {
            "nanoseconds" or "ns" => Times,
            "bytes" or "B" => Sizes,
            _ => null,
        };
        if (scale is null)
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }

        double magnitude = Math.Abs((double)value);
        foreach ((double factor, string suffix) in scale)
        {
            if (magnitude >= factor || factor == 1)
            {
                // Go's "%.2f" rounds a tie half to even (1.125 → 1.12); .NET's formatting would round it up.
                string number = Math.Round(value / factor, 2, MidpointRounding.ToEven).ToString("0.##", CultureInfo.InvariantCulture);
                return number + suffix;
            }
        }

        return value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A value for people, by the sample type's unit: durations scaled to ns/µs/ms/s and bytes to KiB/MiB/…, with
    /// the exact integer after them when <paramref name="exact"/>; counts and unknown units as integers with thousands
    /// separators. Used by the SVG's tooltips; the web UI's <c>formatValue</c> (wwwroot/format.js) is its twin without
    /// the exact integer, and a browser test holds the two equal.
    /// </summary>
    public static string Readable(long value, string unit, bool exact = true)
    {
        string whole = value.ToString("N0", CultureInfo.InvariantCulture);
        double nanosPerUnit = TimeUnitNanos(unit, out string unitSymbol);
        if (nanosPerUnit > 0)
        {
            double nanos = value * nanosPerUnit;
            double magnitude = Math.Abs(nanos);
            (string symbol, double divisor) =
                magnitude >= 1e9 ? ("s", 1e9) : magnitude >= 1e6 ? ("ms", 1e6) : magnitude >= 1e3 ? ("\u00b5s", 1e3) : ("ns", 1);
            if (symbol == unitSymbol)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{whole} {unitSymbol}");
            }

            string scaled = string.Create(CultureInfo.InvariantCulture, $"{nanos / divisor:0.##} {symbol}");
            return exact ? $"{scaled} ({whole} {unitSymbol})" : scaled;
        }

        if (string.Equals(unit, "bytes", StringComparison.OrdinalIgnoreCase))
        {
            string[] units = BinarySizes;
            double size = value;
            int power = 0;
            while (Math.Abs(size) >= 1024 && power < units.Length - 1)
            {
                size /= 1024;
                power++;
            }

            if (power == 0)
            {
                return whole + " B";
            }

            string scaled = string.Create(CultureInfo.InvariantCulture, $"{size:0.##} {units[power]}");
            return exact ? $"{scaled} ({whole} B)" : scaled;
        }

        return unit.Length == 0 || string.Equals(unit, "count", StringComparison.OrdinalIgnoreCase)
            ? whole
            : whole + " " + unit;
    }

    private static double TimeUnitNanos(string unit, out string symbol)
    {
        (symbol, double nanos) = unit.ToUpperInvariant() switch
        {
            "NANOSECONDS" or "NANOSECOND" or "NS" => ("ns", 1d),
            "MICROSECONDS" or "MICROSECOND" or "US" => ("\u00b5s", 1e3),
            "MILLISECONDS" or "MILLISECOND" or "MS" => ("ms", 1e6),
            "SECONDS" or "SECOND" or "S" => ("s", 1e9),
            _ => ("", 0d),
        };
        return nanos;
    }

    /// <summary><c>12.34%</c>, with two decimals as pprof prints.</summary>
    public static string Percent(double percent) => percent.ToString("0.00", CultureInfo.InvariantCulture) + "%";
}

using System.Globalization;

namespace Flamewright.Pprof.Export;

/// <summary>Formats sample values for people: time and sizes scaled the way <c>go tool pprof</c> prints them.</summary>
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

    /// <summary><c>12.34%</c>, with two decimals as pprof prints.</summary>
    public static string Percent(double percent) => percent.ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
